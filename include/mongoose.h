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

/* ---- Platform selection, with Mongoose 7.22's numbers, so that firmware can test
 * `#if MG_ARCH == MG_ARCH_ESP32` as before. meerkat itself is built for the platform its
 * Rust target names; MG_ARCH only describes it. Guessed as Mongoose guesses it (Unix,
 * Windows), and ESP-IDF (ESP_PLATFORM) is MG_ARCH_ESP32; anything else is MG_ARCH_CUSTOM
 * unless the build defines MG_ARCH. meerkat reads no mongoose_config.h. */
#define MG_ARCH_CUSTOM 0
#define MG_ARCH_UNIX 1
#define MG_ARCH_WIN32 2
#define MG_ARCH_ESP32 3
#define MG_ARCH_ESP8266 4
#define MG_ARCH_FREERTOS 5
#define MG_ARCH_THREADX 6
#define MG_ARCH_ZEPHYR 7
#define MG_ARCH_ARMGCC 8
#define MG_ARCH_CMSIS_RTOS1 9
#define MG_ARCH_TIRTOS 10
#define MG_ARCH_PICOSDK 11
#define MG_ARCH_ARMCC 12
#define MG_ARCH_CMSIS_RTOS2 13
#define MG_ARCH_RTTHREAD 14
#define MG_ARCH_ARMCGT 15
#define MG_ARCH_CUBE 16
#define MG_ARCH_MCUXPRESSO 17
#define MG_ARCH_NEWLIB MG_ARCH_ARMGCC
#ifndef MG_ARCH
#if defined(ESP_PLATFORM)
#define MG_ARCH MG_ARCH_ESP32
#elif defined(__unix__) || defined(__unix) || (defined(__APPLE__) && defined(__MACH__))
#define MG_ARCH MG_ARCH_UNIX
#elif defined(_WIN32)
#define MG_ARCH MG_ARCH_WIN32
#else
#define MG_ARCH MG_ARCH_CUSTOM
#endif
#endif
#ifndef MG_ENABLE_FREERTOS
#define MG_ENABLE_FREERTOS 0 /* meerkat runs on the platform's threads and sockets */
#endif

/* 1 on a big-endian CPU (a compile-time constant where the compiler says; Mongoose
 * computes it at run time). */
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__)
#define MG_BIG_ENDIAN (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
#else
#define MG_BIG_ENDIAN (*(const uint16_t *) (const void *) "\x01\x00" != 1)
#endif

/* Paths and sockets as the platform has them (meerkat's libc backend: BSD sockets). */
#ifndef MG_DIRSEP
#define MG_DIRSEP '/'
#endif
#ifndef MG_SOCKET_TYPE
#define MG_SOCKET_TYPE int
#endif
#ifndef MG_INVALID_SOCKET
#define MG_INVALID_SOCKET (-1)
#endif
/* For a BSD socket call's return value `rc` (with errno set on failure): the error,
 * "would block / in progress", "reset by the peer". */
#ifndef MG_SOCK_ERR
#define MG_SOCK_ERR(rc) ((rc) < 0 ? errno : 0)
#endif
#ifndef MG_SOCK_PENDING
#define MG_SOCK_PENDING(rc) \
  (((rc) < 0) && (errno == EINPROGRESS || errno == EWOULDBLOCK || errno == EAGAIN))
#endif
#ifndef MG_SOCK_RESET
#define MG_SOCK_RESET(rc) (((rc) < 0) && (errno == EPIPE || errno == ECONNRESET))
#endif
/* The backlog mg_listen gives listen(2). */
#define MG_SOCK_LISTEN_BACKLOG_SIZE 128
/* Mongoose's I/O buffer step; meerkat sizes its buffers with struct mg_limits, so this is
 * only the value programs size their own buffers with (Mongoose's default per platform). */
#ifndef MG_IO_SIZE
#if defined(__unix__) || defined(__unix) || (defined(__APPLE__) && defined(__MACH__)) || \
    defined(_WIN32)
