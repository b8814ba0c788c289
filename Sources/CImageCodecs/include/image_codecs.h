// PNG and JPEG decoding through libpng and libjpeg(-turbo), for the ImageFiles target.
//
// Both libraries report fatal errors through a callback that must not return: libpng's default
// longjmps (or aborts), libjpeg's default error_exit calls exit(). Swift cannot call setjmp, so
// each decode runs here, in one C function that owns its jmp_buf, turns every library error and
// warning into a message in `out->error` and returns -1. Nothing here prints, exits or aborts.
#ifndef DPQ_IMAGE_CODECS_H
#define DPQ_IMAGE_CODECS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dpq_image {
    int width;
    int height;
    int channels;           // 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA
    unsigned char *pixels;  // height x width x channels bytes, row-major (HWC); free with dpq_image_free
    char error[256];        // why decoding failed, when a decode returns -1
} dpq_image;

// want_channels: 0 = as stored (PNG: gray 1, gray + alpha 2, RGB 3, RGBA 4, palette 3 or 4 with
// transparency; JPEG: gray 1, colour 3); 1 = gray (colour converted with the luma weights
// 0.299 R + 0.587 G + 0.114 B, alpha dropped); 3 = RGB (gray replicated, alpha dropped).
// PNG samples of 1, 2 or 4 bits are scaled to 0..255, 16-bit samples to 8 bits (rounded,
// libpng's png_set_scale_16); no gamma or colour-profile correction: values are as stored.
// max_bytes bounds the decoded size (height x width x channels); larger images are refused.
// Returns 0 on success, -1 with out->error set (and out->pixels NULL) on failure.
int dpq_png_decode(const unsigned char *data, size_t size, int want_channels, size_t max_bytes, dpq_image *out);
int dpq_jpeg_decode(const unsigned char *data, size_t size, int want_channels, size_t max_bytes, dpq_image *out);

void dpq_image_free(dpq_image *image);

#ifdef __cplusplus
}
#endif

#endif
