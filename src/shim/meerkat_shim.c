/*
 * meerkat C shim: the printf family, mg_log and the %M printers.
 *
 * Stable Rust cannot define C-variadic functions, so these live in C, compiled by build.rs
 * into the meerkat crate (and therefore into libmeerkat.a). They reach the Rust core only
 * through its exported functions mg_send, mg_send_room, mg_http_reply_n, mg_http_write_chunk
 * and mg_log_write (the logging macros of trailer.h call mg_log_prefix themselves).
 *
 * It also holds the other variadic and va_list calls: mg_queue_printf, and the JSON-RPC
 * replies mg_rpc_ok/err/vok/verr, which print the head and tail that src/ffi/rpc.rs
 * computes around the caller's format.
 *
 * Written from scratch for meerkat; it follows the documented behaviour of Mongoose 7.x's
 * formatting functions (names, arguments, %m/%M/%Q extensions, printer output formats), not
 * its code. The supported format language is described in trailer.h.
 *
 * Design:
 * - One formatter core (mk_format) writes through a character sink that counts what it
 *   produced; every public function is a wrapper choosing the sink.
 * - Integers, characters, strings and the extensions are formatted here. Floating point,
 *   %p and wide characters are delegated, one conversion at a time, to the C library's
 *   snprintf (without the field width, which is applied here so a huge width never needs a
 *   buffer). The converted text goes to a small stack buffer; only a conversion longer than
 *   that (e.g. %.500f) takes a heap buffer. A float's decimal point is turned back into '.'
 *   when the application's locale uses another one, so JSON stays JSON.
 * - Strings are streamed straight from the argument: no length limit, no copy.
 * - A sink may have a limit: characters past it are counted but not handed to its output
 *   function, and runs past it (a huge field width, a long conversion) are counted without
 *   being produced. The calls that send (mg_printf, mg_http_reply, mg_http_printf_chunk)
 *   set it to the connection's remaining send room (mg_send_room), so output that could not
 *   be queued is refused with MG_ERR_FULL before it is built (G5: memory stays bounded by
 *   max_send whatever the format asks for).
 * - No global mutable state: every function is reentrant and thread-safe as long as the
 *   output function it is given is.
 */
#include "meerkat.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* Out of line: a helper called from several places stays one copy (the compiler would
 * inline it into each at -Os). */
#if defined(__GNUC__) || defined(__clang__)
#define MK_NOINLINE __attribute__((noinline))
#else
#define MK_NOINLINE
#endif

/* The place of c in set (a C string), or -1 (also for c == '\0'). In place of strchr,
 * which firmware would link for this alone. */
MK_NOINLINE static int mk_find(const char *set, char c) {
  int i;
  for (i = 0; c != '\0' && set[i] != '\0'; i++) {
    if (set[i] == c) return i;
  }
  return -1;
}

/* mk_find_pct(s): where the first '%' of s is, or its terminating NUL: one pass for "is
 * there a conversion" and "how long is it" (mg_http_reply's literal bodies). strchrnul, a
 * GNU extension that glibc and newlib (ESP-IDF) have, declared here since their headers
 * show it only with _GNU_SOURCE (which would change other declarations); elsewhere
 * strchr, then strlen when there is no '%'. */
#if defined(__GLIBC__) || defined(__NEWLIB__)
char *strchrnul(const char *s, int c);
#define mk_find_pct(s) ((const char *) strchrnul((s), '%'))
#else
static const char *mk_find_pct(const char *s) {
  const char *p = strchr(s, '%');
  return p != NULL ? p : s + strlen(s);
}
#endif

/* Error codes returned by mg_printf, as numbered in src/error.rs (MG_ERR_*). Private names,
 * so they cannot clash with the constants of the generated header. */
#define MK_ERR_FULL (-4)
#define MK_ERR_NOMEM (-13)
#define MK_ERR_TOO_LARGE (-16)

/* Declared in the generated header too; repeated so that the shim builds before the header
 * is regenerated (the header generator needs the crate, which needs the shim). */
int mg_send_room(struct mg_conn c, size_t *room);
/* src/ffi/rpc.rs: prints the head of a JSON-RPC reply; false when nothing is to be sent.
 * Not in the public header. */
bool mk_rpc_head(const struct mg_rpc_req *r, int is_err, int code);

/* Stack buffer sizes. Kept small: these functions run on MCU task stacks. */
#define MK_CONV_BUF 64   /* one delegated conversion (float, %p, %lc) */
#define MK_PRINTF_BUF 256 /* mg_printf output before it moves to the heap */
#define MK_LOG_BUF 128   /* mg_log chunk handed to mg_log_write */

/* ------------------------------------------------------------------------------------- */
/* Character sink                                                                        */

struct mk_sink {
  void (*out)(char, void *); /* NULL: count only */
  void *param;
  size_t n;     /* characters produced so far (saturates at SIZE_MAX) */
  size_t limit; /* characters past this many are counted, not output */
};

static void mk_count(struct mk_sink *s, size_t k) {
  s->n = s->n > SIZE_MAX - k ? SIZE_MAX : s->n + k;
}

/* Whether output still goes to s->out: false for count-only sinks and past the limit. */
static bool mk_live(const struct mk_sink *s) {
  return s->out != NULL && s->n < s->limit;
}

static void mk_put(struct mk_sink *s, char c) {
  if (mk_live(s)) s->out(c, s->param);
  mk_count(s, 1);
}

/* n characters: p[0 .. n), or c n times when p is NULL. What is past the sink's limit is
 * counted, not produced. */
static void mk_run(struct mk_sink *s, const char *p, char c, size_t n) {
  size_t i;
  for (i = 0; i < n && mk_live(s); i++) mk_put(s, p != NULL ? p[i] : c);
  mk_count(s, n - i);
}

#define mk_write(s, p, n) mk_run((s), (p), 0, (n))
#define mk_repeat(s, c, n) mk_run((s), NULL, (c), (n))

/* An output function that forwards into a sink: given to %M printers, so that what they
 * print is counted by the sink whatever number they return. */
static void mk_sink_cb(char c, void *param) {
  mk_put((struct mk_sink *) param, c);
}

static const char mk_hex_lower[] = "0123456789abcdef";
static const char mk_hex_upper[] = "0123456789ABCDEF";

static void mk_udec(struct mk_sink *s, unsigned long v) {
  char tmp[3 * sizeof(unsigned long) + 1];
  size_t i = sizeof(tmp);
  do {
    tmp[--i] = (char) ('0' + (int) (v % 10u));
    v /= 10u;
  } while (v != 0);
  mk_write(s, tmp + i, sizeof(tmp) - i);
}

