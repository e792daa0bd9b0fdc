/*
 * Tests of the C printf shim (src/shim/meerkat_shim.c): exact outputs and return values.
 *
 * Built and run by tests/printf.rs with -std=c99 -Wall -Wextra -Werror and
 * AddressSanitizer + UndefinedBehaviorSanitizer. Standard conversions are checked
 * differentially against the C library's own snprintf (same format, same arguments);
 * the extensions and printers against fixed expected strings (several taken from the
 * behaviour Mongoose 7.x documents and tests for them).
 *
 * Prints "pfn_stdout: ok 42" (through mg_pfn_stdout) and, last, "N passed, M failed".
 * Exit status 0 only when nothing failed.
 */
#include "meerkat.h"

#include <float.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "check.h"

/* Exact string, and a return value equal to its length. */
static void check_str(int line, const char *what, const char *got, size_t got_ret,
                      const char *want) {
  size_t want_ret = strlen(want);
  if (strcmp(got, want) == 0 && got_ret == want_ret) {
    g_pass++;
  } else {
    g_fail++;
    fprintf(stderr, "line %d: %s: got [%s] (%zu), want [%s] (%zu)\n", line, what, got, got_ret,
            want, want_ret);
  }
}

/* ===================================================================================== */
/* TEST DOUBLE for the Rust symbols the shim calls (mg_send, mg_send_room,              */
/* mg_http_reply_n, mg_http_write_chunk, mg_log_write) and for mg_log_prefix, which the logging macros    */
/* call. The real ones live in the Rust library; these capture what the shim hands over. */

static char *g_sent;          /* bytes of the last successful mg_send */
static size_t g_sent_len;
static int g_send_calls;
static uint64_t g_send_handle;
static int g_send_fail;       /* when non-zero, mg_send returns it and captures nothing */

int mg_send(struct mg_conn c, const void *buf, size_t len) {
  g_send_calls++;
  g_send_handle = c.h;
  if (g_send_fail != 0) return g_send_fail;
  free(g_sent);
  g_sent = (char *) malloc(len + 1);
  if (g_sent == NULL) return -13;
  if (len > 0) memcpy(g_sent, buf, len);
  g_sent[len] = '\0';
  g_sent_len = len;
  return 0;
}

/* The send room the connection reports (mg_send_room): the printf family formats at most
 * this much. g_room_fail, when non-zero, is returned instead (stale, closing...). */
static size_t g_room = SIZE_MAX;
static int g_room_fail;
static int g_room_calls;

int mg_send_room(struct mg_conn c, size_t *room) {
  (void) c;
  g_room_calls++;
  if (g_room_fail != 0) return g_room_fail;
  *room = g_room;
  return 0;
}

/* The two HTTP helpers of the Rust core that mg_http_reply / mg_http_printf_chunk call. */
static int g_reply_status;
static char g_reply_headers[256];

int mg_http_reply_n(struct mg_conn c, int status, const char *headers, const char *body, size_t len) {
  g_reply_status = status;
  snprintf(g_reply_headers, sizeof(g_reply_headers), "%s", headers == NULL ? "(null)" : headers);
  return mg_send(c, body, len);
}

int mg_http_write_chunk(struct mg_conn c, const void *buf, size_t len) {
  return mg_send(c, buf, len);
}

/* The WebSocket calls of the Rust core that mg_ws_upgrade / mg_ws_printf / mg_ws_connect
 * make: the formatted text goes through mg_send so the checks below can see it. The real
 * ones are exercised against the library by tests/ws.rs. */
int mg_ws_send(struct mg_conn c, const void *buf, size_t len, int op) {
  int rc = mg_send(c, buf, len);
  (void) op;
  return rc < 0 ? rc : (int) len;
}

int mg_ws_upgrade_n(struct mg_conn c, const struct mg_http_message *hm, const char *headers, size_t len) {
  (void) hm;
  return headers == NULL ? 0 : mg_send(c, headers, len);
}

struct mg_conn mg_ws_connect_n(struct mg_mgr *mgr, const char *url, mg_event_handler_t fn, void *fn_data,
                               const char *headers, size_t len) {
  struct mg_conn c = {0};
  (void) mgr, (void) url, (void) fn, (void) fn_data;
  if (headers != NULL) mg_send(c, headers, len);
  return c;
}

static int g_log_level = MG_LL_INFO;
static int g_prefix_calls, g_prefix_level, g_prefix_line;
static const char *g_prefix_file, *g_prefix_func;
static char g_log[8192];
static size_t g_log_len;
static int g_log_writes;

bool mg_log_prefix(int level, const char *file, int line, const char *fname) {
  g_prefix_calls++;
  g_prefix_level = level;
  g_prefix_file = file;
  g_prefix_line = line;
  g_prefix_func = fname;
  return level > MG_LL_NONE && level <= g_log_level;
}

void mg_log_write(const char *buf, size_t len) {
  g_log_writes++;
  if (g_log_len + len < sizeof(g_log)) {
    memcpy(g_log + g_log_len, buf, len);
    g_log_len += len;
    g_log[g_log_len] = '\0';
  }
}

/* The shim's mg_queue_printf and mg_rpc_ok/err call into Rust too; these are exercised
 * against the real library by tests/c/util_api2.c. Inert doubles here. */
size_t mg_queue_book(struct mg_queue *q, char **buf, size_t len) {
  (void) q, (void) buf, (void) len;
  return 0;
}
void mg_queue_add(struct mg_queue *q, size_t len) {
  (void) q, (void) len;
}
bool mk_rpc_head(const struct mg_rpc_req *r, int is_err, int code);
bool mk_rpc_head(const struct mg_rpc_req *r, int is_err, int code) {
  (void) r, (void) is_err, (void) code;
  return false;
}
/* mg_error and mg_file_printf end in Rust (tests/c/util_api3.c and tests/c/fs_api.c run
 * them against the real library). Inert doubles here. */
void mk_error(struct mg_conn c, const char *msg);
void mk_error(struct mg_conn c, const char *msg) {
  (void) c, (void) msg;
}
bool mg_file_write(struct mg_fs *fs, const char *path, const void *buf, size_t len) {
  (void) fs, (void) path, (void) buf, (void) len;
  return false;
}

static void log_reset(void) {
  g_log_len = 0;
  g_log[0] = '\0';
  g_log_writes = 0;
  g_prefix_calls = 0;
}

/* ===================================================================================== */
/* Differential checks against the C library                                            */

#define BIG (1u << 18)
static char g_ref[BIG], g_got[BIG];

static void diff_result(int line, const char *fmt, int ref_ret, size_t got_ret) {
  bool ok = ref_ret >= 0 && (size_t) ref_ret == got_ret;
  if (ok) {
    size_t n = got_ret < BIG ? got_ret : BIG - 1;
    ok = memcmp(g_ref, g_got, n + 1) == 0;
  }
  if (ok) {
    g_pass++;
  } else {
    g_fail++;
    fprintf(stderr, "line %d: format [%s]: libc [%.200s] (%d), meerkat [%.200s] (%zu)\n", line,
            fmt, g_ref, ref_ret, g_got, got_ret);
  }
}

