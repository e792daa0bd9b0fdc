/*
 * meerkat: printf family, logging macros and %M printers.
 *
 * This file is appended verbatim to the end of the generated include/meerkat.h, after the
 * cbindgen part (which declares struct mg_str, struct mg_addr, struct mg_conn, mg_send,
 * mg_log_prefix, mg_log_write and the MG_LL_* levels used below). The functions declared
 * here are C (src/shim/meerkat_shim.c), because stable Rust cannot define variadic functions.
 *
 * Threads: every function here may be called from any thread, except mg_printf and
 * mg_vprintf, which follow the rule of mg_send (the manager's thread; from another thread
 * they return MG_ERR_WRONG_THREAD and send nothing). None of them keeps global state.
 *
 * Format strings. Standard C99 conversions with flags "-+ #0", field width, precision
 * ("*" allowed for both) and length modifiers hh h l ll z t j L:
 *   %d %i %u %o %x %X  integers, formatted by meerkat itself (so %lld, %zu and %jd work
 *                      even with a C library that lacks them, e.g. newlib-nano)
 *   %e %E %f %F %g %G %a %A   floating point, each conversion delegated to the C library's
 *                      snprintf (so float output needs a C library with float printf);
 *                      the decimal point is always '.', whatever setlocale(LC_NUMERIC)
 *   %c %s %p %%        %s streams the string (any length, any width); a NULL %s prints
 *                      "(null)"; %p is the C library's rendering
 *   %n                 its pointer argument is consumed and NOT written (never a write
 *                      through a format string)
 * Extensions, as in Mongoose 7.x (width, flags and, except where noted, precision are
 * ignored for these):
 *   %M  arguments: an mg_pm_t printer followed by the printer's own arguments; the printer
 *       reads them from the va_list it is given and prints through the output function.
 *   %m  the same, wrapped in double quotes. With MG_ESC(str) it prints a JSON string.
 *   %Q  argument: const char *; a double-quoted JSON string (", \, control characters
 *       escaped; bytes >= 0x80 copied, so UTF-8 passes through). NULL prints null.
 *       %.*Q takes an int length first and prints at most that many bytes (stopping
 *       at a NUL, like %.*s).
 *   %q  like %Q without the quotes; NULL prints nothing.
 *   %H  arguments: int len, const void *buf; double-quoted lowercase hex (Mongoose 7.8).
 *   %V  arguments: int len, const void *buf; double-quoted base64 (Mongoose 7.8).
 * An unknown conversion is copied to the output as written and consumes no argument.
 * Two cargo features, on by default, build conversions Mongoose's printf does not have:
 * `printf-wide` the wide characters (%lc, %ls) and the L floats (long double, e.g. %Lf),
 * delegated to the C library; `printf-json` %Q, %q, %H and %V (%m with mg_print_esc,
 * mg_print_hex, mg_print_base64 does the same). In a build without one (the footprint
 * build has neither), its conversions consume their arguments and print as written.
 *
 * Return values count every character produced, including the quotes of %m/%Q/%H/%V.
 */
#ifndef MEERKAT_TRAILER_H
#define MEERKAT_TRAILER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A %M / %m printer: reads its own arguments from *ap, prints them through out(ch, param),
 * returns the number of characters it printed (meerkat counts them itself as well, so a
 * printer that returns a wrong number cannot corrupt snprintf-style lengths). */
typedef size_t (*mg_pm_t)(void (*out)(char, void *), void *param, va_list *ap);

/* Format through an output function called once per character. out may be NULL: nothing
 * is printed and the length is returned. fmt or ap NULL prints nothing. Returns the number
 * of characters produced. Any thread. */
size_t mg_vxprintf(void (*out)(char, void *), void *param, const char *fmt, va_list *ap);
size_t mg_xprintf(void (*out)(char, void *), void *param, const char *fmt, ...);

/* snprintf semantics: writes at most len - 1 characters and a terminating NUL into buf
 * when len > 0 (buf may be NULL only when len is 0); returns the length of the whole
 * output, so a result >= len means it was truncated. Any thread. */
size_t mg_vsnprintf(char *buf, size_t len, const char *fmt, va_list *ap);
size_t mg_snprintf(char *buf, size_t len, const char *fmt, ...);

/* Format into a new NUL-terminated heap string. The caller owns it and releases it with
 * free(). NULL when memory runs out. Any thread. */
char *mg_vmprintf(const char *fmt, va_list *ap);
char *mg_mprintf(const char *fmt, ...);
/* Fail connection c: log the printf-formatted message at error level (with the connection's
 * id), call its handler with MG_EV_ERROR and the message as ev_data, and close it (the
 * handler then gets MG_EV_CLOSE as usual). As Mongoose's mg_error. Owner thread. */