/* ------------------------------------------------------------------------------------- */
/* Conversion specifications                                                             */

/* The length modifiers, numbered as their letters' places in mk_len_chars (plus 6 for the
 * doubled hh and ll). */
enum mk_len { LEN_NONE, LEN_H, LEN_L, LEN_Z, LEN_T, LEN_J, LEN_BIG_L, LEN_HH, LEN_LL };
static const char mk_len_chars[] = "hlztjL";
/* The size of the integer each length modifier names (t: as z, the same width). */
static const unsigned char mk_len_bytes[] = {sizeof(int),       sizeof(short),     sizeof(long),
                                             sizeof(size_t),    sizeof(size_t),    sizeof(uintmax_t),
                                             sizeof(long long), 1,                 sizeof(long long)};

/* The flags, numbered as their characters' places in mk_flag_chars. */
enum { F_LEFT, F_PLUS, F_SPACE, F_ALT, F_ZERO };
static const char mk_flag_chars[] = "-+ #0";

/* The conversions, by class: mk_format's places for each. */
static const char mk_conv_chars[] = "diuoxXcseEfFgGaApn%QqMmHV";
enum { C_CHR = 6, C_STR = 7, C_PTR = 16, C_N = 17, C_PCT = 18, C_BIG_Q = 19, C_Q = 20, C_BIG_M = 21,
       C_M = 22 };

struct mk_spec {
  bool f[5]; /* F_LEFT ... F_ZERO */
  size_t width; /* 0: none */
  int prec;     /* < 0: none */
  enum mk_len len;
  char conv;
};

/* Emit pre, then `zeros` '0' characters, then body, padded with spaces to the field width
 * (or with more zeros after pre when zero_pad, the '0' flag's rule). */
static void mk_field(struct mk_sink *s, const struct mk_spec *sp, const char *pre, size_t plen,
                     size_t zeros, const char *body, size_t blen, bool zero_pad) {
  size_t total = plen + zeros + blen, lead = 0;
  size_t pad = sp->width > total ? sp->width - total : 0; /* after the body ('-' flag) */
  if (!sp->f[F_LEFT]) { /* before the body: spaces first, or zeros after pre */
    if (zero_pad) {
      zeros += pad;
    } else {
      lead = pad;
    }
    pad = 0;
  }
  mk_repeat(s, ' ', lead);
  mk_write(s, pre, plen);
  mk_repeat(s, '0', zeros);
  mk_write(s, body, blen);
  mk_repeat(s, ' ', pad);
}

/* %d %i %u %o %x %X, numbered k = 0 .. 5 in that order (their places in mk_conv_chars).
 * `mag` is the magnitude, `neg` its sign (signed conversions only). */
static void mk_integer(struct mk_sink *s, const struct mk_spec *sp, uintmax_t mag, bool neg,
                       int k) {
  char digits[3 * sizeof(uintmax_t) + 1]; /* octal needs ceil(bits / 3) digits */
  char pre[2];
  size_t plen = 0, nd, zeros = 0, i = sizeof(digits);
  unsigned base = k < 3 ? 10 : k == 3 ? 8 : 16;
  const char *set = k == 5 ? mk_hex_upper : mk_hex_lower;
  bool nonzero = mag != 0;

  while (mag != 0) {
    digits[--i] = set[mag % base];
    mag /= base;
  }
  nd = sizeof(digits) - i;
  if (sp->prec >= 0) {
    if ((size_t) sp->prec > nd) zeros = (size_t) sp->prec - nd;
  } else if (nd == 0) {
    zeros = 1; /* default precision 1: zero prints as "0" */
  }
  if (k < 2) { /* d i */
    if (neg) {
      pre[plen++] = '-';
    } else if (sp->f[F_PLUS]) {
      pre[plen++] = '+';
    } else if (sp->f[F_SPACE]) {
      pre[plen++] = ' ';
    }
  }
  if (sp->f[F_ALT] && k == 3 && zeros == 0) zeros = 1; /* %#o: first digit must be 0 */
  if (sp->f[F_ALT] && k > 3 && nonzero) { /* %#x %#X */
    pre[plen++] = '0';
    pre[plen++] = sp->conv;
  }
  mk_field(s, sp, pre, plen, zeros, digits + i, nd, sp->f[F_ZERO] && sp->prec < 0);
}

/* JSON string escaping of n bytes (no quotes). */
static void mk_json_esc(struct mk_sink *s, const char *p, size_t n) {
  static const char from[7] = {'"', '\\', '\b', '\f', '\n', '\r', '\t'};
  static const char to[7] = {'"', '\\', 'b', 'f', 'n', 'r', 't'};
  size_t i, k;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char) p[i];
    for (k = 0; k < sizeof(from) && from[k] != (char) c; k++) continue;
    if (k < sizeof(from)) {
      mk_put(s, '\\');
      mk_put(s, to[k]);
    } else if (c < 0x20) {
      mk_write(s, "\\u00", 4);
      mk_put(s, mk_hex_lower[c >> 4]);
      mk_put(s, mk_hex_lower[c & 15]);
    } else {
      mk_put(s, (char) c);
    }
  }
}

static void mk_hex(struct mk_sink *s, const unsigned char *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    mk_put(s, mk_hex_lower[p[i] >> 4]);
    mk_put(s, mk_hex_lower[p[i] & 15]);
  }
}

static void mk_base64(struct mk_sink *s, const unsigned char *p, size_t n) {
  static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i;
  /* Three bytes (or the last one or two, zero-filled) give four characters, of which a
   * short group prints k + 1 and pads the rest with '='. */
  for (i = 0; i < n; i += 3) {
    size_t k = n - i < 3 ? n - i : 3, j;
    unsigned long v = (unsigned long) p[i] << 16;
    if (k > 1) v |= (unsigned long) p[i + 1] << 8;
    if (k > 2) v |= p[i + 2];
    for (j = 0; j < 4; j++) mk_put(s, j <= k ? tbl[(v >> (18 - 6 * j)) & 63] : '=');
  }
}

/* ------------------------------------------------------------------------------------- */
/* Conversions delegated to the C library                                                */

