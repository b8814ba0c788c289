// The fused nearest-centroid kernel of include/nearest.h: one portable body, compiled three
// times (AVX-512, AVX2 + FMA, baseline) and chosen once by cpuid, as fastscan.c does.
#include "nearest.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

#define LANES 16
#define ITEMS 8  // 8 accumulators keep both FMA ports busy (4 left half their throughput: 1.2-1.5x measured)

size_t dpq_nearest_panels(size_t nlist) { return (nlist + LANES - 1) / LANES; }

void dpq_nearest_pack(const float *centroids, size_t nlist, size_t d, float *panels, float *norms) {
    size_t count = dpq_nearest_panels(nlist);
    memset(panels, 0, count * d * LANES * sizeof(float));
    for (size_t j = 0; j < count * LANES; j++) norms[j] = INFINITY;
    for (size_t j = 0; j < nlist; j++) {
        float s = 0;
        for (size_t k = 0; k < d; k++) {
            float v = centroids[j * d + k];
            panels[(j / LANES) * d * LANES + k * LANES + j % LANES] = v;
            s += v * v;
        }
        norms[j] = s;
    }
}

// Rows i..i+ITEMS-1 (the last ones repeated past n; their answers are not written).
__attribute__((always_inline)) static inline void nearest_body(const float *x, size_t n, size_t d, const float *panels,
                                                               const float *norms, size_t nlist, int32_t *out) {
    size_t count = dpq_nearest_panels(nlist);
    for (size_t i = 0; i < n; i += ITEMS) {
        const float *rows[ITEMS];
        for (int r = 0; r < ITEMS; r++) rows[r] = x + (i + r < n ? i + r : n - 1) * d;
        float best[ITEMS][LANES];
        int32_t index[ITEMS][LANES];
        for (int r = 0; r < ITEMS; r++)
            for (int l = 0; l < LANES; l++) { best[r][l] = -INFINITY; index[r][l] = 0; }
        for (size_t p = 0; p < count; p++) {
            const float *panel = panels + p * d * LANES;
            float acc[ITEMS][LANES];
            memset(acc, 0, sizeof acc);
            for (size_t k = 0; k < d; k++) {
                const float *c = panel + k * LANES;
                for (int r = 0; r < ITEMS; r++) {
                    float v = rows[r][k];
                    for (int l = 0; l < LANES; l++) acc[r][l] += v * c[l];
                }
            }
            const float *nrm = norms + p * LANES;
            for (int r = 0; r < ITEMS; r++)
                for (int l = 0; l < LANES; l++) {
                    float s = 2 * acc[r][l] - nrm[l];
                    int better = s > best[r][l];
                    best[r][l] = better ? s : best[r][l];
                    index[r][l] = better ? (int32_t)(p * LANES + l) : index[r][l];
                }
        }
        for (int r = 0; r < ITEMS && i + r < n; r++) {
            // Within a lane the first best index was kept; across lanes, the smallest index of the best score.
            float s = best[r][0];
            int32_t j = index[r][0];
            for (int l = 1; l < LANES; l++)
                if (best[r][l] > s || (best[r][l] == s && index[r][l] < j)) { s = best[r][l]; j = index[r][l]; }
            out[i + r] = j;
        }
    }
}

// out[i * nlist + j] = <x_i, c_j>: the same panel loop, the sums stored instead of compared.
__attribute__((always_inline)) static inline void products_body(const float *x, size_t n, size_t d, const float *panels,
                                                                size_t nlist, float *out) {
    size_t count = dpq_nearest_panels(nlist);
    for (size_t i = 0; i < n; i += ITEMS) {
        const float *rows[ITEMS];
        for (int r = 0; r < ITEMS; r++) rows[r] = x + (i + r < n ? i + r : n - 1) * d;
        for (size_t p = 0; p < count; p++) {
            const float *panel = panels + p * d * LANES;
            float acc[ITEMS][LANES];
            memset(acc, 0, sizeof acc);
            for (size_t k = 0; k < d; k++) {
                const float *c = panel + k * LANES;
                for (int r = 0; r < ITEMS; r++) {
                    float v = rows[r][k];
                    for (int l = 0; l < LANES; l++) acc[r][l] += v * c[l];
                }
            }
            // A constant-size copy for full panels: a variable one kept clang from holding acc in registers (10x slower).
            if ((p + 1) * LANES <= nlist) {
                for (int r = 0; r < ITEMS && i + r < n; r++) memcpy(out + (i + r) * nlist + p * LANES, acc[r], sizeof acc[r]);
            } else {
                for (int r = 0; r < ITEMS && i + r < n; r++)
                    for (size_t l = 0; p * LANES + l < nlist; l++) out[(i + r) * nlist + p * LANES + l] = acc[r][l];
            }
        }
    }
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx2,fma"))) static void nearest_avx512(const float *x, size_t n, size_t d, const float *p,
                                                                      const float *nr, size_t nlist, int32_t *out) {
    nearest_body(x, n, d, p, nr, nlist, out);
}
__attribute__((target("avx2,fma"))) static void nearest_avx2(const float *x, size_t n, size_t d, const float *p,
                                                            const float *nr, size_t nlist, int32_t *out) {
    nearest_body(x, n, d, p, nr, nlist, out);
}

