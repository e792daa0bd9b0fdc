/* A client whose connect fails, with the default log level and no MG_EV_ERROR handling of
 * its own: meerkat logs the error (as Mongoose does), so the program does not exit
 * silently. Prints "closed" when the connection ended. */
#include "mongoose.h"

static int g_closed;
static void fn(struct mg_conn c, int ev, void *ev_data) {
  (void) c;
  (void) ev_data;
  if (ev == MG_EV_CLOSE) g_closed = 1;
}

int main(int argc, char **argv) {
  struct mg_mgr mgr;
  int i;
  if (argc < 2) return 2;
  mg_mgr_init(&mgr);
  if (mg_connect(&mgr, argv[1], fn, NULL).h == 0) return 1;
  for (i = 0; i < 500 && !g_closed; i++) mg_mgr_poll(&mgr, 10);
  mg_mgr_free(&mgr);
  printf(g_closed ? "closed\n" : "not closed\n");
  return g_closed ? 0 : 1;
}