/* %lc, %ls (wide characters) and the L length of the float conversions (long double), as
 * the C library prints them: the `printf-wide` cargo feature (on by default; build.rs
 * defines MK_NO_PRINTF_WIDE without it). Mongoose's printf has none of them. Without it,
 * such a conversion consumes its argument and prints its specification as written
 * ("%ls", "%.3Lf"), so the output shows what is missing and the arguments after it
 * stay in step. */
#ifdef MK_NO_PRINTF_WIDE
#define MK_PRINTF_WIDE 0
#else
#define MK_PRINTF_WIDE 1
#endif

/* %Q and %q (a string JSON-escaped, in quotes or not), %H and %V (bytes in hex and base64,
 * in quotes): the `printf-json` cargo feature (on by default; build.rs defines
 * MK_NO_PRINTF_JSON without it). Mongoose 7.x's printf has none of them (its %m with
 * mg_print_esc, mg_print_hex and mg_print_base64 does the same, and is always there).
 * Without it, such a conversion consumes its arguments and prints its specification as
 * written ("%Q"). */
#ifdef MK_NO_PRINTF_JSON
#define MK_PRINTF_JSON 0
#else
#define MK_PRINTF_JSON 1
#endif

enum mk_kind { K_DOUBLE, K_LDOUBLE, K_PTR, K_WCHAR, K_WSTR };

union mk_val {
  double d;
  long double ld;
  const void *p;
  wint_t wc;
  const wchar_t *ws;
};

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#endif
/* The format is built by mk_libc_conv from a parsed specification, and the argument has
 * the type that specification names; the floats and %ls take their precision as a `*`
 * argument (negative: as if omitted, C99 7.19.6.1). */
MK_NOINLINE static int mk_libc_one(char *buf, size_t size, const char *f, enum mk_kind k,
                                   int prec, const union mk_val *v) {
  switch (k) {
    case K_DOUBLE: return snprintf(buf, size, f, prec, v->d);
    case K_PTR: return snprintf(buf, size, f, v->p);
#if MK_PRINTF_WIDE
    case K_LDOUBLE: return snprintf(buf, size, f, prec, v->ld);
    case K_WCHAR: return snprintf(buf, size, f, v->wc);
    case K_WSTR: return snprintf(buf, size, f, prec, v->ws);
#else
    default: break;
#endif
  }
  return -1;
}
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

/* JSON and HTTP want '.' whatever LC_NUMERIC the application chose with setlocale: the
 * locale's radix text ("," or the two bytes of U+066B...), found as what the C library
 * puts between the 1 and the 5 of 1.5 (no thread-unsafe locale query), is replaced by '.'
 * where it first occurs in buf's n characters (a formatted float has one at most: its
 * other characters are a sign, digits, "0x", an exponent, "inf" or "nan"). Returns the new
 * length. */
static size_t mk_c_radix(char *buf, size_t n) {
  char r[16];
  int k = snprintf(r, sizeof(r), "%.1f", 1.5) - 2; /* the radix is r[1] .. r[k] */
  size_t i;
  if (k <= 0 || k > (int) sizeof(r) - 3 || (k == 1 && r[1] == '.')) return n;
  for (i = 0; i + (size_t) k <= n; i++) {
    if (memcmp(buf + i, r + 1, (size_t) k) == 0) {
      buf[i] = '.';
      memmove(buf + i + 1, buf + i + k, n - i - (size_t) k);
      return n - (size_t) k + 1;
    }
  }
  return n;
}

/* Format one conversion with snprintf, without the field width (applied here, so the
 * result stays short), then pad it. */
static void mk_libc_conv(struct mk_sink *s, const struct mk_spec *sp, enum mk_kind k,
                         const union mk_val *v) {
  char f[16], stackbuf[MK_CONV_BUF], *buf = stackbuf;
  size_t fl = 0, n, plen = 0;
  /* What the sink still hands to its output (a count-only sink: no limit). */
  size_t room = s->out == NULL ? SIZE_MAX : s->n < s->limit ? s->limit - s->n : 0;
  bool is_float = k == K_DOUBLE || k == K_LDOUBLE;
  int r;

  f[fl++] = '%';
  if (is_float) {
    int i;
    for (i = F_PLUS; i <= F_ALT; i++) {
      if (sp->f[i]) f[fl++] = mk_flag_chars[i];
    }
  }
  if (is_float || k == K_WSTR) { /* the precision as an argument (mk_libc_one) */
    f[fl++] = '.';
    f[fl++] = '*';
  }
#if MK_PRINTF_WIDE
  if (k == K_LDOUBLE) f[fl++] = 'L';
  if (k == K_WCHAR || k == K_WSTR) f[fl++] = 'l';
#endif
  f[fl++] = sp->conv;
  f[fl] = '\0';

  if (is_float && sp->prec > 0 && (size_t) sp->prec > room &&
      (sp->f[F_ALT] || (sp->conv != 'g' && sp->conv != 'G'))) {
    /* %.Nf %.Ne %.Na (and %#.Ng) print at least N digits: past the sink's limit. The C
     * library would allocate in proportion to N to produce them (glibc: 1 GB for
     * N = 2e8), only for them to be discarded: count them instead. */
    mk_count(s, (size_t) sp->prec > sp->width ? (size_t) sp->prec : sp->width);
    return;
  }
  r = mk_libc_one(stackbuf, sizeof(stackbuf), f, k, sp->prec, v);
  if (r < 0) return; /* encoding error: nothing to print */
  n = (size_t) r;
  /* (n >= sizeof(stackbuf) > 16, so n - 16 does not wrap.) */
  if (n >= sizeof(stackbuf) && n - 16 > room) {
    /* Past the sink's limit whatever the radix fix below removes (a few bytes at most):
     * what it would print is discarded, so count it without building it. */
    mk_count(s, n > sp->width ? n : sp->width);
    return;
  }
  if (n >= sizeof(stackbuf)) {
    char *big = (char *) malloc(n + 1);
    if (big != NULL && mk_libc_one(big, n + 1, f, k, sp->prec, v) == r) {
      buf = big;
    } else {
      n = sizeof(stackbuf) - 1; /* out of memory: print what fitted */
    }
    if (buf != big) free(big);
  }

  if (is_float) {
    /* The '0' flag pads after the sign and after a hex-float "0x", never inf or nan. */
    bool zero_pad;
    n = mk_c_radix(buf, n);
    if (n > 0 && mk_find("+- ", buf[0]) >= 0) plen = 1;
    if ((sp->conv | 0x20) == 'a' && n >= plen + 2 && buf[plen] == '0' &&
        (buf[plen + 1] | 0x20) == 'x') {
      plen += 2;
    }
    zero_pad = sp->f[F_ZERO] && n > plen && buf[plen] >= '0' && buf[plen] <= '9';
    mk_field(s, sp, buf, plen, 0, buf + plen, n - plen, zero_pad);
  } else {
    mk_field(s, sp, "", 0, 0, buf, n, false);
  }
  if (buf != stackbuf) free(buf);
}

