// OpenBLAS from Debian's libopenblas-dev: CBLAS plus openblas_set_num_threads.
#include <cblas.h>
