// OpenBLAS from Debian's libopenblas-dev: CBLAS plus openblas_set_num_threads.
#include <cblas.h>

// LAPACK's symmetric eigensolver (Fortran symbol in libopenblas; Debian ships no lapacke.h
// with it). Column-major; eigenvalues ascending in w, eigenvectors in the columns of a.
void ssyevd_(const char *jobz, const char *uplo, const int *n, float *a, const int *lda, float *w,
             float *work, const int *lwork, int *iwork, const int *liwork, int *info);

// glibc's allocator tuning (LargeAllocations.swift): not part of BLAS, but this is the engine's
// one C module, and Swift's Glibc module leaves <malloc.h> out.
#if defined(__GLIBC__)
#include <malloc.h>
#endif
