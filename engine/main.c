/* The lookout binary: everything happens in the engine's CLI. */
#define _GNU_SOURCE
#include "engine.h"

#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    /* libgomp reads its wait policy when it loads, before main: by default an idle OpenMP thread
     * spins for 300000 iterations before sleeping, which steals the cores from whatever else runs
     * on the box (serve answering detects while a model trains, a second training). Measured with
     * one other 2-thread training on the 2 cores: compact-fcn training step 237 ms by default,
     * 75 ms with GOMP_SPINCOUNT=10000. So, unless the user chose a policy, start again with a
     * short spin (the environment is inherited by the training worker). */
    if (!getenv("GOMP_SPINCOUNT") && !getenv("OMP_WAIT_POLICY")) {
        setenv("GOMP_SPINCOUNT", "10000", 1);
        execv("/proc/self/exe", argv);
        /* /proc unavailable: go on with the default policy */
    }
    return lo_cli_main(argc, argv);
}