/* The same format and arguments to snprintf and to mg_snprintf. */
#define DIFF(fmt, ...)                                                  \
  diff_result(__LINE__, (fmt), snprintf(g_ref, BIG, (fmt), __VA_ARGS__), \
              mg_snprintf(g_got, BIG, (fmt), __VA_ARGS__))

static const char *const k_flag_sets[] = {"", "-", "+", " ", "#", "0", "-+", "- ", "-#", "+#",
                                          "+0", " 0", "#0", "-0", "+ ", "-+#", "+#0", " #0",
                                          "-+ #0"};
#define NFLAGS (sizeof(k_flag_sets) / sizeof(k_flag_sets[0]))

static bool has(const char *s, char c) {
  return strchr(s, c) != NULL;
}

static void test_integers(void) {
  static const char *const widths[] = {"", "1", "6", "23"};
  static const char *const precs[] = {"", ".", ".0", ".1", ".4", ".25"};
  static const char convs[] = "diuoxX";
  static const int ivals[] = {0, 1, -1, 7, 42, -42, 255, 4096, 077, INT_MAX, INT_MIN};
  size_t f, w, p, c, v;
  char fmt[64];

  for (f = 0; f < NFLAGS; f++) {
    for (w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
      for (p = 0; p < sizeof(precs) / sizeof(precs[0]); p++) {
        for (c = 0; convs[c] != '\0'; c++) {
          /* '#' with d, i, u is undefined in C: not compared. */
          if (has(k_flag_sets[f], '#') && has("diu", convs[c])) continue;
          snprintf(fmt, sizeof(fmt), "<%%%s%s%s%c>", k_flag_sets[f], widths[w], precs[p],
                   convs[c]);
          for (v = 0; v < sizeof(ivals) / sizeof(ivals[0]); v++) {
            if (has("di", convs[c])) {
              DIFF(fmt, ivals[v]);
            } else {
              DIFF(fmt, (unsigned) ivals[v]);
            }
          }
        }
      }
    }
  }

  /* Length modifiers, with values that need the modifier (or its truncation). */
  {
    static const char *const fl[] = {"", "+", "#", "-12", "020", ".10", "#.0", "- 8.3"};
    static const char convs2[] = "diouxX";
    size_t i, k, j;
    for (i = 0; i < sizeof(fl) / sizeof(fl[0]); i++) {
      for (k = 0; convs2[k] != '\0'; k++) {
        char cv = convs2[k];
        bool sig = has("di", cv);
        if (has(fl[i], '#') && has("diu", cv)) continue;
#define FMT(len) snprintf(fmt, sizeof(fmt), "[%%%s" len "%c]", fl[i], cv)
        FMT("hh");
        if (sig) {
          DIFF(fmt, 300);
          DIFF(fmt, -129);
          DIFF(fmt, 127);
          DIFF(fmt, -128);
        } else {
          DIFF(fmt, 300u);
          DIFF(fmt, 255u);
          DIFF(fmt, 0u);
        }
        FMT("h");
        if (sig) {
          DIFF(fmt, 70000);
          DIFF(fmt, SHRT_MIN);
          DIFF(fmt, -1);
        } else {
          DIFF(fmt, 70000u);
          DIFF(fmt, (unsigned) USHRT_MAX);
        }
        FMT("l");
        if (sig) {
          DIFF(fmt, LONG_MIN);
          DIFF(fmt, LONG_MAX);
          DIFF(fmt, -5L);
        } else {
          DIFF(fmt, ULONG_MAX);
          DIFF(fmt, 123456789UL);
        }
        /* ll, then L: as ll for the integer conversions (glibc and Mongoose alike). */
        for (j = 0; j < 2; j++) {
          snprintf(fmt, sizeof(fmt), "[%%%s%s%c]", fl[i], j == 0 ? "ll" : "L", cv);
          if (sig) {
            DIFF(fmt, LLONG_MIN);
            DIFF(fmt, LLONG_MAX);
            DIFF(fmt, -1234567890123LL);
          } else {
            DIFF(fmt, ULLONG_MAX);
            DIFF(fmt, 0ULL);
            DIFF(fmt, 0x123456789abcdefULL);
          }
        }
        FMT("z");
        if (sig) {
          DIFF(fmt, (size_t) 12345);
          DIFF(fmt, (size_t) 0);
        } else {
          DIFF(fmt, (size_t) SIZE_MAX);
          DIFF(fmt, (size_t) 77);
        }
        FMT("t");
        if (sig) {
          DIFF(fmt, (ptrdiff_t) PTRDIFF_MIN);
          DIFF(fmt, (ptrdiff_t) PTRDIFF_MAX);
          DIFF(fmt, (ptrdiff_t) -3);
        } else {
          DIFF(fmt, (ptrdiff_t) 12345);
        }
        FMT("j");
        if (sig) {
          DIFF(fmt, (intmax_t) INTMAX_MIN);
          DIFF(fmt, (intmax_t) INTMAX_MAX);
        } else {
          DIFF(fmt, (uintmax_t) UINTMAX_MAX);
          DIFF(fmt, (uintmax_t) 8);
        }
#undef FMT
      }
    }
  }

  /* Every length in one format, with '*' widths and precisions between them: each
   * argument read at its own width, in order. */
  {
    /* Through a variable: gcc -pedantic refuses %L with integers in a literal format. */
    const char *mixed = "[%hhd|%*lld|%hu|%.*jd|%zu|%-*td|%lx|%d|%Lu|%*.*hhx]";
    const char *down = "[%Ld|%lld|%ld|%d|%hd|%hhd]";
    DIFF(mixed, -129, 25, LLONG_MIN, 70000u, 30, (intmax_t) INTMAX_MIN, (size_t) SIZE_MAX, -12,
         (ptrdiff_t) -3, ULONG_MAX, INT_MIN, ULLONG_MAX, -9, 5, 0x1ffu);
    DIFF(down, LLONG_MAX, LLONG_MIN, LONG_MIN, INT_MIN, SHRT_MIN, SCHAR_MIN);
  }
  /* '*' width and precision, including negative values. */
  DIFF("[%*d]", 5, 42);
  DIFF("[%*d]", -5, 42);
  DIFF("[%-*d]", 5, 42);
  DIFF("[%0*d]", 7, -42);
  DIFF("[%.*d]", 4, 42);
  DIFF("[%.*d]", -1, 42);
  DIFF("[%.*d]", 0, 0);
  DIFF("[%*.*x]", 10, 6, 0xabcu);
  DIFF("[%*.*x]", -10, 6, 0xabcu);
  /* Huge width and precision: streamed, not truncated. */
  DIFF("[%100000d]", 42);
  DIFF("[%-100000d]", -42);
  DIFF("[%0100000x]", 0xbeefu);
  DIFF("[%.100000d]", 42);
  DIFF("[%*d]", 200000, 1);
}

