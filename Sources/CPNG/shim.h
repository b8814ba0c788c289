// libpng 1.6 from Debian's libpng-dev (Package.swift: pkg-config libpng, apt libpng-dev).
// The decoder itself is in Sources/CImageCodecs: libpng reports errors by longjmp, which only C
// can catch.
#include <png.h>
