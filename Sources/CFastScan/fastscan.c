// Fast-scan kernels over the packed 4-bit layout described in include/fastscan.h: a portable
// C loop (the reference), AVX2 (two codebooks per 256-bit shuffle) and AVX-512BW (four per
// 512-bit shuffle). The SIMD kernels score several queries per pass over a block so the
// codes are loaded and split into nibbles once per block, not once per query.
#include "fastscan.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

struct dpq_fs_state {
    uint64_t *heap;       // max-heap of the `capacity` smallest keys
    size_t heap_count;
    size_t capacity;
    uint64_t *cand;       // margin > 0: keys within the margin when reported
    size_t cand_count;
    size_t cand_cap;
    uint32_t margin;
    uint32_t thr;         // report d <= thr
};

static inline size_t groups_of(int m) { return (size_t)((m + 3) / 4); }

size_t dpq_fs_packed_bytes(size_t n, int m) { return ((n + 31) / 32) * groups_of(m) * 64; }

static inline size_t code_offset(size_t G, size_t item, int i) {
    size_t b = item / 32, j = item % 32;
    return b * G * 64 + (size_t)(i / 4) * 64 + (size_t)(i % 4) * 16 + (j & 15);
}

void dpq_fs_pack(const uint8_t *codes, size_t n, int m, size_t stride, uint8_t *out) {
    size_t G = groups_of(m);
    memset(out, 0, dpq_fs_packed_bytes(n, m));
    for (size_t item = 0; item < n; item++) {
        const uint8_t *c = codes + item * stride;
        int shift = (item % 32) < 16 ? 0 : 4;
        for (int i = 0; i < m; i++) out[code_offset(G, item, i)] |= (uint8_t)((c[i] & 15) << shift);
    }
}

dpq_fs_state *dpq_fs_state_new(int capacity, int margin) {
    dpq_fs_state *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->capacity = capacity < 1 ? 1 : (size_t)capacity;
    s->heap = malloc(s->capacity * sizeof(uint64_t));
    s->margin = margin < 0 ? 0 : (uint32_t)margin;
    s->thr = 65535;
    if (s->margin) {
        s->cand_cap = 4 * s->capacity + 1024;
        s->cand = malloc(s->cand_cap * sizeof(uint64_t));
    }
    if (!s->heap || (s->margin && !s->cand)) {
        dpq_fs_state_free(s);
        return NULL;
    }
    return s;
}

void dpq_fs_state_free(dpq_fs_state *s) {
    if (!s) return;
    free(s->heap);
    free(s->cand);
    free(s);
}

const uint64_t *dpq_fs_state_heap(const dpq_fs_state *s, size_t *count) {
    *count = s->heap_count;
    return s->heap;
}

const uint64_t *dpq_fs_state_candidates(const dpq_fs_state *s, size_t *count) {
    *count = s->cand_count;
    return s->cand;
}

static void update_threshold(dpq_fs_state *s) {
    if (s->heap_count < s->capacity) {
        s->thr = 65535;
    } else {
        uint32_t w = (uint32_t)(s->heap[0] >> 32) + s->margin;
        s->thr = w > 65535 ? 65535 : w;
    }
}

static void heap_push(dpq_fs_state *s, uint64_t key) {
    uint64_t *h = s->heap;
    if (s->heap_count < s->capacity) {
        size_t i = s->heap_count++;
        while (i > 0) {
            size_t p = (i - 1) / 2;
            if (h[p] >= key) break;
            h[i] = h[p];
            i = p;
        }
        h[i] = key;
    } else if (key < h[0]) {
        size_t n = s->heap_count, i = 0;
        for (;;) {
            size_t c = 2 * i + 1;
            if (c >= n) break;
            if (c + 1 < n && h[c + 1] > h[c]) c++;
            if (h[c] <= key) break;
            h[i] = h[c];
            i = c;
        }
        h[i] = key;
    }
}

static void append_candidate(dpq_fs_state *s, uint64_t key) {
    if (s->cand_count == s->cand_cap) {
        size_t kept = 0;
        for (size_t i = 0; i < s->cand_count; i++)
            if ((uint32_t)(s->cand[i] >> 32) <= s->thr) s->cand[kept++] = s->cand[i];
        s->cand_count = kept;
        if (kept > s->cand_cap / 2) {
            uint64_t *grown = realloc(s->cand, 2 * s->cand_cap * sizeof(uint64_t));
            if (!grown) abort();  // out of memory mid-scan: nothing sensible to return
            s->cand = grown;
            s->cand_cap *= 2;
        }
    }
    s->cand[s->cand_count++] = key;
}

