/* kernels.h — the one public header of kernels/ (being written; see issue 3). */
#ifndef LOOKOUT_KERNELS_H
#define LOOKOUT_KERNELS_H
/* Name of the convolution path in use: "avx512", "avx2", "blas" or "ref". */
const char *lk_path_name(void);
#endif
