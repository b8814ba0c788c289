// libjpeg-turbo (libjpeg 6.2 API) from Debian's libjpeg-dev (Package.swift: pkg-config libjpeg,
// apt libjpeg-dev). jpeglib.h needs size_t and FILE declared first. The decoder itself is in
// Sources/CImageCodecs: libjpeg's error_exit must longjmp (its default calls exit()), which only
// C can do.
#include <stddef.h>
#include <stdio.h>
#include <jpeglib.h>