#define MG_IO_SIZE 16384
#else
#define MG_IO_SIZE 512
#endif
#endif
/* Put a function in fast RAM on MCUs that have it: nothing in meerkat's builds. */
#ifndef MG_IRAM
#define MG_IRAM
#endif
/* One character of log output (Mongoose's default log sink). */
#ifndef MG_PUTCHAR
#define MG_PUTCHAR(x) putchar(x)
#endif
#if defined(__unix__) || defined(__unix) || (defined(__APPLE__) && defined(__MACH__)) || \
    defined(ESP_PLATFORM)
/* mkdir(2), as Mongoose wraps it for platforms whose mkdir takes other arguments. */
static inline int mg_mkdir(const char *path, mode_t mode) {
  return mkdir(path, mode);
}
#endif

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

/* ---- Mongoose 7.22's build options, as meerkat is built. They describe meerkat; defining
 * one differently before this header changes nothing but the value your own #if sees
 * (docs/porting-names.md). */
#ifndef MG_ENABLE_SOCKET
#define MG_ENABLE_SOCKET 1 /* the OS's (or lwIP's) BSD sockets */
#endif
#ifndef MG_ENABLE_EPOLL
#ifdef __linux__
#define MG_ENABLE_EPOLL 1 /* epoll(7) on Linux (with the default cargo feature poller-switch,
                             MEERKAT_POLLER=poll in the environment: poll) */
#else
#define MG_ENABLE_EPOLL 0
#endif
#endif
#ifndef MG_ENABLE_POLL
#define MG_ENABLE_POLL 1 /* poll(2) elsewhere, and on Linux when asked */
#endif
#ifndef MG_ENABLE_IPV6
#define MG_ENABLE_IPV6 1 /* IPv6 addresses in URLs ("tcp://[::1]:80"); 0 in effect in a
                            libmeerkat built without the cargo feature ipv6 (a default one) */
#endif
#ifndef MG_ENABLE_DIRLIST
#define MG_ENABLE_DIRLIST 1 /* mg_http_serve_dir lists directories without an index */
#endif
#ifndef MG_ENABLE_SSI
#define MG_ENABLE_SSI 1 /* ssi_pattern and mg_http_serve_ssi */
#endif
#ifndef MG_ENABLE_POSIX_FS
#define MG_ENABLE_POSIX_FS 1 /* mg_fs_posix (where the platform has files) */
#endif
#ifndef MG_ENABLE_MD5
#define MG_ENABLE_MD5 1
#endif
#ifndef MG_ENABLE_ASSERT
#define MG_ENABLE_ASSERT 0
#endif
#ifndef MG_ENABLE_CHACHA20
#define MG_ENABLE_CHACHA20 0 /* a built-in TLS option; rustls chooses its ciphers itself */
#endif
#ifndef MG_ENABLE_CUSTOM_CALLOC
#define MG_ENABLE_CUSTOM_CALLOC 0 /* meerkat allocates with the C library's allocator */
#endif
#ifndef MG_ENABLE_CUSTOM_LOG
#define MG_ENABLE_CUSTOM_LOG 0 /* redirect output with mg_log_set_fn() instead */
#endif
#ifndef MG_ENABLE_CUSTOM_MILLIS
#define MG_ENABLE_CUSTOM_MILLIS 0 /* supply the clock with mg_set_millis_fn() instead */
#endif
#ifndef MG_ENABLE_CUSTOM_RANDOM
#define MG_ENABLE_CUSTOM_RANDOM 0 /* supply randomness with mg_set_random_fn() instead */
#endif
#ifndef MG_ENABLE_FATFS
#define MG_ENABLE_FATFS 0 /* pass your own struct mg_fs over FatFS */
#endif
#ifndef MG_ENABLE_LFS
#define MG_ENABLE_LFS 0 /* pass your own struct mg_fs over LittleFS */
#endif
#ifndef MG_ENABLE_PROFILE
#define MG_ENABLE_PROFILE 0
#endif
#ifndef MG_ENABLE_LOG
#define MG_ENABLE_LOG 1
#endif
#ifndef MG_HTTP_INDEX
#define MG_HTTP_INDEX "index.html"
#endif
#ifndef MG_IPV6_V6ONLY
#define MG_IPV6_V6ONLY 0
#endif
#ifndef MG_MAX_RECV_SIZE
#define MG_MAX_RECV_SIZE (3UL * 1024UL * 1024UL)
#endif
#ifndef MG_SOCKET_ERRNO
#define MG_SOCKET_ERRNO errno
#endif
#define MG___FUNC__ __func__