static void test_floats(void) {
  static const char *const widths[] = {"", "1", "12", "40"};
  static const char *const precs[] = {"", ".0", ".3", ".17"};
  static const char convs[] = "eEfFgGaA";
  const double dvals[] = {0.0,   -0.0,    1.0,     -1.5,     0.1,      123456.789, 1e-10,
                          1e300, DBL_MAX, DBL_MIN, INFINITY, -INFINITY, NAN,       -NAN};
  size_t f, w, p, c, v;
  char fmt[64];

  for (f = 0; f < NFLAGS; f++) {
    for (w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
      for (p = 0; p < sizeof(precs) / sizeof(precs[0]); p++) {
        for (c = 0; convs[c] != '\0'; c++) {
          snprintf(fmt, sizeof(fmt), "<%%%s%s%s%c>", k_flag_sets[f], widths[w], precs[p],
                   convs[c]);
          for (v = 0; v < sizeof(dvals) / sizeof(dvals[0]); v++) DIFF(fmt, dvals[v]);
        }
      }
    }
  }
  DIFF("%lf %lg %le", 1.25, 2.5, 3.75); /* 'l' is accepted and ignored for floats */
  DIFF("%Lf|%.3Le|%+20.10Lg|%La|%-30LA|", 1.5L, -1e100L, 3.25L, 0.5L, -2.0L);
  DIFF("%Lf", 1e1000L); /* > 1000 characters: the heap path */
  DIFF("%.500f", 1.0 / 3.0);
  DIFF("%0500.200f", -2.5);
  DIFF("%*.*f", 30, 10, 3.14159);
  DIFF("%*.*e", -30, 2, 3.14159);
  DIFF("%.*g", -3, 3.14159); /* negative precision: as if omitted */
  DIFF("%100000f", 1.0);
  DIFF("%-100000e", 1.0);
  DIFF("%0100000g", -1.0);
  DIFF("%100000f", NAN);
  DIFF("%0100000f", -INFINITY);
}

static void test_chars_strings_pointers(void) {
  static const char *const sfmts[] = {"[%s]",   "[%10s]",  "[%-10s]", "[%.3s]",  "[%10.3s]",
                                      "[%-10.3s]", "[%.0s]", "[%1s]",   "[%.20s]", "[%.s]"};
  static const char *const strs[] = {"", "a", "hello", "hello, world!", "\xc3\xa9t\xc3\xa9"};
  static const char *const cfmts[] = {"[%c]", "[%5c]", "[%-5c]", "[%1c]"};
  static const int chars[] = {'a', 'Z', ' ', 0, 0xe9, -1};
  static const char *const pfmts[] = {"[%p]", "[%20p]", "[%-20p]", "[%1p]"};
  int local = 0;
  const void *ptrs[3];
  size_t i, j;

  ptrs[0] = &local;
  ptrs[1] = NULL;
  ptrs[2] = (const void *) g_ref;
  for (i = 0; i < sizeof(sfmts) / sizeof(sfmts[0]); i++) {
    for (j = 0; j < sizeof(strs) / sizeof(strs[0]); j++) DIFF(sfmts[i], strs[j]);
  }
  for (i = 0; i < sizeof(cfmts) / sizeof(cfmts[0]); i++) {
    for (j = 0; j < sizeof(chars) / sizeof(chars[0]); j++) DIFF(cfmts[i], chars[j]);
  }
  for (i = 0; i < sizeof(pfmts) / sizeof(pfmts[0]); i++) {
    for (j = 0; j < 3; j++) DIFF(pfmts[i], ptrs[j]);
  }
  DIFF("[%*s|%-*s]", 8, "ab", 8, "cd");
  DIFF("[%*s]", -8, "ab");
  DIFF("[%.*s]", 3, "abcdef");
  DIFF("[%.*s]", -1, "abcdef");
  DIFF("[%.*s]", 10, "abc");
  DIFF("%%|100%%|%c%c%c", 'a', 'b', 'c');
  DIFF("%s=%d, %s=%u, %s=%#x", "a", -1, "b", 2u, "c", 255u);
  DIFF("[%lc|%5lc|%-3lc]", (wint_t) L'A', (wint_t) L'b', (wint_t) L'c');
  DIFF("[%ls|%8ls|%-8ls|%.2ls]", L"wide", L"str", L"left", L"cut");
  DIFF("[%150000s]", "x");
  DIFF("[%-150000s]", "y");

  /* A long string is streamed whole (a %s argument of 100 KB). */
  {
    char *big = (char *) malloc(100001);
    CHECK(big != NULL);
    if (big != NULL) {
      memset(big, 'q', 100000);
      big[100000] = '\0';
      big[500] = 'X';
      DIFF("<%s>", big);
      DIFF("<%.*s>", 70000, big);
      DIFF("<%.99999s>", big);
      free(big);
    }
  }
}

/* Under a locale whose decimal point is not '.', floats still print with '.' (JSON). */
static void test_locale_radix(void) {
  static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8", "de_DE", "fr_FR.UTF-8",
                                      "fr_FR.utf8", "fr_FR", "ru_RU.UTF-8", "nl_NL.UTF-8"};
  char buf[128];
  size_t i, n;
  const char *used = NULL;

  for (i = 0; i < sizeof(names) / sizeof(names[0]) && used == NULL; i++) {
    if (setlocale(LC_NUMERIC, names[i]) != NULL) used = names[i];
  }
  if (used == NULL) {
    printf("note: no locale with a decimal comma is installed; radix test skipped\n");
    return;
  }
  snprintf(buf, sizeof(buf), "%.1f", 1.5);
  CHECK(strcmp(buf, "1,5") == 0); /* the locale is really in effect */
  n = mg_snprintf(buf, sizeof(buf), "%.2f|%e|%g|%a|%#.0f|%08.3f|%-8.1f|%.3Lf", 1.5, -2.25, 0.125,
                  1.5, 3.0, -1.25, 2.5, 1.5L);
  check_str(__LINE__, "radix", buf, n,
            "1.50|-2.250000e+00|0.125|0x1.8p+0|3.|-001.250|2.5     |1.500");
  n = mg_snprintf(buf, sizeof(buf), "{%Q:%g}", "v", 1.2345);
  check_str(__LINE__, "radix json", buf, n, "{\"v\":1.2345}");
  setlocale(LC_NUMERIC, "C");
  printf("note: radix test ran under %s\n", used);
}

/* ===================================================================================== */
/* snprintf semantics                                                                    */

static size_t vsn(char *buf, size_t len, const char *fmt, ...) {
  size_t n;
  va_list ap;
  va_start(ap, fmt);
  n = mg_vsnprintf(buf, len, fmt, &ap);
  va_end(ap);
  return n;
}

