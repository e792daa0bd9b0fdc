/*
 * bench_probe.h: RAM probes for the benchmark servers (benches/size.rs), compiled in only
 * with -DBENCH_PROBE. Library-neutral: the same code measures meerkat and Mongoose.
 *
 *   BENCH_PROBE_INIT();   once, right before the event loop
 *   BENCH_PROBE_POLL();   after every mg_mgr_poll
 *
 * On SIGUSR1 (handled on an alternate stack, so the signal frame is not on the measured
 * stack) the next BENCH_PROBE_POLL prints one line
 *
 *   probe heap=BYTES stack=BYTES
 *
 * heap:  the whole malloc heap in use (glibc mallinfo2: uordblks + hblkhd, chunk overhead
 *        included), whoever allocated it (C or Rust: Rust's allocator is malloc here).
 * stack: the deepest stack used below the event loop's frame since the previous probe (or
 *        BENCH_PROBE_INIT), i.e. by mg_mgr_poll and everything it called, handlers
 *        included. Measured by stack painting: BENCH_PROBE_STACK bytes below the loop's
 *        frame are filled with a pattern, and the probe finds the lowest byte that changed.
 *        The region is painted again after each probe.
 */
#ifndef BENCH_PROBE_H
#define BENCH_PROBE_H
#ifdef BENCH_PROBE
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define BENCH_PROBE_STACK (512 * 1024)
#define BENCH_PROBE_PATTERN 0xA5

static volatile sig_atomic_t s_probe_requested;
static uintptr_t s_probe_lo;  /* lowest painted byte */
static uintptr_t s_probe_top;              /* the loop's stack position */

static void bench_probe_on_signal(int signo) {
  (void) signo;
  s_probe_requested = 1;
}

/* Fill BENCH_PROBE_STACK bytes of stack below the caller's frame with the pattern. */
__attribute__((noinline)) static void bench_probe_paint(void) {
  unsigned char region[BENCH_PROBE_STACK];
  memset(region, BENCH_PROBE_PATTERN, sizeof(region));
  __asm__ volatile("" : : "r"(region) : "memory"); /* keep the memset */
  s_probe_lo = (uintptr_t) region;
  s_probe_top = s_probe_lo + sizeof(region);
}

/* Bytes of stack used below the painted region's top since it was painted. */
__attribute__((noinline)) static size_t bench_probe_stack_used(void) {
  volatile unsigned char *p = (volatile unsigned char *) s_probe_lo;
  while ((uintptr_t) p < s_probe_top && *p == BENCH_PROBE_PATTERN) p++;
  return (size_t) (s_probe_top - (uintptr_t) p);
}

static inline __attribute__((always_inline)) void bench_probe_init(void) {
  static unsigned char altstack[64 * 1024];
  stack_t ss;
  memset(&ss, 0, sizeof(ss));
  ss.ss_sp = altstack;
  ss.ss_size = sizeof(altstack);
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = bench_probe_on_signal;
  sa.sa_flags = SA_ONSTACK;
  sigaction(SIGUSR1, &sa, NULL);
  bench_probe_paint();
}

static inline __attribute__((always_inline)) void bench_probe_poll(void) {
  if (!s_probe_requested) return;
  s_probe_requested = 0;
  size_t stack = bench_probe_stack_used(); /* before printf touches the stack */
  struct mallinfo2 mi = mallinfo2();
  printf("probe heap=%zu stack=%zu\n", mi.uordblks + mi.hblkhd, stack);
  fflush(stdout);
  bench_probe_paint();
}

#define BENCH_PROBE_INIT() bench_probe_init()
#define BENCH_PROBE_POLL() bench_probe_poll()
#else
#define BENCH_PROBE_INIT() ((void) 0)
#define BENCH_PROBE_POLL() ((void) 0)
#endif
#endif
