/*
 * Compatibility shim: lets `#include "mongoose.h"` keep compiling in firmware ported from
 * Cesanta Mongoose 7.x. Everything is declared in meerkat.h; see docs/porting.md for the
 * differences (handles instead of struct mg_connection pointers, int error returns).
 *
 * Mongoose's header also brings in the C library and, on Unix, the POSIX socket, time and
 * thread headers; ported programs use errno, signal(), close(), getaddrinfo(), struct
 * timeval... without including them. This shim includes the same set so that they keep
 * compiling. It defines no feature-test macro (_GNU_SOURCE, _POSIX_C_SOURCE): under a
 * strict `-std=c99`, define the one you need before the first #include, as with any header.
 */
#ifndef MEERKAT_MONGOOSE_SHIM_H
#define MEERKAT_MONGOOSE_SHIM_H

/* Standard C: every hosted target. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* POSIX (Linux, the BSDs, macOS) and ESP-IDF, whose newlib and lwIP provide the same
 * headers. Other targets (bare metal, Windows) get the standard C part only. */
#if defined(__unix__) || defined(__unix) || (defined(__APPLE__) && defined(__MACH__)) || \
    defined(ESP_PLATFORM)
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>
#if !defined(ESP_PLATFORM)
#include <dirent.h>
#endif
#endif

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
typedef struct mg_md5_ctx mg_md5_ctx;

#endif