static void test_snprintf_truncation(void) {
  char buf[16];

  CHECK(mg_snprintf(NULL, 0, "%d", 12345) == 5);
  memset(buf, 'X', sizeof(buf));
  CHECK(mg_snprintf(buf, 0, "%d", 12345) == 5);
  CHECK(buf[0] == 'X'); /* len 0: nothing written, not even the NUL */
  memset(buf, 'X', sizeof(buf));
  CHECK(mg_snprintf(buf, 1, "%d", 12345) == 5);
  CHECK(buf[0] == '\0' && buf[1] == 'X');
  memset(buf, 'X', sizeof(buf));
  CHECK(mg_snprintf(buf, 2, "%s", "abc") == 3);
  CHECK(strcmp(buf, "a") == 0 && buf[2] == 'X');
  memset(buf, 'X', sizeof(buf));
  CHECK(mg_snprintf(buf, 5, "%d", 12345) == 5); /* one short: last character dropped */
  CHECK(strcmp(buf, "1234") == 0 && buf[5] == 'X');
  memset(buf, 'X', sizeof(buf));
  CHECK(mg_snprintf(buf, 6, "%d", 12345) == 5); /* exact fit */
  CHECK(strcmp(buf, "12345") == 0 && buf[6] == 'X');
  memset(buf, 'X', sizeof(buf));
  CHECK(mg_snprintf(buf, 3, "%s", "0123456789") == 10);
  CHECK(strcmp(buf, "01") == 0 && buf[3] == 'X');
  CHECK(mg_snprintf(buf, sizeof(buf), "") == 0 && buf[0] == '\0');
  CHECK(mg_snprintf(buf, sizeof(buf), NULL) == 0 && buf[0] == '\0');
  CHECK(mg_snprintf(NULL, 10, "abc") == 3); /* NULL buffer: measured only */
  /* Truncation inside an extension and inside a padded field. */
  memset(buf, 'X', sizeof(buf));
  CHECK(mg_snprintf(buf, 4, "%m", MG_ESC("hello")) == 7);
  CHECK(strcmp(buf, "\"he") == 0);
  CHECK(mg_snprintf(buf, 4, "%10d", 1) == 10);
  CHECK(strcmp(buf, "   ") == 0);
  /* The v-variant. */
  memset(buf, 'X', sizeof(buf));
  CHECK(vsn(buf, 8, "%s-%d", "abc", 1234) == 8);
  CHECK(strcmp(buf, "abc-123") == 0);
  CHECK(vsn(buf, sizeof(buf), "%s", "ok") == 2 && strcmp(buf, "ok") == 0);
  CHECK(mg_vsnprintf(buf, sizeof(buf), "abc", NULL) == 0 && buf[0] == '\0');
  /* 100 KB through a small buffer: the full length comes back. */
  {
    char *big = (char *) malloc(100001);
    if (big != NULL) {
      memset(big, 'z', 100000);
      big[100000] = '\0';
      CHECK(mg_snprintf(buf, sizeof(buf), "<%s>", big) == 100002);
      CHECK(strcmp(buf, "<zzzzzzzzzzzzzz") == 0);
      free(big);
    }
  }
}

/* ===================================================================================== */
/* Extensions                                                                            */

static void test_json_q(void) {
  char buf[512], ctl[32];
  size_t n;
  int i;

  for (i = 1; i < 32; i++) ctl[i - 1] = (char) i;
  ctl[31] = '\0';
  n = mg_snprintf(buf, sizeof(buf), "%Q", ctl);
  check_str(__LINE__, "%Q control characters", buf, n,
            "\"\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r"
            "\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018"
            "\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\"");
  n = mg_snprintf(buf, sizeof(buf), "%Q", "say \"hi\" \\ / \x7f");
  check_str(__LINE__, "%Q quotes", buf, n, "\"say \\\"hi\\\" \\\\ / \x7f\"");
  n = mg_snprintf(buf, sizeof(buf), "%Q", "h\xc3\xa9llo \xe2\x98\x83 \xf0\x9f\x98\x80");
  check_str(__LINE__, "%Q UTF-8", buf, n,
            "\"h\xc3\xa9llo \xe2\x98\x83 \xf0\x9f\x98\x80\"");
  n = mg_snprintf(buf, sizeof(buf), "{%Q:%Q}", "k", (const char *) NULL);
  check_str(__LINE__, "%Q NULL", buf, n, "{\"k\":null}");
  n = mg_snprintf(buf, sizeof(buf), "%.*Q", 3, "abcdef");
  check_str(__LINE__, "%.*Q", buf, n, "\"abc\"");
  n = mg_snprintf(buf, sizeof(buf), "%.*Q|%.2Q", 0, "abcdef", "\n\n\n");
  check_str(__LINE__, "%.*Q 0", buf, n, "\"\"|\"\\n\\n\"");
  n = mg_snprintf(buf, sizeof(buf), "%.*Q", 10, "ab");
  check_str(__LINE__, "%.*Q stops at NUL", buf, n, "\"ab\"");
  n = mg_snprintf(buf, sizeof(buf), "%Q", "");
  check_str(__LINE__, "%Q empty", buf, n, "\"\"");
  n = mg_snprintf(buf, sizeof(buf), "[%q][%q]", "a\"b\tc", (const char *) NULL);
  check_str(__LINE__, "%q", buf, n, "[a\\\"b\\tc][]");
  n = mg_snprintf(buf, sizeof(buf), "{%Q:%d,%Q:[%d,%d]}", "a", 1, "b", 2, 3);
  check_str(__LINE__, "%Q mixed", buf, n, "{\"a\":1,\"b\":[2,3]}");
  n = mg_snprintf(buf, sizeof(buf), "%H|%H|%H", 3, "\x00\x01\xff", 0, "x", 1, (void *) NULL);
  check_str(__LINE__, "%H", buf, n, "\"0001ff\"|\"\"|\"\"");
  n = mg_snprintf(buf, sizeof(buf), "%V,%V,%V,%V", 1, "0\n\xfeg", 2, "0\n\xfeg", 3, "0\n\xfeg",
                  4, "0\n\xfeg");
  check_str(__LINE__, "%V", buf, n, "\"MA==\",\"MAo=\",\"MAr+\",\"MAr+Zw==\"");
  /* The extensions share their argument reads and quoting: NULLs, negative lengths, and a
   * width or precision where only %q/%Q use the precision. */
  n = mg_snprintf(buf, sizeof(buf), "%m|%M|%V|%H|%d", (mg_pm_t) NULL, (mg_pm_t) NULL, -1, "x", 2,
                  (void *) NULL, 7);
  check_str(__LINE__, "extensions NULL", buf, n, "\"\"||\"\"|\"\"|7");
  n = mg_snprintf(buf, sizeof(buf), "%.1q|%5Q|%-4.2Q|%3q|%8V|%d", "ab", "x", "abc", (const char *) NULL,
                  1, "0", 9);
  check_str(__LINE__, "extensions width", buf, n, "a|\"x\"|\"ab\"||\"MA==\"|9");
  /* Length modifiers that do not double, or double thrice: the conversion is unknown and
   * printed as written, consuming nothing. */
  n = mg_snprintf(buf, sizeof(buf), "%lhd|%zzd|%LLd|%lll|%hhh|%d", 5);
  check_str(__LINE__, "odd lengths", buf, n, "%lhd|%zzd|%LLd|%lll|%hhh|5");
}

/* A %M printer that adds two int arguments. */
static size_t pf_add(void (*out)(char, void *), void *param, va_list *ap) {
  int a = va_arg(*ap, int);
  int b = va_arg(*ap, int);
  return mg_xprintf(out, param, "%d", a + b);
}

struct pair {
  int a, b;
};