/* TLS implementations as Mongoose numbers them. meerkat's TLS is rustls, built in when the
 * library has the `tls` feature (MG_TLS is declared in meerkat.h). */
#define MG_TLS_NONE 0
#define MG_TLS_MBED 1
#define MG_TLS_OPENSSL 2
#define MG_TLS_BUILTIN 3
#define MG_TLS_CUSTOM 4
#define MG_TLS_WOLFSSL 5
/* meerkat's TLS is rustls: none of Mongoose's backends, so "custom". In a build without
 * TLS, mg_tls_init fails with MG_ERR_UNSUPPORTED. */
#ifndef MG_TLS
#define MG_TLS MG_TLS_CUSTOM
#endif
/* True when a certificate or key buffer is DER rather than PEM (a DER SEQUENCE, 0x30). */
#define MG_IS_DER(buf) (*(const unsigned char *) (buf) == 0x30)

/* DSCP code points for mg_dscp(): class selector, assured forwarding, expedited. */
#define MG_DSCP_CS(cls) ((cls) * 8)
#define MG_DSCP_AF(cls, drop) ((cls) * 8 + (drop) * 2)
#define MG_DSCP_EF 46

/* Profiling (MG_ENABLE_PROFILE) is not in meerkat: the macros compile to nothing. */
#define MG_PROF_INIT(c)
#define MG_PROF_FREE(c)
#define MG_PROF_ADD(c, name)
#define MG_PROF_DUMP(c)

/* ---- Byte and bit helpers with Mongoose's names. */
#define MG_U8P(p) ((uint8_t *) (p))
/* The four bytes of an IPv4 address for "%d.%d.%d.%d". */
#define MG_IPADDR_PARTS(p) MG_U8P(p)[0], MG_U8P(p)[1], MG_U8P(p)[2], MG_U8P(p)[3]
/* A braced initialiser of 16 bytes from eight 16-bit groups: uint8_t a[16] = MG_IPV6(...). */
#define MG_IPV6(g0, g1, g2, g3, g4, g5, g6, g7)                                         \
  {                                                                                     \
    (uint8_t) ((g0) >> 8), (uint8_t) (g0), (uint8_t) ((g1) >> 8), (uint8_t) (g1),       \
        (uint8_t) ((g2) >> 8), (uint8_t) (g2), (uint8_t) ((g3) >> 8), (uint8_t) (g3),   \
        (uint8_t) ((g4) >> 8), (uint8_t) (g4), (uint8_t) ((g5) >> 8), (uint8_t) (g5),   \
        (uint8_t) ((g6) >> 8), (uint8_t) (g6), (uint8_t) ((g7) >> 8), (uint8_t) (g7)    \
  }
/* Big-endian loads and stores at any alignment. */
#define MG_LOAD_BE16(p) ((uint16_t) ((MG_U8P(p)[0] << 8) | MG_U8P(p)[1]))
#define MG_LOAD_BE24(p) \
  (((uint32_t) MG_U8P(p)[0] << 16) | ((uint32_t) MG_U8P(p)[1] << 8) | MG_U8P(p)[2])
#define MG_LOAD_BE32(p) (((uint32_t) MG_LOAD_BE16(p) << 16) | MG_LOAD_BE16(MG_U8P(p) + 2))
#define MG_LOAD_BE64(p) (((uint64_t) MG_LOAD_BE32(p) << 32) | MG_LOAD_BE32(MG_U8P(p) + 4))
#define MG_STORE_BE16(p, n)                              \
  do {                                                   \
    MG_U8P(p)[0] = (uint8_t) (((uint16_t) (n)) >> 8);    \
    MG_U8P(p)[1] = (uint8_t) (n);                        \
  } while (0)
#define MG_STORE_BE24(p, n)                              \
  do {                                                   \
    MG_U8P(p)[0] = (uint8_t) (((uint32_t) (n)) >> 16);   \
    MG_STORE_BE16(MG_U8P(p) + 1, (uint16_t) (n));        \
  } while (0)
#define MG_STORE_BE32(p, n)                                      \
  do {                                                           \
    MG_STORE_BE16((p), (uint16_t) (((uint32_t) (n)) >> 16));     \
    MG_STORE_BE16(MG_U8P(p) + 2, (uint16_t) (n));                \
  } while (0)