void mg_error(struct mg_conn c, const char *fmt, ...);

/* File systems (Mongoose 7.22): the packed web root that mg_fs_packed serves. Activate the
 * table scripts/pack.py generated with `mg_mem_files = mg_packed_files;`. */
extern const struct mg_mem_file *mg_mem_files;
extern const struct mg_mem_file mg_packed_files[];
/* Write the printf-formatted text to path (atomically, as mg_file_write). */
bool mg_file_printf(struct mg_fs *fs, const char *path, const char *fmt, ...);

/* Format and queue the result on connection c with a single mg_send call: either all of it
 * is queued or none of it (under the send-buffer cap). Returns the number of bytes queued
 * (>= 0), or a negative MG_ERR_* code: mg_send's error, MG_ERR_NOMEM (-13) when the
 * formatting buffer could not be allocated, MG_ERR_TOO_LARGE (-16) when the output exceeds
 * INT_MAX bytes. Unlike Mongoose (size_t), the return type is int. Thread: as mg_send.
 * Bounded memory: at most mg_send_room(c) bytes are ever built; longer output (a huge
 * field width, a long %s) is refused with MG_ERR_FULL (-4) before it is formatted further.
 * mg_http_reply and mg_http_printf_chunk bound their body the same way. */
int mg_vprintf(struct mg_conn c, const char *fmt, va_list *ap);
int mg_printf(struct mg_conn c, const char *fmt, ...);

/* HTTP: a complete response with a printf-formatted body: status line, `headers` (NULL or
 * "Name: value\r\n" lines), Content-Length, body. Connection: close is added when the
 * request asked for it. All or nothing; returns 0 or a negative MG_ERR_* (Mongoose: void).
 * Manager's thread. */
int mg_http_reply(struct mg_conn c, int status, const char *headers, const char *fmt, ...);
/* HTTP: one printf-formatted chunk of a chunked response; an empty result ends the body.
 * Returns 0 or a negative MG_ERR_*. Manager's thread. */
int mg_http_printf_chunk(struct mg_conn c, const char *fmt, ...);

/* WebSocket (Mongoose 7.22 names; see docs/porting.md for the return types).
 * mg_ws_upgrade: accept the upgrade request hm in its MG_EV_HTTP_MSG handler; fmt (NULL for
 *   none) formats extra "Name: value\r\n" header lines for the 101. Returns 0 or a negative
 *   MG_ERR_* (MG_ERR_INVALID: not an upgrade, answered 400/426) (Mongoose: void).
 * mg_ws_printf / mg_ws_vprintf: a printf-formatted message with opcode op; returns the bytes
 *   queued or a negative MG_ERR_* (Mongoose: size_t).
 * mg_ws_connect: a ws:// or wss:// client; fmt (NULL for none) formats extra request header
 *   lines. Returns the handle, {0} with mg_last_error() on failure.
 * Manager's thread. */
int mg_ws_upgrade(struct mg_conn c, struct mg_http_message *hm, const char *fmt, ...);
int mg_ws_vprintf(struct mg_conn c, int op, const char *fmt, va_list *ap);
int mg_ws_printf(struct mg_conn c, int op, const char *fmt, ...);
struct mg_conn mg_ws_connect(struct mg_mgr *mgr, const char *url, mg_event_handler_t fn,
                             void *fn_data, const char *fmt, ...);

/* Write one log message through the log sink (mg_log_set_fn), followed by "\r\n". Normally
 * used through the MG_ERROR/MG_INFO/MG_DEBUG/MG_VERBOSE macros, which write the prefix
 * first and skip the call when the level is disabled. Any thread. */
void mg_log(const char *fmt, ...);

/* Output function for mg_xprintf and mg_log_set_fn: putchar(c). param is ignored. */
void mg_pfn_stdout(char c, void *param);

/* %M / %m printers. The arguments each one reads are listed. A NULL address or MAC prints
 * "(null)"; a NULL buffer for esc, base64 or hex prints nothing. */
/* const struct mg_addr *: IPv4 "1.2.3.4"; IPv6 "[2001:db8:0:0:0:0:0:1]" (eight groups,
 * no "::" compression, as Mongoose 7.x prints it). */