/* A printer that nests %m (Mongoose's documented example). */
static size_t pf_pair(void (*out)(char, void *), void *param, va_list *ap) {
  const struct pair *p = va_arg(*ap, const struct pair *);
  return mg_xprintf(out, param, "{%m:%d,%m:%d}", MG_ESC("a"), p->a, MG_ESC("b"), p->b);
}

/* A printer that lies about what it printed. */
static size_t pf_liar(void (*out)(char, void *), void *param, va_list *ap) {
  (void) ap;
  out('x', param);
  out('y', param);
  return 1000;
}

static size_t pf_nothing(void (*out)(char, void *), void *param, va_list *ap) {
  (void) out;
  (void) param;
  (void) ap;
  return 0;
}

static void count_chars(char c, void *param) {
  (void) c;
  (*(size_t *) param)++;
}

static void set_addr4(struct mg_addr *a, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3,
                      uint16_t port_host_order) {
  memset(a, 0, sizeof(*a));
  a->ip[0] = b0, a->ip[1] = b1, a->ip[2] = b2, a->ip[3] = b3;
  /* network byte order, independent of the host's */
  ((uint8_t *) &a->port)[0] = (uint8_t) (port_host_order >> 8);
  ((uint8_t *) &a->port)[1] = (uint8_t) (port_host_order & 0xff);
}

static void test_m_printers(void) {
  char buf[256];
  size_t n;
  struct mg_addr a;
  struct pair pr = {42, -7};
  static const uint8_t mac[6] = {0xaa, 0xbb, 0xcc, 0x0d, 0x0e, 0xff};
  static const uint8_t ip4[4] = {10, 0, 0, 254};
  static const uint8_t ip6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
                                  0,    0,    0xff, 0,    0, 0x42, 0x83, 0x29};

  /* mg_print_esc, through %m (quoted) and %M (not). Expected values as Mongoose 7.x. */
  n = mg_snprintf(buf, sizeof(buf), "%m", mg_print_esc, 0, "");
  check_str(__LINE__, "esc empty", buf, n, "\"\"");
  n = mg_snprintf(buf, sizeof(buf), "\"hi, %M\"", mg_print_esc, 0, "\"");
  check_str(__LINE__, "esc quote", buf, n, "\"hi, \\\"\"");
  n = mg_snprintf(buf, sizeof(buf), "%m", mg_print_esc, 0, "a'b");
  check_str(__LINE__, "esc apostrophe", buf, n, "\"a'b\"");
  n = mg_snprintf(buf, sizeof(buf), "%m", mg_print_esc, 0, "a\b\n\f\r\t\"");
  check_str(__LINE__, "esc controls", buf, n, "\"a\\b\\n\\f\\r\\t\\\"\"");
  n = mg_snprintf(buf, sizeof(buf), "%m", mg_print_esc, 3, "abcdef");
  check_str(__LINE__, "esc len", buf, n, "\"abc\"");
  n = mg_snprintf(buf, sizeof(buf), "%m", mg_print_esc, 3, "a\0b");
  check_str(__LINE__, "esc len with NUL", buf, n, "\"a\\u0000b\"");
  n = mg_snprintf(buf, sizeof(buf), "%m", mg_print_esc, 0, (const char *) NULL);
  check_str(__LINE__, "esc NULL", buf, n, "\"\"");
  n = mg_snprintf(buf, sizeof(buf), "{%m:%d}", MG_ESC("id"), 1);
  check_str(__LINE__, "MG_ESC", buf, n, "{\"id\":1}");
  n = mg_snprintf(buf, sizeof(buf), "%m", MG_ESC("\x1f\xc3\xa9"));
  check_str(__LINE__, "MG_ESC utf8", buf, n, "\"\\u001f\xc3\xa9\"");

  /* base64 and hex (Mongoose's vectors: int len first, then the buffer). */
  n = mg_snprintf(buf, sizeof(buf), "[%m,%m,%m,%m]", mg_print_base64, 1, "0\n\xfeg",
                  mg_print_base64, 2, "0\n\xfeg", mg_print_base64, 3, "0\n\xfeg",
                  mg_print_base64, 4, "0\n\xfeg");
  check_str(__LINE__, "base64", buf, n, "[\"MA==\",\"MAo=\",\"MAr+\",\"MAr+Zw==\"]");
  n = mg_snprintf(buf, sizeof(buf), "%M", mg_print_base64, 11, "hello world");
  check_str(__LINE__, "base64 2", buf, n, "aGVsbG8gd29ybGQ=");
  n = mg_snprintf(buf, sizeof(buf), "%M|%M", mg_print_base64, 0, "x", mg_print_base64, 3,
                  (const char *) NULL);
  check_str(__LINE__, "base64 empty", buf, n, "|");
  n = mg_snprintf(buf, sizeof(buf), "%m", mg_print_hex, 9, "\x00 \x01 \x02 abc");
  check_str(__LINE__, "hex", buf, n, "\"002001200220616263\"");
  n = mg_snprintf(buf, sizeof(buf), "%M", mg_print_hex, 4, "\xde\xad\xbe\xef");
  check_str(__LINE__, "hex 2", buf, n, "deadbeef");
  n = mg_snprintf(buf, sizeof(buf), "%M|%M|%d", mg_print_hex, -1, "x", mg_print_hex, 2,
                  (const char *) NULL, 5);
  check_str(__LINE__, "hex empty", buf, n, "||5");

  /* Addresses (Mongoose's vectors, then more). */
  set_addr4(&a, 2, 0, 0, 1, 3);
  n = mg_snprintf(buf, sizeof(buf), "%M %d", mg_print_ip, &a, 7);
  check_str(__LINE__, "ip4", buf, n, "2.0.0.1 7");
  n = mg_snprintf(buf, sizeof(buf), "%M %d", mg_print_ip_port, &a, 7);
  check_str(__LINE__, "ip4 port", buf, n, "2.0.0.1:3 7");
  set_addr4(&a, 192, 168, 1, 254, 65535);
  n = mg_snprintf(buf, sizeof(buf), "%M", mg_print_ip_port, &a);
  check_str(__LINE__, "ip4 port 2", buf, n, "192.168.1.254:65535");
  n = mg_snprintf(buf, sizeof(buf), "%m", mg_print_ip, &a);
  check_str(__LINE__, "ip4 quoted", buf, n, "\"192.168.1.254\"");
  set_addr4(&a, 0, 0, 0, 0, 3);
  a.ip[0] = 1, a.ip[1] = 100, a.ip[2] = 33;
  a.is_ip6 = true;
  n = mg_snprintf(buf, sizeof(buf), "%M %d", mg_print_ip, &a, 7);
  check_str(__LINE__, "ip6", buf, n, "[164:2100:0:0:0:0:0:0] 7");
  n = mg_snprintf(buf, sizeof(buf), "%M %d", mg_print_ip_port, &a, 7);
  check_str(__LINE__, "ip6 port", buf, n, "[164:2100:0:0:0:0:0:0]:3 7");
  set_addr4(&a, 0, 0, 0, 0, 8080);
  a.ip[15] = 1;
  a.is_ip6 = true;
  n = mg_snprintf(buf, sizeof(buf), "%M", mg_print_ip_port, &a);
  check_str(__LINE__, "ip6 loopback", buf, n, "[0:0:0:0:0:0:0:1]:8080");
  memcpy(a.ip, ip6, 16);
  n = mg_snprintf(buf, sizeof(buf), "%M", mg_print_ip, &a);
  check_str(__LINE__, "ip6 doc", buf, n, "[2001:db8:0:0:0:ff00:42:8329]");
  n = mg_snprintf(buf, sizeof(buf), "%M|%M", mg_print_ip, (struct mg_addr *) NULL,
                  mg_print_ip_port, (struct mg_addr *) NULL);
  check_str(__LINE__, "ip NULL", buf, n, "(null)|(null)");
  n = mg_snprintf(buf, sizeof(buf), "%M %M", mg_print_ip4, ip4, mg_print_ip6, ip6);
  check_str(__LINE__, "ip4/ip6 raw", buf, n, "10.0.0.254 [2001:db8:0:0:0:ff00:42:8329]");
  n = mg_snprintf(buf, sizeof(buf), "MAC: %M.", mg_print_mac, mac);
  check_str(__LINE__, "mac", buf, n, "MAC: aa:bb:cc:0d:0e:ff.");
  n = mg_snprintf(buf, sizeof(buf), "%M", mg_print_mac, (const uint8_t *) NULL);
  check_str(__LINE__, "mac NULL", buf, n, "(null)");
  n = mg_snprintf(buf, sizeof(buf), "%M|%M|%d", mg_print_ip4, (const uint8_t *) NULL,
                  mg_print_ip6, (const uint8_t *) NULL, 5);
  check_str(__LINE__, "ip4/ip6 NULL", buf, n, "(null)|(null)|5");

  /* Custom printers: argument consumption, nesting, wrong return values. */
  n = mg_snprintf(buf, sizeof(buf), "r: %M, %d", pf_add, 1, 2, 7);
  check_str(__LINE__, "pf_add", buf, n, "r: 3, 7");
  n = mg_snprintf(buf, sizeof(buf), "[%s,%M,%s]", "null", pf_add, 2, 3, "hi");
  check_str(__LINE__, "pf_add 2", buf, n, "[null,5,hi]");
  n = mg_snprintf(buf, sizeof(buf), "%M", pf_pair, &pr);
  check_str(__LINE__, "nested %m", buf, n, "{\"a\":42,\"b\":-7}");
  n = mg_snprintf(buf, sizeof(buf), "<%m>", pf_pair, &pr);
  check_str(__LINE__, "nested %m quoted", buf, n, "<\"{\"a\":42,\"b\":-7}\">");
  n = mg_snprintf(buf, sizeof(buf), "%M%m%d", pf_liar, pf_nothing, 5);
  check_str(__LINE__, "liar", buf, n, "xy\"\"5");
  n = mg_snprintf(buf, sizeof(buf), "%M.", (mg_pm_t) NULL);
  check_str(__LINE__, "NULL printer", buf, n, ".");

  /* Printers called directly, and counting with a NULL output function. */
  {
    size_t counted = 0;
    CHECK(mg_xprintf(count_chars, &counted, "%M", mg_print_mac, mac) == 17);
    CHECK(counted == 17);
    CHECK(mg_xprintf(NULL, NULL, "%m:%M", MG_ESC("abc"), mg_print_ip4, ip4) == 16);
  }
}