#define MG_STORE_BE64(p, n)                                      \
  do {                                                           \
    MG_STORE_BE32((p), (uint32_t) (((uint64_t) (n)) >> 32));     \
    MG_STORE_BE32(MG_U8P(p) + 4, (uint32_t) (n));                \
  } while (0)
#define MG_ROUND_UP(x, a) ((a) == 0 ? (x) : (((x) + (a) - 1) / (a)) * (a))
#define MG_ROUND_DOWN(x, a) ((a) == 0 ? (x) : ((x) / (a)) * (a))
#define MG_BIT(n) ((uint32_t) 1U << (n))
#define MG_SET_BITS(reg, clear, set) ((reg) = ((reg) & ~(clear)) | (set))
/* A memory-mapped 32-bit register (firmware's own drivers). */
#define MG_REG(addr) (*(volatile uint32_t *) (addr))

/* Barriers and interrupt masking for firmware's drivers. On other CPUs than ARM (and
 * RH850), MG_DSB is a compiler and memory barrier and the IRQ macros do nothing. */
#if defined(__arm__) || defined(__thumb__) || defined(__aarch64__)
#define MG_DSB() __asm__ __volatile__("dsb 0xf" ::: "memory")
#else
#define MG_DSB() __sync_synchronize()
#endif
#if (defined(__arm__) || defined(__thumb__)) && !defined(__linux__)
#define MG_ARM_DISABLE_IRQ() __asm__ __volatile__("cpsid i" ::: "memory")
#define MG_ARM_ENABLE_IRQ() __asm__ __volatile__("cpsie i" ::: "memory")
#else
#define MG_ARM_DISABLE_IRQ()
#define MG_ARM_ENABLE_IRQ()
#endif
#if defined(__RH850__) || defined(__v850__)
#define MG_RH850_DISABLE_IRQ() __asm__ __volatile__("di" ::: "memory")
#define MG_RH850_ENABLE_IRQ() __asm__ __volatile__("ei" ::: "memory")
#else
#define MG_RH850_DISABLE_IRQ()
#define MG_RH850_ENABLE_IRQ()
#endif

/* Singly linked lists through a `next` member, as Mongoose's firmware keeps its own. */
#define LIST_ADD_HEAD(type, head, elem) \
  do {                                  \
    type *mk_e_ = (elem);               \
    mk_e_->next = *(head);              \
    *(head) = mk_e_;                    \
  } while (0)
#define LIST_ADD_TAIL(type, head, elem)                         \
  do {                                                          \
    type **mk_p_;                                               \
    for (mk_p_ = (head); *mk_p_ != NULL; mk_p_ = &(*mk_p_)->next) \
      ;                                                         \
    (elem)->next = NULL;                                        \
    *mk_p_ = (elem);                                            \
  } while (0)
#define LIST_DELETE(type, head, elem)                                    \
  do {                                                                   \
    type **mk_p_;                                                        \
    for (mk_p_ = (head); *mk_p_ != NULL && *mk_p_ != (elem); mk_p_ = &(*mk_p_)->next) \
      ;                                                                  \
    if (*mk_p_ != NULL) *mk_p_ = (elem)->next;                           \
  } while (0)

/* Mongoose declares the hash contexts as typedefs; meerkat.h declares the same structs. */
typedef struct mg_sha1_ctx mg_sha1_ctx;
typedef struct mg_sha256_ctx mg_sha256_ctx;
typedef struct mg_sha384_ctx mg_sha384_ctx;
typedef struct mg_md5_ctx mg_md5_ctx;

/* MQTT packet types, MQTT 5 property ids and mg_mqtt_parse() results, under Mongoose's
 * unprefixed names (meerkat.h declares only mg_/MG_ names). */
#define MQTT_CMD_CONNECT 1
#define MQTT_CMD_CONNACK 2
#define MQTT_CMD_PUBLISH 3
#define MQTT_CMD_PUBACK 4
#define MQTT_CMD_PUBREC 5
#define MQTT_CMD_PUBREL 6
#define MQTT_CMD_PUBCOMP 7
#define MQTT_CMD_SUBSCRIBE 8
#define MQTT_CMD_SUBACK 9
#define MQTT_CMD_UNSUBSCRIBE 10
#define MQTT_CMD_UNSUBACK 11
#define MQTT_CMD_PINGREQ 12
#define MQTT_CMD_PINGRESP 13
#define MQTT_CMD_DISCONNECT 14
#define MQTT_CMD_AUTH 15