static inline void offer(dpq_fs_state *s, uint32_t d, size_t item) {
    uint64_t key = (uint64_t)d << 32 | (uint64_t)item;
    heap_push(s, key);
    update_threshold(s);
    if (s->margin && d <= s->thr) append_candidate(s, key);
}

// Bit `bit` of a block's 32-bit pass mask, in the order [even items 0-14 | odd items 1-15 |
// even items 16-30 | odd items 17-31], to the item's position in the block.
static inline size_t item_of_bit(int bit) {
    return (size_t)(((bit >> 4) << 4) + 2 * (bit & 7) + ((bit >> 3) & 1));
}

// Reports the passing items of a block: as ids[item] when ids is given (an inverted list's
// entries carry the collection's item numbers), skipping those whose bit in `allowed` is clear.
static inline void handle(dpq_fs_state *s, uint32_t mask, const uint16_t *d, size_t base, size_t n,
                          const uint32_t *ids, const uint64_t *allowed) {
    while (mask) {
        int bit = __builtin_ctz(mask);
        mask &= mask - 1;
        size_t item = base + item_of_bit(bit);
        if (item < n && d[bit] <= s->thr) {
            size_t id = ids ? (size_t)ids[item] : item;
            if (allowed && !((allowed[id >> 6] >> (id & 63)) & 1)) continue;
            offer(s, d[bit], id);
        }
    }
}

static void scan_portable(const uint8_t *packed, int m, size_t n, size_t b0, size_t nb,
                          const uint8_t *luts, int groups, int nq, dpq_fs_state *const *states,
                          const uint32_t *ids, const uint64_t *allowed) {
    size_t G = groups_of(m);
    for (size_t b = b0; b < b0 + nb; b++) {
        const uint8_t *blk = packed + b * G * 64;
        for (size_t j = 0; j < 32; j++) {
            size_t item = b * 32 + j;
            if (item >= n) break;
            int shift = j < 16 ? 0 : 4;
            for (int q = 0; q < nq; q++) {
                const uint8_t *lut = luts + (size_t)q * groups * 64;
                uint32_t d = 0;
                for (int g = 0; g < groups; g++)
                    for (int s = 0; s < 4; s++) {
                        int c = (blk[g * 64 + s * 16 + (j & 15)] >> shift) & 15;
                        d += lut[g * 64 + s * 16 + c];
                    }
                if (d <= states[q]->thr) {
                    size_t id = ids ? (size_t)ids[item] : item;
                    if (allowed && !((allowed[id >> 6] >> (id & 63)) & 1)) continue;
                    offer(states[q], d, id);
                }
            }
        }
    }
}

#if defined(__x86_64__)

#define AVX2_FN __attribute__((target("avx2")))
#define AVX2_INLINE __attribute__((target("avx2"), always_inline)) static inline

// A block's 4 x 8 sums (all, odd) of low and high items to the 32 distances in mask order,
// and the mask of those <= thr.
AVX2_INLINE uint32_t finish128(__m128i la, __m128i lo, __m128i ha, __m128i ho, uint32_t thr, uint16_t *out) {
    __m128i le = _mm_sub_epi16(la, _mm_slli_epi16(lo, 8));
    __m128i he = _mm_sub_epi16(ha, _mm_slli_epi16(ho, 8));
    __m128i t = _mm_set1_epi16((short)thr);
    __m128i c0 = _mm_cmpeq_epi16(_mm_min_epu16(le, t), le);
    __m128i c1 = _mm_cmpeq_epi16(_mm_min_epu16(lo, t), lo);
    __m128i c2 = _mm_cmpeq_epi16(_mm_min_epu16(he, t), he);
    __m128i c3 = _mm_cmpeq_epi16(_mm_min_epu16(ho, t), ho);
    uint32_t mask = (uint32_t)_mm_movemask_epi8(_mm_packs_epi16(c0, c1)) |
                    (uint32_t)_mm_movemask_epi8(_mm_packs_epi16(c2, c3)) << 16;
    if (mask) {
        _mm_storeu_si128((__m128i *)out, le);
        _mm_storeu_si128((__m128i *)(out + 8), lo);
        _mm_storeu_si128((__m128i *)(out + 16), he);
        _mm_storeu_si128((__m128i *)(out + 24), ho);
    }
    return mask;
}