/* ===================================================================================== */
/* Edge cases of the format language                                                     */

static void test_edges(void) {
  char buf[128];
  size_t n;
  int sentinel = -1;

  n = mg_snprintf(buf, sizeof(buf), "%y %d", 5);
  check_str(__LINE__, "unknown conversion", buf, n, "%y 5");
  n = mg_snprintf(buf, sizeof(buf), "abc%");
  check_str(__LINE__, "trailing %", buf, n, "abc%");
  n = mg_snprintf(buf, sizeof(buf), "abc%-5.3l");
  check_str(__LINE__, "truncated spec", buf, n, "abc%-5.3l");
  n = mg_snprintf(buf, sizeof(buf), "ab%ncd", &sentinel);
  check_str(__LINE__, "%n", buf, n, "abcd");
  CHECK(sentinel == -1); /* never written through */
  n = mg_snprintf(buf, sizeof(buf), "%s", (const char *) NULL);
  check_str(__LINE__, "%s NULL", buf, n, "(null)");
  n = mg_snprintf(buf, sizeof(buf), "%5%|%-5%|");
  check_str(__LINE__, "%% with width", buf, n, "%|%|");
  CHECK(mg_xprintf(NULL, NULL, "%d", 1234567) == 7);
  CHECK(mg_xprintf(count_chars, NULL, NULL) == 0);
}

/* ===================================================================================== */
/* Heap strings                                                                          */

static size_t vm_len(const char *fmt, ...) {
  char *s;
  size_t n;
  va_list ap;
  va_start(ap, fmt);
  s = mg_vmprintf(fmt, &ap);
  va_end(ap);
  n = s != NULL ? strlen(s) : (size_t) -1;
  free(s);
  return n;
}

static void test_mprintf(void) {
  char *s, *big = (char *) malloc(100001);
  size_t i;
  bool ok;

  s = mg_mprintf("{%Q:%d}", "name", 123);
  CHECK(s != NULL && strcmp(s, "{\"name\":123}") == 0);
  free(s);
  s = mg_mprintf("");
  CHECK(s != NULL && s[0] == '\0');
  free(s);
  s = mg_mprintf("[%s,%M,%s]", "null", pf_add, 2, 3, "hi");
  CHECK(s != NULL && strcmp(s, "[null,5,hi]") == 0);
  free(s);
  CHECK(vm_len("%s-%s", "abc", "de") == 6);
  /* Every length around the buffer growth steps (stack buffer, then doubling). */
  {
    char pattern[1100];
    size_t len;
    bool all = true;
    for (i = 0; i < sizeof(pattern); i++) pattern[i] = (char) ('a' + i % 26);
    for (len = 0; len < sizeof(pattern); len++) {
      s = mg_mprintf("%.*s", (int) len, pattern);
      if (s == NULL || strlen(s) != len || memcmp(s, pattern, len) != 0) all = false;
      free(s);
    }
    CHECK(all);
  }
  if (big == NULL) {
    CHECK(big != NULL);
    return;
  }
  memset(big, 'k', 100000);
  big[100000] = '\0';
  big[99999] = 'E';
  s = mg_mprintf("<%s>", big);
  CHECK(s != NULL && strlen(s) == 100002);
  CHECK(s != NULL && s[0] == '<' && memcmp(s + 1, big, 100000) == 0 && s[100001] == '>');
  free(s);
  s = mg_mprintf("%.*s", 50000, big);
  CHECK(s != NULL && strlen(s) == 50000 && memcmp(s, big, 50000) == 0);
  free(s);
  s = mg_mprintf("%100000s", "x");
  ok = s != NULL && strlen(s) == 100000 && s[99999] == 'x';
  for (i = 0; ok && i < 99999; i++) ok = s[i] == ' ';
  CHECK(ok);
  free(s);
  free(big);
}

