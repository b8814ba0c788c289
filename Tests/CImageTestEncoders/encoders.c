#include "image_test_encoders.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <jpeglib.h>

typedef struct {
    char *error;
    size_t size;
} error_slot;

static void png_write_error(png_structp png, png_const_charp message) {
    error_slot *slot = (error_slot *)png_get_error_ptr(png);
    snprintf(slot->error, slot->size, "%s", message);
    png_longjmp(png, 1);
}

static void png_write_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

int dpq_test_png_write(const char *path, int width, int height, int color_type, int bit_depth, int interlaced,
                       const unsigned char *rows, const unsigned char *palette, int palette_entries,
                       const unsigned char *trns, int trns_entries, char *error, size_t error_size) {
    error_slot slot = {error, error_size};
    FILE *file = fopen(path, "wb");
    if (!file) {
        snprintf(error, error_size, "cannot open %s", path);
        return -1;
    }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &slot, png_write_error, png_write_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) {
        png_destroy_write_struct(&png, NULL);
        fclose(file);
        snprintf(error, error_size, "out of memory");
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(file);
        return -1;
    }
    png_init_io(png, file);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, bit_depth, color_type,
                 interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_color entries[256];
        for (int i = 0; i < palette_entries && i < 256; i++) {
            entries[i].red = palette[3 * i];
            entries[i].green = palette[3 * i + 1];
            entries[i].blue = palette[3 * i + 2];
        }
        png_set_PLTE(png, info, entries, palette_entries);
        if (trns && trns_entries > 0) png_set_tRNS(png, info, trns, trns_entries, NULL);
    }
    png_write_info(png, info);
    size_t row_bytes = png_get_rowbytes(png, info);
    int passes = png_set_interlace_handling(png);
    for (int pass = 0; pass < passes; pass++) {
        for (int y = 0; y < height; y++) png_write_row(png, rows + (size_t)y * row_bytes);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (fclose(file) != 0) {
        snprintf(error, error_size, "cannot write %s", path);
        return -1;
    }
    return 0;
}

typedef struct {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    error_slot slot;
} jpeg_write_failure;

static void jpeg_write_error(j_common_ptr cinfo) {
    jpeg_write_failure *failure = (jpeg_write_failure *)cinfo->err;
    char message[JMSG_LENGTH_MAX];
    cinfo->err->format_message(cinfo, message);
    snprintf(failure->slot.error, failure->slot.size, "%s", message);
    longjmp(failure->jump, 1);
}

int dpq_test_jpeg_write(const char *path, int width, int height, int channels, int quality,
                        const unsigned char *pixels, char *error, size_t error_size) {
    FILE *file = fopen(path, "wb");
    if (!file) {
        snprintf(error, error_size, "cannot open %s", path);
        return -1;
    }
    struct jpeg_compress_struct cinfo;
    jpeg_write_failure failure;
    failure.slot.error = error;
    failure.slot.size = error_size;
    cinfo.err = jpeg_std_error(&failure.manager);
    failure.manager.error_exit = jpeg_write_error;
    if (setjmp(failure.jump)) {
        jpeg_destroy_compress(&cinfo);
        fclose(file);
        return -1;
    }
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, file);
    cinfo.image_width = (JDIMENSION)width;
    cinfo.image_height = (JDIMENSION)height;
    cinfo.input_components = channels;
    cinfo.in_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)cinfo.next_scanline * (size_t)width * (size_t)channels);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    if (fclose(file) != 0) {
        snprintf(error, error_size, "cannot write %s", path);
        return -1;
    }
    return 0;
}