/* ------------------------------------------------------------------------------------- */
/* The formatter                                                                         */

/* A field width or precision at *pp: `*` takes the next int argument, else the digits
 * there (none: 0), their value capped at INT_MAX. */
static uintmax_t mk_uarg(va_list *ap, enum mk_len len);

static int mk_num(const char **pp, va_list *ap) {
  const char *p = *pp;
  int v = 0;
  if (*p == '*') {
    *pp = p + 1;
    return (int) mk_uarg(ap, LEN_NONE);
  }
  while (*p >= '0' && *p <= '9') {
    int d = *p++ - '0';
    v = v > (INT_MAX - d) / 10 ? INT_MAX : v * 10 + d;
  }
  *pp = p;
  return v;
}

/* The next integer argument, of the unsigned type of the width `len` names (hh and h: the
 * promoted unsigned int; the caller cuts it to width). One place for every integer read
 * (conversions, `*` widths and precisions, %c, the lengths of %H and %V). */
MK_NOINLINE static uintmax_t mk_uarg(va_list *ap, enum mk_len len) {
  /* The promoted ones first: where the other four types have one width (LP64), the
   * compiler makes the switch one read, not a jump table. */
  if (len <= LEN_H || len == LEN_HH) return va_arg(*ap, unsigned int);
  switch (len) {
    case LEN_L: return va_arg(*ap, unsigned long);
    case LEN_Z:
    case LEN_T: return va_arg(*ap, size_t); /* same width */
    case LEN_J: return va_arg(*ap, uintmax_t);
    default: return va_arg(*ap, unsigned long long); /* ll, L */
  }
}

/* The next pointer argument of a conversion that takes a pointer to characters or to void
 * (%s %q %Q %H %V %p %n: reading one as the other is allowed by C99 7.15.1.1). */
MK_NOINLINE static const char *mk_parg(va_list *ap) {
  return va_arg(*ap, const char *);
}

/* The bytes of str to print: up to its NUL, at most prec of them (prec < 0: no limit). */
static size_t mk_strnlen(const char *str, int prec) {
  size_t n = 0, limit = prec >= 0 ? (size_t) prec : (size_t) -1;
  while (n < limit && str[n] != '\0') n++;
  return n;
}

static void mk_format(struct mk_sink *s, const char *fmt, va_list *ap) {
  const char *p = fmt;
  while (*p != '\0') {
    const char *start;
    struct mk_spec sp;
    int w, i;
    const char *body = NULL; /* %c %s: what is padded to the width, blen bytes */
    size_t blen = 0;
    char ch;

    if (*p != '%') {
      mk_put(s, *p++);
      continue;
    }
    start = p++;
    memset(&sp, 0, sizeof(sp));
    sp.prec = -1;

    while ((i = mk_find(mk_flag_chars, *p)) >= 0) {
      sp.f[i] = true;
      p++;
    }
    w = mk_num(&p, ap);
    if (w < 0) { /* a negative `*` width: '-' flag and its magnitude (also for INT_MIN) */
      sp.f[F_LEFT] = true;
      sp.width = (size_t) (0u - (unsigned) w);
    } else {
      sp.width = (size_t) w;
    }
    if (*p == '.') {
      p++;
      w = mk_num(&p, ap);
      sp.prec = w < 0 ? -1 : w; /* negative `*`: as if omitted */
    }
    if ((i = mk_find(mk_len_chars, *p)) >= 0) {
      sp.len = (enum mk_len) (i + 1);
      p++;
      if (sp.len <= LEN_L && *p == p[-1]) { /* hh, ll */
        sp.len = (enum mk_len) (sp.len + (LEN_HH - LEN_H));
        p++;
      }
    }
    sp.conv = *p;
    /* The format may end inside a specification: then it is printed as is, as an unknown
     * conversion is (mk_find finds no '\0'), and the loop ends at the NUL. */
    if (sp.conv != '\0') p++;
    if (sp.f[F_LEFT]) sp.f[F_ZERO] = false; /* '-' overrides '0' */

    /* The conversion's place in mk_conv_chars: the classes by ranges (no jump table). */
    i = mk_find(mk_conv_chars, sp.conv);
    do { /* `break` ends the conversion */
      if (i < 0) { /* unknown: print the specification as written, consume nothing */
        mk_write(s, start, (size_t) (p - start));
      } else if (i < C_CHR) { /* d i u o x X */
        /* One read for both signednesses (the unsigned type of the argument's width), then
         * the value is cut to that width (hh: char, h: short) and, for %d and %i, taken as
         * two's complement: its sign and magnitude. */
        bool is_signed = i < 2; /* d i */
        uintmax_t v = mk_uarg(ap, sp.len);
        uintmax_t top = (uintmax_t) 1 << (mk_len_bytes[sp.len] * CHAR_BIT - 1);
        uintmax_t mask = (top << 1) - 1; /* all ones at uintmax_t's own width */
        bool neg;
        v &= mask;
        neg = is_signed && (v & top) != 0;
        mk_integer(s, &sp, neg ? (0 - v) & mask : v, neg, i);
      } else if (i == C_CHR) {
        if (sp.len == LEN_L) {
#if MK_PRINTF_WIDE
          union mk_val v;
#if WINT_MAX < INT_MAX
          v.wc = (wint_t) va_arg(*ap, int); /* a narrow wint_t is promoted to int */
#else
          v.wc = va_arg(*ap, wint_t);
#endif
          mk_libc_conv(s, &sp, K_WCHAR, &v);
#else
          (void) mk_uarg(ap, LEN_NONE); /* wint_t: an unsigned int or int where promoted */
          mk_write(s, start, (size_t) (p - start));
#endif
        } else {
          ch = (char) mk_uarg(ap, LEN_NONE);
          body = &ch;
          blen = 1;
        }
      } else if (i == C_STR) {
        if (sp.len == LEN_L) {
#if MK_PRINTF_WIDE
          union mk_val v;
          v.ws = va_arg(*ap, const wchar_t *);
          mk_libc_conv(s, &sp, K_WSTR, &v);
#else
          (void) mk_parg(ap); /* a pointer, not looked at */
          mk_write(s, start, (size_t) (p - start));
#endif
        } else {
          body = mk_parg(ap);
          if (body == NULL) body = "(null)";
          blen = mk_strnlen(body, sp.prec);
        }
      } else if (i < C_PTR) { /* e E f F g G a A */
        union mk_val v;
        if (sp.len == LEN_BIG_L) {
          v.ld = va_arg(*ap, long double);
#if MK_PRINTF_WIDE
          mk_libc_conv(s, &sp, K_LDOUBLE, &v);
#else
          mk_write(s, start, (size_t) (p - start));
#endif
        } else {
          v.d = va_arg(*ap, double);
          mk_libc_conv(s, &sp, K_DOUBLE, &v);
        }
      } else if (i == C_PTR) {
        union mk_val v;
        v.p = mk_parg(ap);
        mk_libc_conv(s, &sp, K_PTR, &v);
      } else if (i == C_N) {
        (void) mk_parg(ap); /* consumed, never written through */
      } else if (i == C_PCT) {
        mk_put(s, '%');
      } else { /* Q q M m H V */
        /* The extensions: %m %M call a printer, %Q %q print a string JSON-escaped, %H %V
         * bytes in hex and base64; %m %Q %H %V in double quotes. A NULL string: %Q prints
         * null, %q nothing. */
        bool quote = i != C_Q && i != C_BIG_M;
        mg_pm_t fn = NULL;
        const char *str = NULL;
        int n = 0;
        if (i == C_BIG_M || i == C_M) {
          fn = va_arg(*ap, mg_pm_t);
        } else {
          if (i > C_M) n = (int) mk_uarg(ap, LEN_NONE); /* H V */
          str = mk_parg(ap);
          if (!MK_PRINTF_JSON) { /* not built: the arguments consumed, the spec as written */
            mk_write(s, start, (size_t) (p - start));
            break;
          }
          if (str == NULL && i <= C_Q) {
            if (i == C_BIG_Q) mk_write(s, "null", 4);
            break;
          }
        }
        if (quote) mk_put(s, '"');
        if (fn != NULL) {
          (void) fn(mk_sink_cb, s, ap);
        } else if (str != NULL && i <= C_Q) {
          mk_json_esc(s, str, mk_strnlen(str, sp.prec));
        } else if (str != NULL && n > 0) {
          (sp.conv == 'H' ? mk_hex : mk_base64)(s, (const unsigned char *) str, (size_t) n);
        }
        if (quote) mk_put(s, '"');
      }
    } while (0);
    if (body != NULL) mk_field(s, &sp, "", 0, 0, body, blen, false); /* %c %s */
  }
}

