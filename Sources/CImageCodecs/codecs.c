// See include/image_codecs.h. The decoding is libpng's and libjpeg's; this file only drives them
// from memory and catches their errors with setjmp/longjmp.
#include "image_codecs.h"

#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <jpeglib.h>

void dpq_image_free(dpq_image *image) {
    if (!image) return;
    free(image->pixels);
    image->pixels = NULL;
}

static void fail(dpq_image *out, const char *message) {
    snprintf(out->error, sizeof out->error, "%s", message);
}

/// height * row_bytes, or 0 when it overflows or exceeds max_bytes.
static size_t checked_size(size_t height, size_t row_bytes, size_t max_bytes) {
    if (height == 0 || row_bytes == 0) return 0;
    if (row_bytes > SIZE_MAX / height) return 0;
    size_t total = height * row_bytes;
    return total > max_bytes ? 0 : total;
}

// MARK: PNG

typedef struct {
    const unsigned char *data;
    size_t size;
    size_t position;
} png_memory_source;

static void png_read_memory(png_structp png, png_bytep into, size_t length) {
    png_memory_source *source = (png_memory_source *)png_get_io_ptr(png);
    if (source->size - source->position < length) {
        png_error(png, "truncated file: the data ends before the image does");
    }
    memcpy(into, source->data + source->position, length);
    source->position += length;
}

static void png_on_error(png_structp png, png_const_charp message) {
    dpq_image *out = (dpq_image *)png_get_error_ptr(png);
    fail(out, message);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp message) {
    // Benign (unknown ancillary chunks, bad profiles): the pixels are still right.
    (void)png;
    (void)message;
}

int dpq_png_decode(const unsigned char *data, size_t size, int want_channels, size_t max_bytes, dpq_image *out) {
    memset(out, 0, sizeof *out);
    if (want_channels != 0 && want_channels != 1 && want_channels != 3) {
        fail(out, "channels must be 0 (as stored), 1 or 3");
        return -1;
    }
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        fail(out, "not a PNG file (bad signature)");
        return -1;
    }
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, out, png_on_error, png_on_warning);
    if (!png) {
        fail(out, "out of memory");
        return -1;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        fail(out, "out of memory");
        return -1;
    }
    png_memory_source source = {data, size, 0};
    unsigned char *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(pixels);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return -1;
    }
    png_set_read_fn(png, &source, png_read_memory);
    png_read_info(png, info);

    png_uint_32 width = png_get_image_width(png, info);
    png_uint_32 height = png_get_image_height(png, info);
    int color_type = png_get_color_type(png, info);
    int bit_depth = png_get_bit_depth(png, info);
    int has_color = (color_type & PNG_COLOR_MASK_COLOR) != 0;  // RGB, RGBA and palette
    int has_trns = png_get_valid(png, info, PNG_INFO_tRNS) != 0;

    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (has_trns && want_channels == 0) png_set_tRNS_to_alpha(png);
    if (bit_depth == 16) png_set_scale_16(png);
    if (want_channels != 0) {
        // Alpha (stored, or a palette's tRNS, which expansion turns into alpha) is dropped, not
        // composited over a background.
        if ((color_type & PNG_COLOR_MASK_ALPHA) || has_trns) png_set_strip_alpha(png);
        if (want_channels == 1 && has_color) png_set_rgb_to_gray_fixed(png, PNG_ERROR_ACTION_NONE, 29900, 58700);
        if (want_channels == 3 && !has_color) png_set_gray_to_rgb(png);
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int channels = png_get_channels(png, info);
    size_t row_bytes = png_get_rowbytes(png, info);
    if (png_get_bit_depth(png, info) != 8 || row_bytes != (size_t)width * (size_t)channels) {
        png_error(png, "unsupported PNG layout after conversion to 8-bit samples");
    }
    if (want_channels != 0 && channels != want_channels) {
        png_error(png, "libpng did not convert to the requested number of channels");
    }
    size_t total = checked_size(height, row_bytes, max_bytes);
    if (total == 0) {
        char message[160];
        snprintf(message, sizeof message, "image of %lu x %lu x %d is too large (limit %zu bytes decoded)",
                 (unsigned long)height, (unsigned long)width, channels, max_bytes);
        png_error(png, message);
    }
    pixels = (unsigned char *)malloc(total);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * height);
    if (!pixels || !rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + (size_t)y * row_bytes;
    png_read_image(png, rows);
    png_read_end(png, NULL);

    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    out->width = (int)width;
    out->height = (int)height;
    out->channels = channels;
    out->pixels = pixels;
    return 0;
}

