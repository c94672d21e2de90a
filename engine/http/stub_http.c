/* TEMPORARY: placeholder so the binary links while engine/http is written in parallel. */
#include "http.h"
#include <stdio.h>
int lo_http_serve_main(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "serve: not implemented yet\n"); return 255; }
int lo_http_access_key_main(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "create-access-key: not implemented yet\n"); return 255; }