/* ------------------------------------------------------------------------------------- */
/* Public API: generic output                                                            */

/* mg_vxprintf with a limit: at most `limit` characters reach `out`; the return value is
 * the full length all the same. */
static size_t mk_vxprintf_n(void (*out)(char, void *), void *param, size_t limit,
                            const char *fmt, va_list *ap) {
  struct mk_sink s;
  s.out = out;
  s.param = param;
  s.n = 0;
  s.limit = limit;
  if (fmt != NULL && ap != NULL) mk_format(&s, fmt, ap);
  return s.n;
}

size_t mg_vxprintf(void (*out)(char, void *), void *param, const char *fmt, va_list *ap) {
  return mk_vxprintf_n(out, param, SIZE_MAX, fmt, ap);
}

size_t mg_xprintf(void (*out)(char, void *), void *param, const char *fmt, ...) {
  size_t n;
  va_list ap;
  va_start(ap, fmt);
  n = mg_vxprintf(out, param, fmt, &ap);
  va_end(ap);
  return n;
}

void mg_pfn_stdout(char c, void *param) {
  (void) param;
  putchar((unsigned char) c);
}

/* ------------------------------------------------------------------------------------- */
/* Public API: fixed buffer                                                              */

struct mk_fixed {
  char *buf;
  size_t cap; /* bytes available for characters: len - 1 */
  size_t pos;
};

static void mk_fixed_put(char c, void *param) {
  struct mk_fixed *f = (struct mk_fixed *) param;
  if (f->pos < f->cap) f->buf[f->pos] = c;
  f->pos++;
}

size_t mg_vsnprintf(char *buf, size_t len, const char *fmt, va_list *ap) {
  struct mk_fixed f;
  size_t n;
  if (buf == NULL) len = 0;
  f.buf = buf;
  f.cap = len > 0 ? len - 1 : 0;
  f.pos = 0;
  n = mg_vxprintf(mk_fixed_put, &f, fmt, ap);
  if (len > 0) buf[n < f.cap ? n : f.cap] = '\0';
  return n;
}

size_t mg_snprintf(char *buf, size_t len, const char *fmt, ...) {
  size_t n;
  va_list ap;
  va_start(ap, fmt);
  n = mg_vsnprintf(buf, len, fmt, &ap);
  va_end(ap);
  return n;
}

/* ------------------------------------------------------------------------------------- */
/* Public API: growing buffer (heap strings, mg_printf)                                  */

struct mk_dyn {
  char *buf; /* starts as a caller's stack buffer, moves to the heap when it fills */
  size_t len, cap;
  bool heap, oom;
};

static void mk_dyn_put(char c, void *param) {
  struct mk_dyn *d = (struct mk_dyn *) param;
  if (d->oom) return;
  if (d->len + 1 >= d->cap) { /* keep room for a terminating NUL */
    size_t ncap = d->cap < 64 ? 128 : d->cap * 2;
    char *nb;
    if (d->cap > SIZE_MAX / 2) {
      d->oom = true;
      return;
    }
    nb = (char *) realloc(d->heap ? d->buf : NULL, ncap); /* NULL: as malloc */
    if (nb == NULL) {
      d->oom = true;
      return;
    }
    if (!d->heap) memcpy(nb, d->buf, d->len);
    d->buf = nb;
    d->cap = ncap;
    d->heap = true;
  }
  d->buf[d->len++] = c;
}

/* Format into d, starting in the caller's stackbuf of size bytes. At most `limit`
 * characters are stored; returns the full length (more than `limit`: d holds a prefix). */
static size_t mk_dyn_format(struct mk_dyn *d, char *stackbuf, size_t size, size_t limit,
                            const char *fmt, va_list *ap) {
  d->buf = stackbuf;
  d->len = 0;
  d->cap = size;
  d->heap = false;
  d->oom = false;
  return mk_vxprintf_n(mk_dyn_put, d, limit, fmt, ap);
}