// MARK: JPEG

typedef struct {
    struct jpeg_error_mgr manager;  // first, so that cinfo->err can be cast to this
    jmp_buf jump;
    dpq_image *out;
} jpeg_failure;

static void jpeg_on_error(j_common_ptr cinfo) {
    jpeg_failure *failure = (jpeg_failure *)cinfo->err;
    char message[JMSG_LENGTH_MAX];
    cinfo->err->format_message(cinfo, message);
    fail(failure->out, message);
    longjmp(failure->jump, 1);
}

static void jpeg_on_message(j_common_ptr cinfo, int level) {
    // level -1 is a warning: corrupt data (a truncated file among them: "Premature end of JPEG
    // file") that libjpeg would paper over with gray pixels. It is an error here. Trace
    // messages (level >= 0) are ignored.
    if (level >= 0) return;
    jpeg_failure *failure = (jpeg_failure *)cinfo->err;
    char message[JMSG_LENGTH_MAX];
    cinfo->err->format_message(cinfo, message);
    char text[JMSG_LENGTH_MAX + 32];
    snprintf(text, sizeof text, "corrupt or truncated data: %s", message);
    fail(failure->out, text);
    longjmp(failure->jump, 1);
}

int dpq_jpeg_decode(const unsigned char *data, size_t size, int want_channels, size_t max_bytes, dpq_image *out) {
    memset(out, 0, sizeof *out);
    if (want_channels != 0 && want_channels != 1 && want_channels != 3) {
        fail(out, "channels must be 0 (as stored), 1 or 3");
        return -1;
    }
    if (size < 3 || data[0] != 0xFF || data[1] != 0xD8 || data[2] != 0xFF) {
        fail(out, "not a JPEG file (no SOI marker)");
        return -1;
    }
    struct jpeg_decompress_struct cinfo;
    jpeg_failure failure;
    failure.out = out;
    cinfo.err = jpeg_std_error(&failure.manager);
    failure.manager.error_exit = jpeg_on_error;
    failure.manager.emit_message = jpeg_on_message;
    unsigned char *volatile pixels = NULL;
    if (setjmp(failure.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        return -1;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);

    int stored;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: stored = 1; break;
    case JCS_YCbCr:
    case JCS_RGB: stored = 3; break;
    case JCS_CMYK:
    case JCS_YCCK:
        fail(out, "unsupported JPEG colour space CMYK/YCCK (only gray and RGB/YCbCr are supported)");
        longjmp(failure.jump, 1);
    default:
        fail(out, "unsupported JPEG colour space (only gray and RGB/YCbCr are supported)");
        longjmp(failure.jump, 1);
    }
    int channels = want_channels ? want_channels : stored;
    cinfo.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    if (cinfo.output_components != channels) {
        fail(out, "libjpeg did not convert to the requested number of channels");
        longjmp(failure.jump, 1);
    }
    size_t row_bytes = (size_t)cinfo.output_width * (size_t)channels;
    size_t total = checked_size(cinfo.output_height, row_bytes, max_bytes);
    if (total == 0) {
        snprintf(out->error, sizeof out->error, "image of %u x %u x %d is too large (limit %zu bytes decoded)",
                 (unsigned)cinfo.output_height, (unsigned)cinfo.output_width, channels, max_bytes);
        longjmp(failure.jump, 1);
    }
    pixels = (unsigned char *)malloc(total);
    if (!pixels) {
        fail(out, "out of memory");
        longjmp(failure.jump, 1);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + (size_t)cinfo.output_scanline * row_bytes;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    out->width = (int)cinfo.output_width;
    out->height = (int)cinfo.output_height;
    out->channels = channels;
    out->pixels = pixels;
    jpeg_destroy_decompress(&cinfo);
    return 0;
}
