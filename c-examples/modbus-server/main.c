/*
 * modbus-server: a Modbus TCP device, as Mongoose firmware writes one.
 *
 *   ./modbus-server [URL]          default URL: tcp://0.0.0.0:8502
 *
 * The device: 100 holding registers (register a holds 1000 + a until written), input
 * registers 7, 8, 9, ..., 100 coils (all off until written), discrete inputs 1, 0, 1, 0, ...
 * A request past address 99 gets exception 2 (illegal data address). Prints "listening on
 * URL", one "write ..." line per write, and stops cleanly on SIGINT or SIGTERM ("bye").
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "meerkat.h"

#define N 100
static uint16_t s_regs[N];
static bool s_coils[N];
static volatile sig_atomic_t s_signo;

static void on_signal(int signo) {
  s_signo = signo;
}

static void fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev != MG_EV_MODBUS_REQ) return;
  struct mg_modbus_req *req = (struct mg_modbus_req *) ev_data;
  size_t a = req->addr, n = req->len, i;
  if (a + n > N) {
    req->error = MG_MODBUS_ERR_ILLEGAL_ADDRESS;
    return;
  }
  switch (req->func) {
    case MG_MODBUS_FUNC_READ_HOLDING_REGISTERS:
      memcpy(req->u.regs, &s_regs[a], n * sizeof(uint16_t));
      break;
    case MG_MODBUS_FUNC_READ_INPUT_REGISTERS:
      for (i = 0; i < n; i++) req->u.regs[i] = (uint16_t) (7 + i);
      break;
    case MG_MODBUS_FUNC_READ_COILS:
      memcpy(req->u.bits, &s_coils[a], n * sizeof(bool));
      break;
    case MG_MODBUS_FUNC_READ_DISCRETE_INPUTS:
      for (i = 0; i < n; i++) req->u.bits[i] = (i % 2) == 0;
      break;
    case MG_MODBUS_FUNC_WRITE_SINGLE_REGISTER:
    case MG_MODBUS_FUNC_WRITE_MULTIPLE_REGISTERS:
      memcpy(&s_regs[a], req->u.regs, n * sizeof(uint16_t));
      printf("write regs %zu:", a);
      for (i = 0; i < n; i++) printf(" %u", (unsigned) req->u.regs[i]);
      printf("\n");
      break;
    default: /* single and multiple coils */
      memcpy(&s_coils[a], req->u.bits, n * sizeof(bool));
      printf("write coils %zu:", a);
      for (i = 0; i < n; i++) printf(" %d", req->u.bits[i] ? 1 : 0);
      printf("\n");
      break;
  }
  fflush(stdout);
  (void) c;
}

int main(int argc, char *argv[]) {
  const char *url = argc > 1 ? argv[1] : "tcp://0.0.0.0:8502";
  struct mg_mgr mgr;
  size_t i;

  for (i = 0; i < N; i++) s_regs[i] = (uint16_t) (1000 + i);
  mg_log_set(MG_LL_INFO);
  if (mg_mgr_init(&mgr) != 0) return 1;
  struct mg_conn l = mg_modbus_listen(&mgr, url, fn, NULL);
  if (l.h == 0) {
    fprintf(stderr, "cannot listen on %s: %s\n", url, mg_strerror(mg_last_error()));
    mg_mgr_free(&mgr);
    return 1;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  printf("listening on %s\n", url);
  fflush(stdout);
  while (s_signo == 0) mg_mgr_poll(&mgr, 1000);
  if (mg_mgr_free(&mgr) != 0) return 1;
  printf("bye\n");
  return 0;
}