size_t mg_print_ip(void (*out)(char, void *), void *param, va_list *ap);
/* const struct mg_addr *: "1.2.3.4:80", "[0:0:0:0:0:0:0:1]:80" (port in host order). */
size_t mg_print_ip_port(void (*out)(char, void *), void *param, va_list *ap);
/* const void * to 4 bytes (network order): "1.2.3.4". */
size_t mg_print_ip4(void (*out)(char, void *), void *param, va_list *ap);
/* const void * to 16 bytes: "[x:x:x:x:x:x:x:x]", as mg_print_ip prints IPv6. */
size_t mg_print_ip6(void (*out)(char, void *), void *param, va_list *ap);
/* const void * to 6 bytes: "aa:bb:cc:dd:ee:ff". */
size_t mg_print_mac(void (*out)(char, void *), void *param, va_list *ap);
/* int len, const char *str: JSON-escaped, without quotes (use %m, or MG_ESC, for a quoted
 * JSON string). len > 0: exactly len bytes (a NUL among them prints as \u0000); 0 or
 * negative: strlen(str). */
size_t mg_print_esc(void (*out)(char, void *), void *param, va_list *ap);
/* int len, const void *buf: standard base64 with '=' padding. */
size_t mg_print_base64(void (*out)(char, void *), void *param, va_list *ap);
/* int len, const void *buf: lowercase hex, two digits per byte. */
size_t mg_print_hex(void (*out)(char, void *), void *param, va_list *ap);

/* const void * to 8 bytes: "aa:bb:cc:dd:ee:ff:00:11" (an EUI-64; Mongoose reads a pointer
 * too, although its header comment says uint64_t). */
size_t mg_print_ieee64(void (*out)(char, void *), void *param, va_list *ap);
/* int type, const void *addr: a link-layer address by Mongoose's enum mg_l2type: 0
 * (Ethernet) and 2 (PPPoE) print a MAC as mg_print_mac, 1 (PPP) an EUI-64 as
 * mg_print_ieee64, others nothing. Both arguments are always consumed. */
size_t mg_print_l2addr(void (*out)(char, void *), void *param, va_list *ap);
/* int len, const char *str: HTML-escaped (& < > " become entities). len > 0: len bytes;
 * 0 or negative: strlen(str) (so MG_ESC(str) works; Mongoose printed nothing for 0).
 * NULL prints nothing. */
size_t mg_print_html_esc(void (*out)(char, void *), void *param, va_list *ap);

/* The three arguments that make %m print str as a JSON string:
 * mg_snprintf(buf, len, "{%m:%d}", MG_ESC("id"), 1) gives {"id":1}. */
#define MG_ESC(str) mg_print_esc, 0, (str)

/* Format into a queue as one message (without the NUL): the mg_queue_book / mg_queue_add
 * pair of the producer. Returns the message length, or 0 (nothing queued) when it is empty
 * or does not fit. Thread: the queue's producer. */
size_t mg_queue_printf(struct mg_queue *q, const char *fmt, ...);

/* JSON-RPC replies, printed through r->pfn(ch, r->pfn_data):
 * mg_rpc_ok:  {"id":<id>,"result":<fmt...>}  -- nothing for a request without "id"
 *             (a notification). fmt NULL prints null.
 * mg_rpc_err: {"id":<id>,"error":{"code":<code>,"message":<fmt...>}}  -- "id" left out
 *             when the request has none. fmt NULL prints null.
 * fmt is printed as is: it must produce JSON (e.g. "%m", MG_ESC("text") for a string, or
 * "\"%s\"" with text that needs no escaping). r NULL does nothing. Thread: the list's. */
void mg_rpc_ok(struct mg_rpc_req *r, const char *fmt, ...);
void mg_rpc_vok(struct mg_rpc_req *r, const char *fmt, va_list *ap);
void mg_rpc_err(struct mg_rpc_req *r, int code, const char *fmt, ...);
void mg_rpc_verr(struct mg_rpc_req *r, int code, const char *fmt, va_list *ap);

/* Mongoose's log level variable (the same value mg_log_set sets and mg_log_prefix checks):
 * `if (mg_log_level >= MG_LL_DEBUG)` and `mg_log_level = MG_LL_INFO;` keep working. A
 * direct assignment is not clamped and is a plain store: prefer mg_log_set() once other
 * threads log. Default MG_LL_ERROR (Mongoose: MG_LL_DEBUG). */
extern int mg_log_level;

/* Four bytes as a 32-bit number, a first: MG_U32(1, 2, 3, 4) == 0x01020304. */
#define MG_U32(a, b, c, d)                                               \
  (((uint32_t) ((a) & 255) << 24) | ((uint32_t) ((b) & 255) << 16) |     \
   ((uint32_t) ((c) & 255) << 8) | (uint32_t) ((d) & 255))