static void mk_dyn_free(struct mk_dyn *d) {
  if (d->heap) free(d->buf);
  d->buf = NULL;
  d->heap = false;
}

char *mg_vmprintf(const char *fmt, va_list *ap) {
  char stackbuf[MK_CONV_BUF];
  struct mk_dyn d;
  char *res;
  mk_dyn_format(&d, stackbuf, sizeof(stackbuf), SIZE_MAX, fmt, ap);
  if (d.oom) {
    mk_dyn_free(&d);
    return NULL;
  }
  if (d.heap) {
    d.buf[d.len] = '\0';
    return d.buf; /* the caller frees it */
  }
  res = (char *) malloc(d.len + 1);
  if (res != NULL) {
    memcpy(res, d.buf, d.len);
    res[d.len] = '\0';
  }
  return res;
}

char *mg_mprintf(const char *fmt, ...) {
  char *res;
  va_list ap;
  va_start(ap, fmt);
  res = mg_vmprintf(fmt, &ap);
  va_end(ap);
  return res;
}

/* Format for sending on `c` (G5): at most the send room of `c` is built, since what goes
 * out can be no longer than that (framing only adds to it). Returns 0 with the output in
 * `*d` (free it with mk_dyn_free), or a negative code with nothing to free: the call's
 * error for a stale, closing or listening `c`, MK_ERR_FULL when the output would not fit
 * (refused before it was built), MK_ERR_NOMEM. The Rust call that queues the output then
 * checks its exact framed size. */
static int mk_format_for(struct mg_conn c, struct mk_dyn *d, char *stackbuf, size_t stacklen,
                         const char *fmt, va_list *ap) {
  size_t room, total;
  int rc = mg_send_room(c, &room);
  if (rc < 0) return rc;
  total = mk_dyn_format(d, stackbuf, stacklen, room, fmt, ap);
  if (total <= room && !d->oom) return 0;
  mk_dyn_free(d);
  return total > room ? MK_ERR_FULL : MK_ERR_NOMEM;
}

int mg_vprintf(struct mg_conn c, const char *fmt, va_list *ap) {
  char stackbuf[MK_PRINTF_BUF];
  struct mk_dyn d;
  int rc = mk_format_for(c, &d, stackbuf, sizeof(stackbuf), fmt, ap);
  if (rc < 0) return rc;
  if (d.len > (size_t) INT_MAX) {
    rc = MK_ERR_TOO_LARGE;
  } else {
    /* One call: the connection gets all of it or, on error, none of it. */
    rc = mg_send(c, (const void *) d.buf, d.len);
    if (rc >= 0) rc = (int) d.len;
  }
  mk_dyn_free(&d);
  return rc;
}

int mg_printf(struct mg_conn c, const char *fmt, ...) {
  int rc;
  va_list ap;
  va_start(ap, fmt);
  rc = mg_vprintf(c, fmt, &ap);
  va_end(ap);
  return rc;
}

/* ------------------------------------------------------------------------------------- */
/* Public API: HTTP replies (the Rust core frames and queues them)                        */

/* Declared here as well as in the generated header, so that the shim builds before the
 * header is regenerated (the header generator needs the crate, which needs the shim). */
int mg_http_reply_n(struct mg_conn c, int status, const char *headers, const char *body, size_t len);
int mg_http_write_chunk(struct mg_conn c, const void *buf, size_t len);

int mg_http_reply(struct mg_conn c, int status, const char *headers, const char *fmt, ...) {
  char stackbuf[MK_PRINTF_BUF];
  struct mk_dyn d;
  int rc;
  va_list ap;
  /* A body with no conversion in it (the common "hello\n" or a fixed JSON text) is its own
   * output: handed to the core as it is, without formatting it into a buffer. The core
   * checks its framed size against the send room (MK_ERR_FULL) and the connection's state
   * exactly as it does for formatted output, so the result is the same. */
  if (fmt != NULL) {
    const char *end = mk_find_pct(fmt);
    if (*end == '\0') return mg_http_reply_n(c, status, headers, fmt, (size_t) (end - fmt));
  }
  va_start(ap, fmt);
  rc = mk_format_for(c, &d, stackbuf, sizeof(stackbuf), fmt, &ap);
  va_end(ap);
  if (rc < 0) return rc;
  rc = mg_http_reply_n(c, status, headers, d.buf, d.len);
  mk_dyn_free(&d);
  return rc;
}

int mg_http_printf_chunk(struct mg_conn c, const char *fmt, ...) {
  char stackbuf[MK_PRINTF_BUF];
  struct mk_dyn d;
  int rc;
  va_list ap;
  va_start(ap, fmt);
  rc = mk_format_for(c, &d, stackbuf, sizeof(stackbuf), fmt, &ap);
  va_end(ap);
  if (rc < 0) return rc;
  rc = mg_http_write_chunk(c, d.buf, d.len);
  mk_dyn_free(&d);
  return rc;
}

/* ------------------------------------------------------------------------------------- */
/* Public API: WebSocket (the Rust core validates, frames and queues)                      */

int mg_ws_upgrade_n(struct mg_conn c, const struct mg_http_message *hm, const char *headers,
                    size_t len);
struct mg_conn mg_ws_connect_n(struct mg_mgr *mgr, const char *url, mg_event_handler_t fn,
                               void *fn_data, const char *headers, size_t len);
int mg_ws_send(struct mg_conn c, const void *buf, size_t len, int op);

int mg_ws_upgrade(struct mg_conn c, struct mg_http_message *hm, const char *fmt, ...) {
  char stackbuf[MK_PRINTF_BUF];
  struct mk_dyn d;
  int rc;
  va_list ap;
  if (fmt == NULL) return mg_ws_upgrade_n(c, hm, NULL, 0);
  va_start(ap, fmt);
  rc = mk_format_for(c, &d, stackbuf, sizeof(stackbuf), fmt, &ap);
  va_end(ap);
  if (rc < 0) return rc;
  rc = mg_ws_upgrade_n(c, hm, d.buf, d.len);
  mk_dyn_free(&d);
  return rc;
}

int mg_ws_vprintf(struct mg_conn c, int op, const char *fmt, va_list *ap) {
  char stackbuf[MK_PRINTF_BUF];
  struct mk_dyn d;
  int rc = mk_format_for(c, &d, stackbuf, sizeof(stackbuf), fmt, ap);
  if (rc < 0) return rc;
  rc = mg_ws_send(c, d.buf, d.len, op);
  mk_dyn_free(&d);
  return rc;
}

