/* TEMPORARY: placeholder so the binary links while engine/cli is written in parallel. */
#include "engine.h"
#include <stdio.h>
int lo_cli_main(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "lookout: not implemented yet\n"); return 255; }