/* ===================================================================================== */
/* mg_printf: one mg_send, all or nothing                                                */

static void test_printf_conn(void) {
  struct mg_conn c = {0x0001000000000007ULL};
  char *big = (char *) malloc(100001);
  int rc;

  g_send_fail = 0;
  g_send_calls = 0;
  rc = mg_printf(c, "GET %s HTTP/1.%d\r\n\r\n", "/index.html", 1);
  CHECK(rc == 28);
  CHECK(g_send_calls == 1 && g_send_handle == c.h);
  CHECK(g_sent != NULL && g_sent_len == 28 &&
        strcmp(g_sent, "GET /index.html HTTP/1.1\r\n\r\n") == 0);

  g_send_calls = 0;
  rc = mg_printf(c, "");
  CHECK(rc == 0 && g_send_calls == 1 && g_sent_len == 0); /* the handle is still checked */

  /* Every length around the stack buffer size and the heap growth steps. */
  {
    char pattern[1100];
    size_t i, len;
    bool all = true;
    for (i = 0; i < sizeof(pattern); i++) pattern[i] = (char) ('A' + i % 26);
    g_send_calls = 0;
    for (len = 0; len < sizeof(pattern); len++) {
      rc = mg_printf(c, "%.*s", (int) len, pattern);
      if (rc != (int) len || g_sent_len != len || memcmp(g_sent, pattern, len) != 0) all = false;
    }
    CHECK(all && g_send_calls == (int) sizeof(pattern));
  }

  g_send_calls = 0;
  rc = mg_printf(c, "{%m:%M}", MG_ESC("k"), mg_print_hex, 2, "\x01\x02");
  CHECK(rc == 10 && g_send_calls == 1 && strcmp(g_sent, "{\"k\":0102}") == 0);

  if (big == NULL) {
    CHECK(big != NULL);
    return;
  }
  memset(big, 'w', 100000);
  big[100000] = '\0';
  g_send_calls = 0;
  rc = mg_printf(c, "HTTP/1.1 200 OK\r\n\r\n%s", big);
  CHECK(rc == 100019);
  CHECK(g_send_calls == 1); /* long output: still a single mg_send */
  CHECK(g_sent != NULL && g_sent_len == 100019 && memcmp(g_sent + 19, big, 100000) == 0);

  /* mg_send fails (send buffer full, -4): the error comes back, nothing was queued. */
  free(g_sent);
  g_sent = NULL;
  g_sent_len = 0;
  g_send_calls = 0;
  g_send_fail = -4;
  rc = mg_printf(c, "HTTP/1.1 200 OK\r\n\r\n%s", big);
  CHECK(rc == -4 && g_send_calls == 1 && g_sent == NULL);
  rc = mg_printf(c, "short %d", 1);
  CHECK(rc == -4 && g_send_calls == 2 && g_sent == NULL);
  g_send_fail = -2; /* stale handle */
  rc = mg_printf(c, "x");
  CHECK(rc == -2);
  g_send_fail = 0;
  free(big);
}

/* ===================================================================================== */
/* Logging                                                                               */

static int g_evaluated;

static int side_effect(void) {
  return ++g_evaluated;
}

static void test_log(void) {
  int line;
  char big[1001];

  g_log_level = MG_LL_INFO;
  log_reset();
  line = __LINE__ + 1;
  MG_INFO(("x=%d %s %m", 42, "hi", MG_ESC("q")));
  CHECK(g_prefix_calls == 1 && g_prefix_level == MG_LL_INFO && g_prefix_line == line);
  CHECK(g_prefix_file != NULL && strstr(g_prefix_file, "printf_test.c") != NULL);
  CHECK(g_prefix_func != NULL && strcmp(g_prefix_func, "test_log") == 0);
  CHECK(strcmp(g_log, "x=42 hi \"q\"\r\n") == 0);
  CHECK(g_log_writes == 1);

  log_reset();
  g_evaluated = 0;
  MG_DEBUG(("not shown %d", side_effect()));
  MG_VERBOSE(("not shown %d", side_effect()));
  CHECK(g_prefix_calls == 2 && g_log_len == 0 && g_evaluated == 0);
  MG_ERROR(("err %d", side_effect()));
  CHECK(strcmp(g_log, "err 1\r\n") == 0 && g_evaluated == 1);

  g_log_level = MG_LL_VERBOSE;
  log_reset();
  MG_VERBOSE(("v"));
  MG_DEBUG(("d"));
  CHECK(strcmp(g_log, "v\r\nd\r\n") == 0);

  g_log_level = MG_LL_NONE;
  log_reset();
  MG_ERROR(("nothing"));
  CHECK(g_log_len == 0 && g_prefix_calls == 1);

  /* A long message goes out whole, in a few chunks rather than one call per character. */
  g_log_level = MG_LL_INFO;
  log_reset();
  memset(big, 'L', 1000);
  big[1000] = '\0';
  MG_INFO(("%s", big));
  CHECK(g_log_len == 1002 && memcmp(g_log, big, 1000) == 0 && strcmp(g_log + 1000, "\r\n") == 0);
  CHECK(g_log_writes >= 2 && g_log_writes <= 16);

  /* mg_log directly, and in an if/else without braces (the macro is one statement). */
  log_reset();
  mg_log("direct %u", 7u);
  if (g_log_len > 0)
    MG_INFO(("then"));
  else
    MG_INFO(("else"));
  CHECK(strcmp(g_log, "direct 7\r\nthen\r\n") == 0);
}

/* ===================================================================================== */
/* Threads: no shared state between concurrent calls                                     */

static void *thread_body(void *arg) {
  long id = (long) (intptr_t) arg;
  int i;
  long bad = 0;
  for (i = 0; i < 20000; i++) {
    char buf[64], want[64];
    mg_snprintf(buf, sizeof(buf), "%ld:%d:%.2f:%Q", id, i, i / 4.0, "t");
    snprintf(want, sizeof(want), "%ld:%d:%.2f:\"t\"", id, i, i / 4.0);
    if (strcmp(buf, want) != 0) bad++;
  }
  return (void *) (intptr_t) bad;
}

