// Nearest centroid by squared L2 without the N x nlist product matrix:
//     best_i = argmax_j (2 <x_i, c_j> - ||c_j||^2) = argmin_j ||x_i - c_j||^2,  ties to the smaller j.
// A GEMM followed by an argmin writes and re-reads nlist floats per item, which for an IVF
// coarse assignment (D = 32, nlist in the thousands: 64 multiply-adds per float written) makes
// memory, not arithmetic, the limit. Here the dot products of 8 items with 16 centroids at a
// time stay in registers and each lane keeps its own best score and index, so a centroid costs
// D fused multiply-adds and one compare per item.
//
// Centroids are packed in panels of 16: panel p holds centroids 16p..16p+15 as D rows of 16
// floats (row k = coordinate k of each). The last panel is padded with zero centroids whose
// norm is +infinity, so they never win. Each lane sums over k in order, so the result does not
// depend on the instruction set chosen at run time (AVX-512, AVX2 with FMA, or plain C) except
// through fused versus separate multiply-add rounding.
#ifndef DPQ_NEAREST_H
#define DPQ_NEAREST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Panels for nlist centroids: (nlist + 15) / 16.
size_t dpq_nearest_panels(size_t nlist);

/// Packs `centroids` (nlist x d, row-major) into `panels` (dpq_nearest_panels(nlist) * d * 16
/// floats) and their squared norms into `norms` (dpq_nearest_panels(nlist) * 16 floats).
void dpq_nearest_pack(const float *centroids, size_t nlist, size_t d, float *panels, float *norms);

/// out[i] = the nearest packed centroid to row i of x (n x d, row-major).
void dpq_nearest(const float *x, size_t n, size_t d, const float *panels, const float *norms, size_t nlist,
                 int32_t *out);

/// out[i * nlist + j] = <x_i, c_j> for the packed centroids (IVF probing: the scores of a few
/// queries against thousands of lists, where an sgemm per query re-packs every centroid).
void dpq_panel_products(const float *x, size_t n, size_t d, const float *panels, size_t nlist, float *out);

#ifdef __cplusplus
}
#endif

#endif
