/* G5: the printf family refuses output that cannot fit in the send buffer before building
 * it. With max_send at 64 KiB, widths of 200,000,000 and INT_MAX must come back as
 * MG_ERR_FULL while the process stays small (before: 481 MB and 2.3 GB).
 * Prints "maxrss_kb N" and "N passed, M failed". */
#include "mongoose.h"
#include <sys/resource.h>

#include "check.h"

int main(void) {
  struct mg_mgr mgr;
  struct mg_limits lim;
  struct mg_conn l, c, h;
  struct mg_conn_info info;
  struct rusage ru;
  size_t room = 0;
  char url[64];
  unsigned port;

  CHECK(mg_mgr_init(&mgr) == 0);
  CHECK(mg_mgr_get_limits(&mgr, &lim) == 0);
  lim.max_send = 64 * 1024;
  CHECK(mg_mgr_set_limits(&mgr, &lim) == 0);
  l = mg_listen(&mgr, "tcp://127.0.0.1:0", NULL, NULL);
  CHECK(l.h != 0 && mg_conn_info(l, &info) == 0);
  port = (unsigned) (((const uint8_t *) &info.loc.port)[0] << 8 | ((const uint8_t *) &info.loc.port)[1]);
  snprintf(url, sizeof(url), "tcp://127.0.0.1:%u", port);
  c = mg_connect(&mgr, url, NULL, NULL); /* sends are queued until connected */
  snprintf(url, sizeof(url), "http://127.0.0.1:%u", port);
  h = mg_http_connect(&mgr, url, NULL, NULL);
  CHECK(c.h != 0 && h.h != 0);

  CHECK(mg_send_room(c, &room) == 0 && room == 64 * 1024);
  CHECK(mg_send_room(l, &room) == MG_ERR_UNSUPPORTED);
  CHECK(mg_send_room(c, NULL) == MG_ERR_INVALID);

  CHECK(mg_printf(c, "%*d", 200000000, 1) == MG_ERR_FULL);
  CHECK(mg_printf(c, "%*d", INT_MAX, 1) == MG_ERR_FULL);
  CHECK(mg_printf(c, "%.*f", 200000000, 1.0) == MG_ERR_FULL);
  CHECK(mg_http_reply(h, 200, "", "%*s", 200000000, "") == MG_ERR_FULL);
  CHECK(mg_http_reply(h, 200, "", "%*d", INT_MAX, 1) == MG_ERR_FULL);
  CHECK(mg_http_printf_chunk(h, "%*d", INT_MAX, 1) == MG_ERR_FULL);
  CHECK(mg_conn_info(c, &info) == 0 && info.send_len == 0); /* nothing was queued */

  /* Up to the room it still works, and the room shrinks by what was queued. */
  CHECK(mg_printf(c, "%*d", 1000, 7) == 1000);
  CHECK(mg_send_room(c, &room) == 0 && room == 64 * 1024 - 1000);
  CHECK(mg_printf(c, "%*d", (int) room, 7) == (int) room);
  CHECK(mg_printf(c, "x") == MG_ERR_FULL);
  CHECK(mg_send_room(c, &room) == 0 && room == 0);

  CHECK(mg_close(c) == 0);
  CHECK(mg_send_room(c, &room) == MG_ERR_CLOSING);
  CHECK(mg_printf(c, "x") == MG_ERR_CLOSING);
  CHECK(mg_mgr_free(&mgr) == 0);
  CHECK(mg_send_room(c, &room) == MG_ERR_STALE);
  CHECK(mg_printf(c, "%*d", INT_MAX, 1) == MG_ERR_STALE);

  CHECK(getrusage(RUSAGE_SELF, &ru) == 0);
  printf("maxrss_kb %ld\n", (long) ru.ru_maxrss);
  CHECK(ru.ru_maxrss < 64 * 1024); /* KiB on Linux: under 64 MB */
  return CHECK_SUMMARY();
}