static void test_http_reply(void) {
  struct mg_conn c = {77};
  g_send_fail = 0;
  CHECK(mg_http_reply(c, 201, "X-A: b\r\n", "%s=%d", "n", 42) == 0);
  CHECK(g_reply_status == 201);
  CHECK(strcmp(g_reply_headers, "X-A: b\r\n") == 0);
  CHECK(g_sent_len == 4 && strcmp(g_sent, "n=42") == 0);
  CHECK(mg_http_reply(c, 204, NULL, "") == 0 && g_sent_len == 0);
  CHECK(strcmp(g_reply_headers, "(null)") == 0);
  /* Bodies without a conversion go out as they are, with their exact length (found in the
   * same pass that looks for '%'), short or longer than a vector block; a '%' anywhere,
   * even far in, sends the body through the formatter. */
  CHECK(mg_http_reply(c, 200, "", "hello\n") == 0 && g_sent_len == 6 && strcmp(g_sent, "hello\n") == 0);
  CHECK(mg_http_reply(c, 200, "", "0123456789abcdefghijklmnopqrstuvwxyz{}[]<>!?") == 0 && g_sent_len == 44 &&
        strcmp(g_sent, "0123456789abcdefghijklmnopqrstuvwxyz{}[]<>!?") == 0);
  CHECK(mg_http_reply(c, 200, "", "0123456789abcdefghijklmnopqrstuvwxyz: 50%%") == 0 && g_sent_len == 41 &&
        strcmp(g_sent, "0123456789abcdefghijklmnopqrstuvwxyz: 50%") == 0);
  CHECK(mg_http_reply(c, 200, "", "%%") == 0 && g_sent_len == 1 && strcmp(g_sent, "%") == 0);
  CHECK(mg_http_printf_chunk(c, "%m", MG_ESC("q")) == 0);
  CHECK(strcmp(g_sent, "\"q\"") == 0);
  g_send_fail = -4;
  CHECK(mg_http_reply(c, 200, "", "x") == -4);
  g_send_fail = 0;
}

/* G5: output that cannot fit the send room is refused (MG_ERR_FULL, -4) before it is built:
 * widths and precisions of INT_MAX would otherwise need gigabytes (the process grew to
 * 2.3 GB before; under ASAN such an allocation aborts the test). */
static int g_printer_calls;
static size_t count_printer(void (*out)(char, void *), void *param, va_list *ap) {
  size_t i, n = (size_t) va_arg(*ap, int);
  g_printer_calls++;
  for (i = 0; i < n; i++) out('p', param);
  return n;
}

static void test_send_room_bound(void) {
  struct mg_conn c = {78};
  char pattern[101];
  memset(pattern, 'r', 100);
  pattern[100] = '\0';
  g_send_fail = 0;
  g_room = 100;

  g_send_calls = 0;
  CHECK(mg_printf(c, "%*d", INT_MAX, 1) == -4);
  CHECK(mg_printf(c, "%-*d|", INT_MAX, 1) == -4);
  CHECK(mg_printf(c, "%0*d%*d%*d", INT_MAX, 1, INT_MAX, 2, INT_MAX, 3) == -4);
  CHECK(mg_printf(c, "%.*f", 100000000, 1.0) == -4); /* (INT_MAX: snprintf refuses it) */
  CHECK(mg_printf(c, "%*.*f", INT_MAX, 3000, 1.0) == -4);
  CHECK(mg_printf(c, "%.*d", INT_MAX, 1) == -4);
  CHECK(mg_printf(c, "%M", count_printer, 1000000) == -4);
  CHECK(mg_printf(c, "x%s", pattern) == -4); /* 101 > 100 */
  CHECK(g_send_calls == 0);                   /* nothing was queued */
  /* Exactly the room fits. */
  CHECK(mg_printf(c, "%s", pattern) == 100 && g_send_calls == 1 && g_sent_len == 100);
  CHECK(mg_printf(c, "%*d", 100, 7) == 100 && g_sent[99] == '7' && g_sent[0] == ' ');
  CHECK(mg_printf(c, "%.*f", 97, 1.0) == 99 && strncmp(g_sent, "1.000", 5) == 0);

  g_send_calls = 0;
  CHECK(mg_http_reply(c, 200, "", "%*d", INT_MAX, 1) == -4);
  CHECK(mg_http_reply(c, 200, "", "x%s", pattern) == -4);
  CHECK(mg_http_printf_chunk(c, "%*d", INT_MAX, 1) == -4);
  CHECK(g_send_calls == 0);
  CHECK(mg_http_reply(c, 200, "", "%s", pattern) == 0 && g_sent_len == 100);
  CHECK(mg_http_printf_chunk(c, "%s", pattern) == 0 && g_sent_len == 100);

  /* The room cannot be read (stale handle, closing...): that error, nothing formatted. */
  g_room_fail = -2;
  g_printer_calls = 0;
  g_send_calls = 0;
  CHECK(mg_printf(c, "%M", count_printer, 1) == -2);
  CHECK(mg_http_reply(c, 200, "", "%M", count_printer, 1) == -2);
  CHECK(mg_http_printf_chunk(c, "%M", count_printer, 1) == -2);
  CHECK(g_printer_calls == 0 && g_send_calls == 0);
  g_room_fail = 0;

  /* Unbounded sinks keep Mongoose's semantics: the full length comes back. */
  CHECK(mg_snprintf(NULL, 0, "%*d", INT_MAX, 1) == (size_t) INT_MAX);
  {
    char small[8];
    CHECK(mg_snprintf(small, sizeof(small), "%*d", 1000000, 5) == 1000000);
    CHECK(strcmp(small, "       ") == 0);
  }
  g_room = SIZE_MAX;
}

static void test_threads(void) {
  pthread_t t[4];
  long i, bad = 0;
  for (i = 0; i < 4; i++) CHECK(pthread_create(&t[i], NULL, thread_body, (void *) (intptr_t) i) == 0);
  for (i = 0; i < 4; i++) {
    void *r = NULL;
    pthread_join(t[i], &r);
    bad += (long) (intptr_t) r;
  }
  CHECK(bad == 0);
}

/* ===================================================================================== */

/* The WebSocket printf family: formatted, bounded by the send room, handed over once. */
static void test_ws_printf(void) {
  struct mg_conn c = {79};
  struct mg_http_message hm;
  memset(&hm, 0, sizeof(hm));
  g_send_fail = 0;
  g_room = SIZE_MAX;
  CHECK(mg_ws_printf(c, WEBSOCKET_OP_TEXT, "{%m:%d}", MG_ESC("n"), 42) == 8);
  CHECK_STR(g_sent, "{\"n\":42}");
  CHECK(mg_ws_upgrade(c, &hm, "X-A: %d\r\n", 1) == 0);
  CHECK_STR(g_sent, "X-A: 1\r\n");
  g_send_calls = 0;
  CHECK(mg_ws_upgrade(c, &hm, NULL) == 0);
  CHECK(g_send_calls == 0);
  CHECK(mg_ws_connect(NULL, "ws://x", NULL, NULL, "P: %s\r\n", "q").h == 0);
  CHECK_STR(g_sent, "P: q\r\n");
  g_room = 4;
  g_send_calls = 0;
  CHECK(mg_ws_printf(c, WEBSOCKET_OP_TEXT, "%s", "too long") == -4);
  CHECK(g_send_calls == 0);
  g_room = SIZE_MAX;
}

int main(void) {
  size_t n;

  test_integers();
  test_floats();
  test_chars_strings_pointers();
  test_locale_radix();
  test_snprintf_truncation();
  test_json_q();
  test_m_printers();
  test_edges();
  test_mprintf();
  test_printf_conn();
  test_log();
  test_http_reply();
  test_send_room_bound();
  test_ws_printf();
  test_threads();

  n = mg_xprintf(mg_pfn_stdout, NULL, "pfn_stdout: %s %d\n", "ok", 42);
  CHECK(n == 18);
  free(g_sent);
  printf("%d passed, %d failed\n", g_pass, g_fail);
  fflush(stdout);
  return g_fail == 0 ? 0 : 1;
}