#define MQTT_PROP_PAYLOAD_FORMAT_INDICATOR 0x01
#define MQTT_PROP_MESSAGE_EXPIRY_INTERVAL 0x02
#define MQTT_PROP_CONTENT_TYPE 0x03
#define MQTT_PROP_RESPONSE_TOPIC 0x08
#define MQTT_PROP_CORRELATION_DATA 0x09
#define MQTT_PROP_SUBSCRIPTION_IDENTIFIER 0x0B
#define MQTT_PROP_SESSION_EXPIRY_INTERVAL 0x11
#define MQTT_PROP_ASSIGNED_CLIENT_IDENTIFIER 0x12
#define MQTT_PROP_SERVER_KEEP_ALIVE 0x13
#define MQTT_PROP_AUTHENTICATION_METHOD 0x15
#define MQTT_PROP_AUTHENTICATION_DATA 0x16
#define MQTT_PROP_REQUEST_PROBLEM_INFORMATION 0x17
#define MQTT_PROP_WILL_DELAY_INTERVAL 0x18
#define MQTT_PROP_REQUEST_RESPONSE_INFORMATION 0x19
#define MQTT_PROP_RESPONSE_INFORMATION 0x1A
#define MQTT_PROP_SERVER_REFERENCE 0x1C
#define MQTT_PROP_REASON_STRING 0x1F
#define MQTT_PROP_RECEIVE_MAXIMUM 0x21
#define MQTT_PROP_TOPIC_ALIAS_MAXIMUM 0x22
#define MQTT_PROP_TOPIC_ALIAS 0x23
#define MQTT_PROP_MAXIMUM_QOS 0x24
#define MQTT_PROP_RETAIN_AVAILABLE 0x25
#define MQTT_PROP_USER_PROPERTY 0x26
#define MQTT_PROP_MAXIMUM_PACKET_SIZE 0x27
#define MQTT_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE 0x28
#define MQTT_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE 0x29
#define MQTT_PROP_SHARED_SUBSCRIPTION_AVAILABLE 0x2A

enum { MQTT_PROP_TYPE_BYTE, MQTT_PROP_TYPE_STRING, MQTT_PROP_TYPE_STRING_PAIR,
       MQTT_PROP_TYPE_BINARY_DATA, MQTT_PROP_TYPE_VARIABLE_INT, MQTT_PROP_TYPE_INT,
       MQTT_PROP_TYPE_SHORT };
enum { MQTT_OK, MQTT_INCOMPLETE, MQTT_MALFORMED };

/* Mongoose 7.22 declares these for its CMSIS-pack application modules, which define them
 * (the library does not): declared here too, so that such modules keep compiling. meerkat
 * defines none of them. 7.22 also declares `extern struct mg_mgr g_mgr;`, which is not
 * repeated here: firmware often has its own `static struct mg_mgr g_mgr`, which that
 * declaration would break. */
extern void mg_dash_init(struct mg_mgr *);
extern void mg_dash_poll(struct mg_mgr *);
extern void mg_mqtt_init(struct mg_mgr *);
extern void mg_mqtt_poll(struct mg_mgr *);

/* ---- Mongoose's built-in TLS primitives (meerkat.h declares the mg_* functions; feature
 * `crypto`): the unprefixed names of their headers. */
#define X25519_BYTES 32
#ifdef __cplusplus
extern "C" const uint8_t X25519_BASE_POINT[X25519_BYTES];
#else
extern const uint8_t X25519_BASE_POINT[X25519_BYTES];
#endif
#define RFC_8439_TAG_SIZE (16)
#define RFC_8439_KEY_SIZE (32)
#define RFC_8439_NONCE_SIZE (12)
typedef int8_t wordcount_t;
typedef int16_t bitcount_t;
typedef int8_t cmpresult_t;
typedef struct MG_UECC_HashContext MG_UECC_HashContext;

#endif
