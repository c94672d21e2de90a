/* The lookout binary: everything happens in the engine's CLI. */
#include "engine.h"

int main(int argc, char **argv) { return lo_cli_main(argc, argv); }
