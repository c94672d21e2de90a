/* kfold_demo_data.c — writes a small demo dataset (ImageFolder layout with masks) for the k-fold
 * test: kfold_demo_data FOLDER N_NORMAL N_ANOMALY. */
#include <dataset.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s FOLDER N_NORMAL N_ANOMALY\n", argv[0]);
        return 2;
    }
    lds_error err = {{0}};
    if (lds_demo_generate(argv[1], atoi(argv[2]), atoi(argv[3]), 7, &err) != 0) {
        fprintf(stderr, "%s: %s\n", argv[1], err.message);
        return 1;
    }
    return 0;
}
