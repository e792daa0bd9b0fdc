/*
 * Compatibility shim: lets `#include "mongoose.h"` keep compiling in firmware ported from
 * Cesanta Mongoose 7.x. Everything is declared in meerkat.h; see docs/porting.md for the
 * differences (handles instead of struct mg_connection pointers, int error returns).
 */
#ifndef MEERKAT_MONGOOSE_SHIM_H
#define MEERKAT_MONGOOSE_SHIM_H
#include <limits.h>
#include "meerkat.h"

/* The Mongoose API version whose names and semantics meerkat follows. */
#define MG_VERSION "7.22"

/* Size of path buffers, as Mongoose defines it on POSIX systems; firmware may predefine it. */
#ifndef MG_PATH_MAX
#ifdef PATH_MAX
#define MG_PATH_MAX PATH_MAX
#else
#define MG_PATH_MAX 128
#endif
#endif

/* Mongoose declares the hash contexts as typedefs; meerkat.h declares the same structs. */
typedef struct mg_sha1_ctx mg_sha1_ctx;
typedef struct mg_sha256_ctx mg_sha256_ctx;
typedef struct mg_sha384_ctx mg_sha384_ctx;

#endif
