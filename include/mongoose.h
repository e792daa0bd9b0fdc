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

#endif
