/* TEMPORARY: keeps the library non-empty until kernels/ lands; removed by the kernels owner. */
#include "kernels.h"
const char *lk_path_name(void) { return "ref"; }