int mg_ws_printf(struct mg_conn c, int op, const char *fmt, ...) {
  int rc;
  va_list ap;
  va_start(ap, fmt);
  rc = mg_ws_vprintf(c, op, fmt, &ap);
  va_end(ap);
  return rc;
}

struct mg_conn mg_ws_connect(struct mg_mgr *mgr, const char *url, mg_event_handler_t fn,
                             void *fn_data, const char *fmt, ...) {
  char stackbuf[MK_PRINTF_BUF];
  struct mk_dyn d;
  struct mg_conn res;
  va_list ap;
  if (fmt == NULL) return mg_ws_connect_n(mgr, url, fn, fn_data, NULL, 0);
  va_start(ap, fmt);
  mk_dyn_format(&d, stackbuf, sizeof(stackbuf), 64 * 1024, fmt, &ap);
  va_end(ap);
  /* Out of memory: headers (NULL, 1) make the Rust call fail with MG_ERR_INVALID. */
  res = mg_ws_connect_n(mgr, url, fn, fn_data, d.oom ? NULL : d.buf, d.oom ? 1 : d.len);
  mk_dyn_free(&d);
  return res;
}

/* ------------------------------------------------------------------------------------- */
/* Public API: logging                                                                   */

struct mk_logbuf {
  char buf[MK_LOG_BUF];
  size_t len;
};

static void mk_log_flush(struct mk_logbuf *lb) {
  if (lb->len > 0) mg_log_write((const void *) lb->buf, lb->len);
  lb->len = 0;
}

static void mk_log_put(char c, void *param) {
  struct mk_logbuf *lb = (struct mk_logbuf *) param;
  lb->buf[lb->len++] = c;
  if (lb->len == sizeof(lb->buf)) mk_log_flush(lb);
}

void mg_log(const char *fmt, ...) {
  struct mk_logbuf lb;
  va_list ap;
  lb.len = 0;
  va_start(ap, fmt);
  mg_vxprintf(mk_log_put, &lb, fmt, &ap);
  va_end(ap);
  mk_log_put('\r', &lb);
  mk_log_put('\n', &lb);
  mk_log_flush(&lb);
}

/* ------------------------------------------------------------------------------------- */
/* %M printers                                                                           */

static void mk_ip4(struct mk_sink *s, const uint8_t *ip) {
  int i;
  for (i = 0; i < 4; i++) {
    if (i > 0) mk_put(s, '.');
    mk_udec(s, ip[i]);
  }
}

/* Eight groups of lowercase hex without leading zeros, no "::" compression, in brackets:
 * the form Mongoose 7.x prints. */
static void mk_ip6(struct mk_sink *s, const uint8_t *ip) {
  int i;
  mk_put(s, '[');
  for (i = 0; i < 8; i++) {
    unsigned g = ((unsigned) ip[2 * i] << 8) | ip[2 * i + 1];
    int shift;
    bool started = false;
    if (i > 0) mk_put(s, ':');
    for (shift = 12; shift >= 0; shift -= 4) {
      unsigned d = (g >> shift) & 15u;
      if (d != 0 || started || shift == 0) {
        mk_put(s, mk_hex_lower[d]);
        started = true;
      }
    }
  }
  mk_put(s, ']');
}

static void mk_addr(struct mk_sink *s, const struct mg_addr *a, bool with_port) {
  if (a == NULL) {
    mk_write(s, "(null)", 6);
    return;
  }
  if (a->is_ip6) {
    mk_ip6(s, a->ip);
  } else {
    mk_ip4(s, a->ip);
  }
  if (with_port) {
    const uint8_t *pb = (const uint8_t *) &a->port; /* network byte order */
    mk_put(s, ':');
    mk_udec(s, ((unsigned long) pb[0] << 8) | pb[1]);
  }
}

#define MK_SINK(name, fn, arg) \
  struct mk_sink name;         \
  name.out = (fn);             \
  name.param = (arg);          \
  name.n = 0;                  \
  name.limit = SIZE_MAX

size_t mg_print_ip(void (*out)(char, void *), void *param, va_list *ap) {
  MK_SINK(s, out, param);
  mk_addr(&s, va_arg(*ap, const struct mg_addr *), false);
  return s.n;
}

size_t mg_print_ip_port(void (*out)(char, void *), void *param, va_list *ap) {
  MK_SINK(s, out, param);
  mk_addr(&s, va_arg(*ap, const struct mg_addr *), true);
  return s.n;
}

/* The printers that take one pointer to raw bytes: NULL prints "(null)". */
static size_t mk_print_raw(void (*out)(char, void *), void *param, va_list *ap,
                           void (*print)(struct mk_sink *, const uint8_t *)) {
  const uint8_t *p = va_arg(*ap, const uint8_t *);
  MK_SINK(s, out, param);
  if (p == NULL) {
    mk_write(&s, "(null)", 6);
  } else {
    print(&s, p);
  }
  return s.n;
}

/* `n` bytes as colon-separated hex pairs: a MAC (6), an EUI-64 (8). */
static void mk_hex_colons(struct mk_sink *s, const uint8_t *p, int n) {
  int i;
  for (i = 0; i < n; i++) {
    if (i > 0) mk_put(s, ':');
    mk_hex(s, p + i, 1);
  }
}

static void mk_mac(struct mk_sink *s, const uint8_t *mac) {
  mk_hex_colons(s, mac, 6);
}

size_t mg_print_ip4(void (*out)(char, void *), void *param, va_list *ap) {
  return mk_print_raw(out, param, ap, mk_ip4);
}

size_t mg_print_ip6(void (*out)(char, void *), void *param, va_list *ap) {
  return mk_print_raw(out, param, ap, mk_ip6);
}

size_t mg_print_mac(void (*out)(char, void *), void *param, va_list *ap) {
  return mk_print_raw(out, param, ap, mk_mac);
}

size_t mg_print_esc(void (*out)(char, void *), void *param, va_list *ap) {
  int len = va_arg(*ap, int);
  const char *str = va_arg(*ap, const char *);
  MK_SINK(s, out, param);
  if (str != NULL) mk_json_esc(&s, str, len > 0 ? (size_t) len : strlen(str));
  return s.n;
}

