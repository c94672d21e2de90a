/* accuracy_protocol.h — the train/test parts of a shared dataset for the accuracy benchmark. */
#ifndef LOOKOUT_ACCURACY_PROTOCOL_H
#define LOOKOUT_ACCURACY_PROTOCOL_H

#include <stddef.h>

typedef struct {
    int train_normal, train_anomaly, test_normal, test_anomaly;
    int used_manifest_split;
} acc_split_counts;

/* Builds train_dir and test_dir as ImageFolder trees of symlinks into data_dir (which must hold
 * manifest.csv). max_train_normal: 0 = keep all. normal_only: the normal-only protocol (see
 * accuracy_protocol.c). 0 on success, -1 with err. */
int acc_protocol_prepare(const char *data_dir, int max_train_normal, int normal_only, const char *train_dir,
                         const char *test_dir, acc_split_counts *counts, char *err, size_t errlen);

#endif
