/*
 * The C printf shim built without the `printf-wide` and `printf-json` cargo features
 * (-DMK_NO_PRINTF_WIDE -DMK_NO_PRINTF_JSON, as build.rs compiles it then, e.g. in the
 * footprint build): %lc, %ls, the long double floats, %Q, %q, %H and %V consume their
 * arguments and print their specification as written; everything else is unchanged. Run
 * by tests/printf.rs; prints "ok" on success.
 */
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "meerkat.h"

static int check(const char *what, const char *got, size_t n, const char *want) {
  if (n == strlen(want) && strcmp(got, want) == 0) return 0;
  printf("%s: got [%s] (%zu), want [%s]\n", what, got, n, want);
  return 1;
}

int main(void) {
  char buf[160];
  int bad = 0;
  size_t n = mg_snprintf(buf, sizeof(buf), "%d|%lc|%d|%ls|%d|%.3Lf|%d|%-8.1Le|%d|%LG|%s", 1,
                         (wint_t) L'x', 2, L"wide", 3, 1.5L, 4, 2.5L, 5, 0.5L, "end");
  bad += check("wide", buf, n, "1|%lc|2|%ls|3|%.3Lf|4|%-8.1Le|5|%LG|end");
  n = mg_snprintf(buf, sizeof(buf), "%d|%Q|%d|%.*q|%d|%H|%d|%V|%s", 1, "a\"b", 2, 3, "abcd", 3, 2,
                  "\x01\x02", 4, 3, "abc", "end");
  bad += check("json", buf, n, "1|%Q|2|%.*q|3|%H|4|%V|end");
  n = mg_snprintf(buf, sizeof(buf), "%.2f|%5s|%c|%e|%m|%M|%llx", 1.25, "s", 'c', 0.5,
                  mg_print_esc, 0, "q\"", mg_print_hex, 2, "\x01\xff", 255ULL);
  bad += check("others", buf, n, "1.25|    s|c|5.000000e-01|\"q\\\"\"|01ff|ff");
  if (bad == 0) printf("ok\n");
  return bad;
}
