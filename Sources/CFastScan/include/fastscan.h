// Fast scan of 4-bit codes (K = 16): in-register table lookups with 8-bit tables and 16-bit sums.
//
// For a query, each of the m codebooks' 16 float table entries is turned into a byte,
//     L_i[c] = round((max_c T_i[c] - T_i[c]) * a),   a = 255 / max_i (max T_i - min T_i),
// so the distance d(x) = sum_i L_i[b_i] is lower-is-better, fits 16 bits for m <= 257, and
// is a * (sum_i max T_i - <q, x_hat>) up to m/2 units of rounding. A byte shuffle
// (pshufb) looks 16/32/64 entries up at once, which is the whole trick (faiss's PQ/RQ
// FastScan, after Andre et al.): one instruction scores 16 items on 4 codebooks.
//
// Packed layout: items in blocks of 32; codebooks in groups of 4 (the last group padded
// with code 0 and a zero table). Block b, group g is 64 bytes: 16 bytes per codebook
// i = 4g..4g+3, whose byte j holds item 32b+j's code (low nibble) and item 32b+j+16's
// code (high nibble). Items past n in the last block are zero and never reported.
//
// Sums are kept as 16-bit lanes of two items each: adding the 16-bit word (even + 256*odd)
// and, separately, word >> 8 (odd) gives the even sum as all - (odd << 8) modulo 2^16,
// exact while every sum stays below 2^16.
//
// Candidates: a max-heap keeps the `capacity` smallest keys (d << 32 | item) seen; an item
// is reported if d <= (the heap's worst d, or 65535 while it is not full) + margin. With
// margin 0 the heap is the answer; with a margin the reported items are also appended to
// a candidate list, which then holds every item within `margin` of the final capacity-th
// distance (used for exact re-ranking).
#ifndef DPQ_FASTSCAN_H
#define DPQ_FASTSCAN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Bytes of the packed layout of n items with m codes each.
size_t dpq_fs_packed_bytes(size_t n, int m);

/// Packs n items' m codes (one byte each, < 16; item i's codes at codes + i * stride) into
/// `out`, which must hold dpq_fs_packed_bytes(n, m) bytes.
void dpq_fs_pack(const uint8_t *codes, size_t n, int m, size_t stride, uint8_t *out);

typedef struct dpq_fs_state dpq_fs_state;

/// A scan state keeping the `capacity` best keys, reporting with `margin` (see above).
dpq_fs_state *dpq_fs_state_new(int capacity, int margin);
void dpq_fs_state_free(dpq_fs_state *state);
/// The heap's keys (d << 32 | item), unordered.
const uint64_t *dpq_fs_state_heap(const dpq_fs_state *state, size_t *count);
/// The candidate keys (margin > 0 only), unordered; may hold keys outside the final margin.
const uint64_t *dpq_fs_state_candidates(const dpq_fs_state *state, size_t *count);

/// Scans blocks [first_block, first_block + nblocks) of `packed` (m codebooks, n items in
/// all) for nq queries (scored 4 at a time per block). luts holds nq tables of groups * 64 bytes
/// (groups = ceil(m_used / 4), m_used <= m; codebooks in [m_used, 4 * groups) must have zero
/// tables), states[j] receives query j's candidates. Only the first `groups` groups of
/// each block are read, so a prefix of the codes costs its own length.
void dpq_fs_scan(const uint8_t *packed, int m, size_t n, size_t first_block, size_t nblocks,
                 const uint8_t *luts, int groups, int nq, dpq_fs_state *const *states);

/// The same, for an inverted list: an item at position i of the block range is reported as
/// ids[i] (ids == NULL: as i), and only when bit ids[i] of `allowed` is set (allowed == NULL:
/// always). Keys then carry those ids, so one state can collect several lists' items.
void dpq_fs_scan_ids(const uint8_t *packed, int m, size_t n, size_t first_block, size_t nblocks,
                     const uint8_t *luts, int groups, int nq, dpq_fs_state *const *states,
                     const uint32_t *ids, const uint64_t *allowed);

/// The kernel in use: 2 = AVX-512BW, 1 = AVX2, 0 = portable C. Chosen from the CPU at
/// the first call; dpq_fs_set_kernel lowers it (tests compare kernels) and returns the
/// kernel actually set (never above what the CPU has).
int dpq_fs_kernel(void);
int dpq_fs_set_kernel(int kernel);

#ifdef __cplusplus
}
#endif
#endif
