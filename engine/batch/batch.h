/* batch.h — `lookout batch-detect`: scores a folder or a Ground Truth manifest of images with a
 * trained model version, streaming, and writes one JSON line per image (plus the metrics and the
 * report when the images are labelled) under $LOOKOUT_S3_ROOT. An extension of Lookout for Vision
 * (issue 6 item 6). Internal to engine/ (the CLI registers it). */
#ifndef LOOKOUT_BATCH_H
#define LOOKOUT_BATCH_H

/* argv[0] is the command name. Exit codes as the CLI: 0, 252 usage, 254 service error. */
int lo_batch_detect_main(int argc, char **argv);

#endif
