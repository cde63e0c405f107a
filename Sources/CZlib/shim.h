#ifndef MREG_CZLIB_SHIM_H
#define MREG_CZLIB_SHIM_H

#include <zlib.h>

// deflateInit and inflateInit are C macros, which Swift cannot import.
static inline int mreg_deflateInit(z_streamp strm, int level) {
    return deflateInit(strm, level);
}

static inline int mreg_inflateInit(z_streamp strm) {
    return inflateInit(strm);
}

#endif