// One row (the rows past a multiple of 8: a single query's probe), 4 panels at a time so that
// 4 independent sums keep the FMA units busy, instead of 8 copies of the row.
__attribute__((target("avx512f,avx2,fma"))) static void products_avx512_row(const float *row, size_t d, const float *panels,
                                                                           size_t nlist, float *out) {
    size_t count = dpq_nearest_panels(nlist);
    for (size_t p = 0; p < count; p += 4) {
        int group = count - p < 4 ? (int)(count - p) : 4;
        __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
        for (size_t k = 0; k < d; k++) {
            __m512 v = _mm512_set1_ps(row[k]);
            for (int g = 0; g < group; g++) acc[g] = _mm512_fmadd_ps(v, _mm512_loadu_ps(panels + (p + g) * d * LANES + k * LANES), acc[g]);
        }
        for (int g = 0; g < group; g++) {
            size_t first = (p + g) * LANES;
            size_t lanes = nlist - first < LANES ? nlist - first : LANES;
            _mm512_mask_storeu_ps(out + first, (__mmask16)((1u << lanes) - 1), acc[g]);
        }
    }
}

// Written with intrinsics: from the portable body clang vectorized across the 8 rows with
// gathers (40x slower than this).
__attribute__((target("avx512f,avx2,fma"))) static void products_avx512(const float *x, size_t n, size_t d, const float *panels,
                                                                       size_t nlist, float *out) {
    size_t count = dpq_nearest_panels(nlist);
    size_t full = n - n % ITEMS;
    for (size_t i = full; i < n; i++) products_avx512_row(x + i * d, d, panels, nlist, out + i * nlist);
    for (size_t i = 0; i < full; i += ITEMS) {
        const float *rows[ITEMS];
        for (int r = 0; r < ITEMS; r++) rows[r] = x + (i + r) * d;
        for (size_t p = 0; p < count; p++) {
            const float *panel = panels + p * d * LANES;
            __m512 acc[ITEMS];
            for (int r = 0; r < ITEMS; r++) acc[r] = _mm512_setzero_ps();
            for (size_t k = 0; k < d; k++) {
                __m512 c = _mm512_loadu_ps(panel + k * LANES);
                for (int r = 0; r < ITEMS; r++) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(rows[r][k]), c, acc[r]);
            }
            size_t lanes = nlist - p * LANES < LANES ? nlist - p * LANES : LANES;
            __mmask16 mask = (__mmask16)((1u << lanes) - 1);
            for (int r = 0; r < ITEMS && i + r < n; r++) _mm512_mask_storeu_ps(out + (i + r) * nlist + p * LANES, mask, acc[r]);
        }
    }
}
__attribute__((target("avx2,fma"))) static void products_avx2(const float *x, size_t n, size_t d, const float *p,
                                                             size_t nlist, float *out) {
    products_body(x, n, d, p, nlist, out);
}

static int nearest_level(void) {
    unsigned a, b, c, dd;
    if (!__get_cpuid(1, &a, &b, &c, &dd)) return 0;
    int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1;
    if (!osxsave) return 0;
    unsigned lo, hi;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    unsigned long long xcr0 = ((unsigned long long)hi << 32) | lo;
    if ((xcr0 & 6) != 6) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &dd)) return 0;
    int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1;
    if (avx512f && fma && (xcr0 & 0xe6) == 0xe6) return 2;
    return avx2 && fma ? 1 : 0;
}
#endif

static void products_plain(const float *x, size_t n, size_t d, const float *p, size_t nlist, float *out) {
    products_body(x, n, d, p, nlist, out);
}

static void nearest_plain(const float *x, size_t n, size_t d, const float *p, const float *nr, size_t nlist, int32_t *out) {
    nearest_body(x, n, d, p, nr, nlist, out);
}

static int level_of_cpu(void) {
#if defined(__x86_64__)
    static _Atomic int level = -1;
    int l = atomic_load_explicit(&level, memory_order_relaxed);
    if (l < 0) {
        l = nearest_level();
        atomic_store_explicit(&level, l, memory_order_relaxed);
    }
    return l;
#else
    return 0;
#endif
}

void dpq_nearest(const float *x, size_t n, size_t d, const float *panels, const float *norms, size_t nlist, int32_t *out) {
    if (n == 0 || nlist == 0) return;
#if defined(__x86_64__)
    int l = level_of_cpu();
    if (l == 2) { nearest_avx512(x, n, d, panels, norms, nlist, out); return; }
    if (l == 1) { nearest_avx2(x, n, d, panels, norms, nlist, out); return; }
#endif
    nearest_plain(x, n, d, panels, norms, nlist, out);
}

void dpq_panel_products(const float *x, size_t n, size_t d, const float *panels, size_t nlist, float *out) {
    if (n == 0 || nlist == 0) return;
#if defined(__x86_64__)
    int l = level_of_cpu();
    if (l == 2) { products_avx512(x, n, d, panels, nlist, out); return; }
    if (l == 1) { products_avx2(x, n, d, panels, nlist, out); return; }
#endif
    products_plain(x, n, d, panels, nlist, out);
}
