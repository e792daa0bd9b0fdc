/*
 * Compatibility shim: lets `#include "mongoose.h"` keep compiling in firmware ported from
 * Cesanta Mongoose 7.x. Everything is declared in meerkat.h; see docs/porting.md for the
 * differences (handles instead of struct mg_connection pointers, int error returns).
 */
#ifndef MEERKAT_MONGOOSE_SHIM_H
#define MEERKAT_MONGOOSE_SHIM_H
#include "meerkat.h"
#endif