/* An IPv4 address in network byte order, as stored in the first 4 bytes of mg_addr.ip:
 * uint32_t ip = MG_IPV4(192, 168, 0, 1); memcmp(&ip, addr.ip, 4) == 0. */
#define MG_IPV4(a, b, c, d) mg_htonl(MG_U32((a), (b), (c), (d)))

/* Logging macros, as in Mongoose: MG_INFO(("x=%d", x)); (note the double parentheses).
 * The arguments are evaluated only when the level is enabled (mg_log_set). Define
 * MG_ENABLE_LOG to 0 to compile every log statement out. */
#if defined(MG_ENABLE_LOG) && MG_ENABLE_LOG == 0
#define MG_LOG(level, args) \
  do {                      \
    if (0) mg_log args;     \
  } while (0)
#else
#define MG_LOG(level, args)                                          \
  do {                                                               \
    if (mg_log_prefix((level), __FILE__, __LINE__, __func__)) mg_log args; \
  } while (0)
#endif
#define MG_ERROR(args) MG_LOG(MG_LL_ERROR, args)
#define MG_INFO(args) MG_LOG(MG_LL_INFO, args)
#define MG_DEBUG(args) MG_LOG(MG_LL_DEBUG, args)
#define MG_VERBOSE(args) MG_LOG(MG_LL_VERBOSE, args)

/* Device dashboard (Mongoose 7.22's mg_dash; src/ffi/dash.rs). Field sets bind JSON keys
 * to C variables; mg_dash_ev_handler, given to mg_http_listen with a struct mg_dash * as
 * fn_data, serves them over REST endpoints and WebSocket change notifications (routes and
 * differences: docs/porting.md, "Device dashboard"). Declared here by hand because cbindgen
 * cannot spell C enums in struct fields and callback parameters. Layouts and names are
 * 7.22's. Ownership: the dash, its sets, fields, variables and custom handlers are the
 * firmware's and must outlive the listener; sessions (struct mg_dash_user) are meerkat's,
 * read-only for the firmware, valid during the callback they are passed to. Threads: the
 * manager's; callbacks run on it and may call any mg_* function. */
#ifndef MG_DASH_MAX_USER_NAME
#define MG_DASH_MAX_USER_NAME 32 /* meerkat is built with 32: do not change it */
#endif

#ifndef MG_HTTP_ADDR
#if defined(__unix__) || defined(__unix) || defined(__APPLE__) || defined(_WIN32)
#define MG_HTTP_ADDR "http://0.0.0.0:8000"
#define MG_HTTPS_ADDR "https://0.0.0.0:8443"
#define MG_MODBUS_ADDR "tcp://0.0.0.0:8502"
#else
#define MG_HTTP_ADDR "http://0.0.0.0:80"
#define MG_HTTPS_ADDR "https://0.0.0.0:443"
#define MG_MODBUS_ADDR "tcp://0.0.0.0:502"
#endif
#endif

/* Kept for source compatibility; meerkat bounds responses by mg_limits instead. */
#ifndef MG_DASH_MAX_SEND_BUF_SIZE
#define MG_DASH_MAX_SEND_BUF_SIZE (2048 * 5)
#endif

/* C type of a value bound to a dashboard field. */
enum mg_val_type {
  MG_VAL_INT,    /* int */
  MG_VAL_UINT64, /* uint64_t */
  MG_VAL_BOOL,   /* bool */
  MG_VAL_DBL,    /* double; printed with 2 decimals */
  MG_VAL_STR,    /* NUL-terminated string of value_size bytes at most (NUL included) */
  MG_VAL_RAW     /* pre-formatted JSON, copied verbatim */
};

/* A field: binds the JSON key name to the variable at value. value_size is sizeof the
 * variable; a write must match it (an int field needs sizeof(int)...); 0 makes it
 * read-only. A string longer than value_size - 1 is refused (400), never truncated. */
struct mg_field {
  const char *name;
  enum mg_val_type type;
  void *value;
  size_t value_size;
};

/* Operation passed to a field set's callback. MG_DASH_ADD: the fields hold the values of a
 * new element to append; return false to refuse it. */
enum mg_dash_op { MG_DASH_READ, MG_DASH_WRITE, MG_DASH_DELETE, MG_DASH_ADD };

struct mg_dash;

/* A session (or the guest, when authenticate is NULL). */
struct mg_dash_user {
  struct mg_dash_user *next; /* unused by meerkat (its list is internal) */
  char name[MG_DASH_MAX_USER_NAME];
  char token[21]; /* the session token, sent as the access_token cookie */
  int level;      /* what authenticate returned (guest: 9) */
  uint64_t expire; /* mg_millis() at which the session ends unless used again */
  struct mg_dash *dash;
};