/* The printers that take (int len, const void *buf): nothing for NULL or len <= 0. */
static size_t mk_print_buf(void (*out)(char, void *), void *param, va_list *ap,
                           void (*print)(struct mk_sink *, const unsigned char *, size_t)) {
  int len = va_arg(*ap, int);
  const unsigned char *buf = va_arg(*ap, const unsigned char *);
  MK_SINK(s, out, param);
  if (buf != NULL && len > 0) print(&s, buf, (size_t) len);
  return s.n;
}

size_t mg_print_base64(void (*out)(char, void *), void *param, va_list *ap) {
  return mk_print_buf(out, param, ap, mk_base64);
}

size_t mg_print_hex(void (*out)(char, void *), void *param, va_list *ap) {
  return mk_print_buf(out, param, ap, mk_hex);
}

/* ------------------------------------------------------------------------------------- */
/* More %M printers (Mongoose 7.22)                                                      */

static void mk_ieee64(struct mk_sink *s, const uint8_t *p) {
  mk_hex_colons(s, p, 8);
}

size_t mg_print_ieee64(void (*out)(char, void *), void *param, va_list *ap) {
  return mk_print_raw(out, param, ap, mk_ieee64);
}

/* Mongoose's enum mg_l2type: ETH 0, PPP 1, PPPoE 2, USER 3. */
size_t mg_print_l2addr(void (*out)(char, void *), void *param, va_list *ap) {
  int type = va_arg(*ap, int);
  const uint8_t *p = va_arg(*ap, const uint8_t *);
  MK_SINK(s, out, param);
  if (p == NULL) {
    mk_write(&s, "(null)", 6);
  } else if (type == 0 || type == 2) {
    mk_mac(&s, p);
  } else if (type == 1) {
    mk_ieee64(&s, p);
  }
  return s.n;
}

size_t mg_print_html_esc(void (*out)(char, void *), void *param, va_list *ap) {
  int len = va_arg(*ap, int);
  const char *str = va_arg(*ap, const char *);
  size_t i, n;
  MK_SINK(s, out, param);
  if (str == NULL) return 0;
  n = len > 0 ? (size_t) len : strlen(str);
  for (i = 0; i < n; i++) {
    switch (str[i]) {
      case '&': mk_write(&s, "&amp;", 5); break;
      case '<': mk_write(&s, "&lt;", 4); break;
      case '>': mk_write(&s, "&gt;", 4); break;
      case '"': mk_write(&s, "&quot;", 6); break;
      default: mk_put(&s, str[i]); break;
    }
  }
  return s.n;
}

/* ------------------------------------------------------------------------------------- */
/* mg_queue_printf and JSON-RPC replies: formatting around Rust calls                     */

size_t mg_queue_printf(struct mg_queue *q, const char *fmt, ...) {
  char *buf = NULL;
  size_t len;
  va_list ap;
  va_start(ap, fmt);
  len = mg_vsnprintf(NULL, 0, fmt, &ap);
  va_end(ap);
  /* Booked with room for the NUL that mg_vsnprintf writes; the message is len bytes. */
  if (len == 0 || len == SIZE_MAX || mg_queue_book(q, &buf, len + 1) < len + 1) return 0;
  va_start(ap, fmt);
  mg_vsnprintf(buf, len + 1, fmt, &ap);
  va_end(ap);
  mg_queue_add(q, len);
  return len;
}

/* The formatted part of a reply: fmt with ap, or null when fmt is NULL. */
static void mk_rpc_body(struct mg_rpc_req *r, const char *fmt, va_list *ap, const char *tail) {
  if (fmt == NULL) {
    mg_xprintf(r->pfn, r->pfn_data, "null");
  } else {
    mg_vxprintf(r->pfn, r->pfn_data, fmt, ap);
  }
  mg_xprintf(r->pfn, r->pfn_data, "%s", tail);
}

void mg_rpc_vok(struct mg_rpc_req *r, const char *fmt, va_list *ap) {
  if (mk_rpc_head(r, 0, 0)) mk_rpc_body(r, fmt, ap, "}");
}

void mg_rpc_ok(struct mg_rpc_req *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  mg_rpc_vok(r, fmt, &ap);
  va_end(ap);
}

void mg_rpc_verr(struct mg_rpc_req *r, int code, const char *fmt, va_list *ap) {
  if (mk_rpc_head(r, 1, code)) mk_rpc_body(r, fmt, ap, "}}");
}

void mg_rpc_err(struct mg_rpc_req *r, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  mg_rpc_verr(r, code, fmt, &ap);
  va_end(ap);
}

/* mg_error(c, fmt, ...): format the message, then (in Rust) log it at error level, give the
 * handler MG_EV_ERROR with it and close the connection, as Mongoose. */
void mk_error(struct mg_conn c, const char *msg);

void mg_error(struct mg_conn c, const char *fmt, ...) {
  char *msg;
  va_list ap;
  va_start(ap, fmt);
  msg = mg_vmprintf(fmt == NULL ? "" : fmt, &ap);
  va_end(ap);
  mk_error(c, msg == NULL ? "out of memory" : msg);
  free(msg);
}

/* mg_file_printf(fs, path, fmt, ...): mg_file_write of the formatted text. */
struct mg_fs;
bool mg_file_write(struct mg_fs *fs, const char *path, const void *buf, size_t len);

bool mg_file_printf(struct mg_fs *fs, const char *path, const char *fmt, ...) {
  char *text;
  bool ok;
  va_list ap;
  va_start(ap, fmt);
  text = mg_vmprintf(fmt == NULL ? "" : fmt, &ap);
  va_end(ap);
  if (text == NULL) return false;
  ok = mg_file_write(fs, path, text, strlen(text));
  free(text);
  return ok;
}

/* ---- platform hooks (see the header trailer) ------------------------------------------ */

#include <errno.h>

/* errno of the calling thread, for the libc backend (src/sys/unix.rs): where errno lives
 * differs between C libraries (glibc, musl, newlib, the BSDs), the C compiler knows. */
int mk_errno(void);
int mk_errno(void) { return errno; }

#if defined(__GNUC__) || defined(__clang__)
#define MK_WEAK __attribute__((weak))
#else
#define MK_WEAK
#endif

MK_WEAK void mg_abort_hook(const char *msg, size_t len) {
  (void) msg;
  (void) len;
  abort();
}
MK_WEAK void *mg_alloc_hook(size_t size) { return malloc(size); }
MK_WEAK void *mg_realloc_hook(void *ptr, size_t size) { return realloc(ptr, size); }
MK_WEAK void mg_free_hook(void *ptr) { free(ptr); }
