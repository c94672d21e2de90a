/* engine.h — the one public header of engine/: the lookout command line and its service.
 * Networks, training, the service, the CLI and the HTTP endpoint are rooms of engine/ with
 * internal headers (net/net.h, train/train.h, service/service.h, http/http.h).
 */
#ifndef LOOKOUT_ENGINE_H
#define LOOKOUT_ENGINE_H

/* Runs `lookout <command> [options]`; returns the process exit code (0, 252 usage, 254 service
 * error, 255 other failure), as the AWS CLI does. */
int lo_cli_main(int argc, char **argv);

#endif