/* A named group of fields. index non-NULL: an array set (*index is the element the
 * callback loads or stores; for a size query the framework sets it to -1 and the callback
 * sets the size; the callback sets -1 to end an iteration). get_dir non-NULL: a file
 * array over the dashboard's upload_fs (see mg_dash_dir_read). fn may be NULL (always
 * allowed). */
struct mg_field_set {
  const char *name;
  struct mg_field *fields; /* ends with an entry whose name is NULL */
  bool (*fn)(enum mg_dash_op op, struct mg_dash_user *u);
  int *index;
  bool (*get_dir)(const struct mg_dash_user *u, char *buf, size_t len);
  struct mg_field_set *next;
};

/* A handler for other URIs (mg_match pattern), called with MG_EV_HTTP_MSG. */
struct mg_dash_custom_handler {
  struct mg_dash_custom_handler *next;
  struct mg_str uri_pattern;
  mg_event_handler_t handler;
  void *handler_data; /* not passed to the handler (as in 7.22): mg_fn_data(c) is the dash */
};

/* A dashboard. authenticate(user, userlen, pass) checks a password (or token) and may fill
 * in user; it returns the access level, <= 0 to refuse. NULL: no login, every client is the
 * guest. session_auto_expiration_seconds: 0 means an hour. upload_fs: NULL means
 * mg_fs_posix. */
struct mg_dash {
  struct mg_field_set *sets;
  struct mg_dash_custom_handler *custom_handlers;
  int (*authenticate)(char *user, size_t userlen, const char *pass);
  int session_auto_expiration_seconds;
  struct mg_dash_user *guest;
  struct mg_fs *upload_fs;
};

/* meerkat reads enum fields as C ints: fail the build where enums are smaller
 * (-fshort-enums). */
typedef char mg_dash_enum_is_int_[sizeof(enum mg_val_type) == sizeof(int) ? 1 : -1];

#define MG_DASH_ADD_FIELD_SET(dash_, set_) \
  do {                                     \
    (set_)->next = (dash_)->sets;          \
    (dash_)->sets = (set_);                \
  } while (0)

#define MG_DASH_REGISTER_CUSTOM_HANDLER(dash_, uri_, fn_, data_) \
  do {                                                           \
    static struct mg_dash_custom_handler ch_;                    \
    ch_.next = (dash_)->custom_handlers;                         \
    ch_.uri_pattern = mg_str(uri_);                              \
    ch_.handler = (fn_);                                         \
    ch_.handler_data = (data_);                                  \
    (dash_)->custom_handlers = &ch_;                             \
  } while (0)

/* The dashboard's event handler: mg_http_listen(&mgr, url, mg_dash_ev_handler, &dash).
 * Owner thread. */
void mg_dash_ev_handler(struct mg_conn c, int ev, void *ev_data);

/* Notify the manager's dashboard WebSockets that set changed: an array set with
 * *set->index < 0 sends its new size, an array set its element *set->index, a scalar set
 * its values ({"method":"change","params":{...}}). Owner thread. */
void mg_dash_send_change(struct mg_mgr *mgr, struct mg_field_set *set);

/* Default reader of file-array sets: element *set->index of get_dir's directory (name into
 * the MG_VAL_STR field "name", size into a field "size"), -1 past the end; with
 * *set->index == -1 on entry, the number of entries. Owner thread. */
bool mg_dash_dir_read(struct mg_field_set *set, struct mg_dash_user *u);

/* Platform hooks of the no_std build (libmeerkat.a built without the `std` feature, as
 * scripts/footprint.sh does). Each is defined weak in the library; firmware overrides one by
 * defining a function with the same name and signature.
 * - mg_abort_hook: called once on an internal error the library cannot recover from (a Rust
 *   panic), with a message (not NUL-terminated); must not return. Default: abort().
 * - mg_alloc_hook / mg_realloc_hook / mg_free_hook: every heap allocation of the library
 *   (for example heap_caps_malloc(size, MALLOC_CAP_8BIT) on ESP-IDF). Defaults: malloc,
 *   realloc, free. The library asks for larger alignments itself, over these.
 * In the std build the Rust standard library provides both and the hooks are unused. */
void mg_abort_hook(const char *msg, size_t len);
void *mg_alloc_hook(size_t size);
void *mg_realloc_hook(void *ptr, size_t size);
void mg_free_hook(void *ptr);

#ifdef __cplusplus
}
#endif

#endif /* MEERKAT_TRAILER_H */
