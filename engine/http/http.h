/* http.h — `lookout serve` (the Lookout for Vision REST-JSON API over libmicrohttpd, SigV4 auth)
 * and `lookout create-access-key`. Internal to engine/; the CLI dispatches to these. */
#ifndef LOOKOUT_HTTP_H
#define LOOKOUT_HTTP_H

/* argv[0] is the command name ("serve" / "create-access-key"); returns the exit code. */
int lo_http_serve_main(int argc, char **argv);
int lo_http_access_key_main(int argc, char **argv);

#endif
