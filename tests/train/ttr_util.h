/* ttr_util.h — a tiny check macro for the training tests. */
#ifndef TTR_UTIL_H
#define TTR_UTIL_H
#include <stdio.h>
#include <stdlib.h>
static int ttr_failures;
#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
            ttr_failures++;                                                     \
        }                                                                       \
    } while (0)
#define TTR_DONE() (ttr_failures ? (fprintf(stderr, "%d failure(s)\n", ttr_failures), 1) : 0)
#endif