AVX2_INLINE __m128i fold256(__m256i a) {
    return _mm_add_epi16(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
}

AVX2_INLINE void scan_avx2_body(const uint8_t *packed, size_t G, size_t n, size_t b0, size_t nb,
                                const uint8_t *luts, int groups, const int NQ, dpq_fs_state *const *st,
                                const uint32_t *ids, const uint64_t *allowed) {
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    uint16_t d[32];
    for (size_t b = b0; b < b0 + nb; b++) {
        const uint8_t *blk = packed + b * G * 64;
        __m256i la[2], lo[2], ha[2], ho[2];
        for (int q = 0; q < NQ; q++) la[q] = lo[q] = ha[q] = ho[q] = _mm256_setzero_si256();
        for (int h = 0; h < 2 * groups; h++) {
            __m256i c = _mm256_loadu_si256((const __m256i *)(blk + h * 32));
            __m256i cl = _mm256_and_si256(c, m4);
            __m256i ch = _mm256_and_si256(_mm256_srli_epi16(c, 4), m4);
            for (int q = 0; q < NQ; q++) {
                __m256i t = _mm256_loadu_si256((const __m256i *)(luts + ((size_t)q * groups * 64) + h * 32));
                __m256i dl = _mm256_shuffle_epi8(t, cl), dh = _mm256_shuffle_epi8(t, ch);
                la[q] = _mm256_add_epi16(la[q], dl);
                lo[q] = _mm256_add_epi16(lo[q], _mm256_srli_epi16(dl, 8));
                ha[q] = _mm256_add_epi16(ha[q], dh);
                ho[q] = _mm256_add_epi16(ho[q], _mm256_srli_epi16(dh, 8));
            }
        }
        for (int q = 0; q < NQ; q++) {
            uint32_t mask = finish128(fold256(la[q]), fold256(lo[q]), fold256(ha[q]), fold256(ho[q]), st[q]->thr, d);
            if (mask) handle(st[q], mask, d, b * 32, n, ids, allowed);
        }
    }
}

AVX2_FN static void scan_avx2_1(const uint8_t *p, size_t G, size_t n, size_t b0, size_t nb, const uint8_t *l, int g,
                                dpq_fs_state *const *s, const uint32_t *ids, const uint64_t *a) { scan_avx2_body(p, G, n, b0, nb, l, g, 1, s, ids, a); }
AVX2_FN static void scan_avx2_2(const uint8_t *p, size_t G, size_t n, size_t b0, size_t nb, const uint8_t *l, int g,
                                dpq_fs_state *const *s, const uint32_t *ids, const uint64_t *a) { scan_avx2_body(p, G, n, b0, nb, l, g, 2, s, ids, a); }

#define AVX512_FN __attribute__((target("avx512f,avx512bw,avx2")))
#define AVX512_INLINE __attribute__((target("avx512f,avx512bw,avx2"), always_inline)) static inline

AVX512_INLINE __m128i fold512(__m512i a) {
    __m256i s = _mm256_add_epi16(_mm512_castsi512_si256(a), _mm512_extracti64x4_epi64(a, 1));
    return _mm_add_epi16(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
}

AVX512_INLINE void scan_avx512_body(const uint8_t *packed, size_t G, size_t n, size_t b0, size_t nb,
                                    const uint8_t *luts, int groups, const int NQ, dpq_fs_state *const *st,
                                    const uint32_t *ids, const uint64_t *allowed) {
    const __m512i m4 = _mm512_set1_epi8(0x0f);
    uint16_t d[32];
    for (size_t b = b0; b < b0 + nb; b++) {
        const uint8_t *blk = packed + b * G * 64;
        __m512i la[4], lo[4], ha[4], ho[4];
        for (int q = 0; q < NQ; q++) la[q] = lo[q] = ha[q] = ho[q] = _mm512_setzero_si512();
        for (int g = 0; g < groups; g++) {
            __m512i c = _mm512_loadu_si512((const void *)(blk + g * 64));
            __m512i cl = _mm512_and_si512(c, m4);
            __m512i ch = _mm512_and_si512(_mm512_srli_epi16(c, 4), m4);
            for (int q = 0; q < NQ; q++) {
                __m512i t = _mm512_loadu_si512((const void *)(luts + ((size_t)q * groups + g) * 64));
                __m512i dl = _mm512_shuffle_epi8(t, cl), dh = _mm512_shuffle_epi8(t, ch);
                la[q] = _mm512_add_epi16(la[q], dl);
                lo[q] = _mm512_add_epi16(lo[q], _mm512_srli_epi16(dl, 8));
                ha[q] = _mm512_add_epi16(ha[q], dh);
                ho[q] = _mm512_add_epi16(ho[q], _mm512_srli_epi16(dh, 8));
            }
        }
        for (int q = 0; q < NQ; q++) {
            uint32_t mask = finish128(fold512(la[q]), fold512(lo[q]), fold512(ha[q]), fold512(ho[q]), st[q]->thr, d);
            if (mask) handle(st[q], mask, d, b * 32, n, ids, allowed);
        }
    }
}

AVX512_FN static void scan_avx512_1(const uint8_t *p, size_t G, size_t n, size_t b0, size_t nb, const uint8_t *l,
                                    int g, dpq_fs_state *const *s, const uint32_t *ids, const uint64_t *a) { scan_avx512_body(p, G, n, b0, nb, l, g, 1, s, ids, a); }
AVX512_FN static void scan_avx512_2(const uint8_t *p, size_t G, size_t n, size_t b0, size_t nb, const uint8_t *l,
                                    int g, dpq_fs_state *const *s, const uint32_t *ids, const uint64_t *a) { scan_avx512_body(p, G, n, b0, nb, l, g, 2, s, ids, a); }
AVX512_FN static void scan_avx512_4(const uint8_t *p, size_t G, size_t n, size_t b0, size_t nb, const uint8_t *l,
                                    int g, dpq_fs_state *const *s, const uint32_t *ids, const uint64_t *a) { scan_avx512_body(p, G, n, b0, nb, l, g, 4, s, ids, a); }

static int detect_kernel(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!((c >> 27) & 1) || !((c >> 28) & 1)) return 0;  // OSXSAVE and AVX
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    uint64_t xcr0 = (uint64_t)hi << 32 | lo;
    if ((xcr0 & 6) != 6) return 0;  // the OS saves SSE and AVX state
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int avx2 = (b >> 5) & 1, avx512f = (b >> 16) & 1, avx512bw = (b >> 30) & 1;
    if (avx512f && avx512bw && (xcr0 & 0xe6) == 0xe6) return 2;  // and opmask/ZMM state
    return avx2 ? 1 : 0;
}
#else
static int detect_kernel(void) { return 0; }
#endif

static atomic_int best_kernel = -1, chosen_kernel = -1;

int dpq_fs_kernel(void) {
    int k = atomic_load(&chosen_kernel);
    if (k >= 0) return k;
    int best = detect_kernel();
    atomic_store(&best_kernel, best);
    int expected = -1;
    atomic_compare_exchange_strong(&chosen_kernel, &expected, best);
    return atomic_load(&chosen_kernel);
}

int dpq_fs_set_kernel(int kernel) {
    dpq_fs_kernel();
    int best = atomic_load(&best_kernel);
    int k = kernel < 0 ? 0 : kernel > best ? best : kernel;
    atomic_store(&chosen_kernel, k);
    return k;
}

void dpq_fs_scan_ids(const uint8_t *packed, int m, size_t n, size_t first_block, size_t nblocks,
                     const uint8_t *luts, int groups, int nq, dpq_fs_state *const *states,
                     const uint32_t *ids, const uint64_t *allowed) {
    if (nq <= 0 || nblocks == 0 || groups <= 0) return;
    size_t G = groups_of(m);
    if ((size_t)groups > G) groups = (int)G;
    size_t lut_stride = (size_t)groups * 64;
    int kernel = dpq_fs_kernel();
#if defined(__x86_64__)
    if (kernel == 2) {
        int q = 0;
        for (; q + 4 <= nq; q += 4) scan_avx512_4(packed, G, n, first_block, nblocks, luts + q * lut_stride, groups, states + q, ids, allowed);
        for (; q + 2 <= nq; q += 2) scan_avx512_2(packed, G, n, first_block, nblocks, luts + q * lut_stride, groups, states + q, ids, allowed);
        for (; q < nq; q++) scan_avx512_1(packed, G, n, first_block, nblocks, luts + q * lut_stride, groups, states + q, ids, allowed);
        return;
    }
    if (kernel == 1) {
        int q = 0;
        for (; q + 2 <= nq; q += 2) scan_avx2_2(packed, G, n, first_block, nblocks, luts + q * lut_stride, groups, states + q, ids, allowed);
        for (; q < nq; q++) scan_avx2_1(packed, G, n, first_block, nblocks, luts + q * lut_stride, groups, states + q, ids, allowed);
        return;
    }
#endif
    (void)kernel;
    scan_portable(packed, m, n, first_block, nblocks, luts, groups, nq, states, ids, allowed);
}

void dpq_fs_scan(const uint8_t *packed, int m, size_t n, size_t first_block, size_t nblocks,
                 const uint8_t *luts, int groups, int nq, dpq_fs_state *const *states) {
    dpq_fs_scan_ids(packed, m, n, first_block, nblocks, luts, groups, nq, states, NULL, NULL);
}
