/* kms_gen_data DIR N_NORMAL N_ANOMALY — the project's deterministic synthetic dataset (the demo
 * generator) as an image folder, so the key-store tests train on something small and quick. */
#include <dataset.h>

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: kms_gen_data DIR N_NORMAL N_ANOMALY\n");
        return 2;
    }
    lds_error err;
    if (lds_demo_generate(argv[1], atoi(argv[2]), atoi(argv[3]), 8, &err) != 0) {
        fprintf(stderr, "kms_gen_data: %s\n", err.message);
        return 1;
    }
    return 0;
}
