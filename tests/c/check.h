/*
 * Checks for the C test programs: CHECK(cond) and CHECK_STR(got, want) count what passed and
 * print each failure (file, line, what) on stderr; CHECK_SUMMARY() prints the closing
 * "N passed, M failed" line that the Rust tests read, and is the exit status (0: all passed).
 */
#ifndef MEERKAT_TEST_CHECK_H
#define MEERKAT_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int g_pass, g_fail;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (cond) {                                                                \
      g_pass++;                                                                \
    } else {                                                                   \
      g_fail++;                                                                \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

#define CHECK_STR(got, want)                                                           \
  do {                                                                                 \
    if (strcmp((got), (want)) == 0) {                                                  \
      g_pass++;                                                                        \
    } else {                                                                           \
      g_fail++;                                                                        \
      fprintf(stderr, "%s:%d: got [%s] want [%s]\n", __FILE__, __LINE__, (got), (want)); \
    }                                                                                  \
  } while (0)

#define CHECK_SUMMARY() (printf("%d passed, %d failed\n", g_pass, g_fail), g_fail == 0 ? 0 : 1)

#endif
