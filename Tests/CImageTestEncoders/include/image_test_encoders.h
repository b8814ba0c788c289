// Test-only: PNG and JPEG writers through libpng's and libjpeg's own encoders, so the tests of
// ImageFiles can make every PNG colour type, bit depth and interlacing, and JPEGs, without
// committed binaries. Errors are caught with setjmp like the decoders'; return 0 or -1.
#ifndef DPQ_IMAGE_TEST_ENCODERS_H
#define DPQ_IMAGE_TEST_ENCODERS_H

#include <stddef.h>

// rows: height rows of packed samples as PNG stores them (bit depths below 8 packed
// big-endian within bytes; 16-bit samples big-endian), ceil(width * channels * bit_depth / 8)
// bytes each. color_type: 0 gray, 2 RGB, 3 palette, 4 gray + alpha, 6 RGBA. palette: rgb
// triples (palette_entries of them); trns: alpha per palette entry (trns_entries), or NULL.
int dpq_test_png_write(const char *path, int width, int height, int color_type, int bit_depth, int interlaced,
                       const unsigned char *rows, const unsigned char *palette, int palette_entries,
                       const unsigned char *trns, int trns_entries, char *error, size_t error_size);

// pixels: height x width x channels (1 gray, 3 RGB), quality 1..100.
int dpq_test_jpeg_write(const char *path, int width, int height, int channels, int quality,
                        const unsigned char *pixels, char *error, size_t error_size);

#endif
