/*
 * mg_http_start_upload, written with Mongoose 7.22's names through mongoose.h: a body is
 * streamed into DIR/NAME as it arrives. Run by tests/start_upload.rs.
 *
 *   start_upload URL DIR
 *
 *   POST /up?name=NAME    mg_http_start_upload in MG_EV_HTTP_HDRS, with an outcome
 *                         callback that prints "upload NAME: ok|REASON" and replies
 *                         201 "stored" (or 500 with the reason)
 *   POST /dflt?name=NAME  the same with fn NULL (Mongoose's default reply: 200 "ok\n")
 *   POST /late?name=NAME  mg_http_start_upload in MG_EV_HTTP_MSG (body already read)
 *   GET  /ping            200 "pong" (the handler gets the next request as usual)
 *   GET  /quit            stop
 *
 * Each MG_EV_CLOSE prints "close". The manager buffers at most 64 KiB of a body
 * (http_max_body): streamed uploads are not bound by it. Prints "listening on URL" when
 * ready, and "live N" then "bye" at the end (N: connections alive before mg_mgr_free,
 * the listener included).
 */
#include "mongoose.h"

static char s_dir[512];
static int s_done;

static void outcome(struct mg_conn c, const char *err) {
  printf("upload: %s\n", err == NULL ? "ok" : err);
  fflush(stdout);
  if (err == NULL) {
    mg_http_reply(c, 201, "", "stored\n");
  } else {
    mg_http_reply(c, 500, "", "%s\n", err);
  }
}

static struct mg_str name_of(struct mg_http_message *hm, char *buf, size_t len) {
  int n = mg_http_get_var(&hm->query, "name", buf, len);
  return mg_str_n(buf, n > 0 ? (size_t) n : 0);
}

static void fn(struct mg_conn c, int ev, void *ev_data) {
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  char name[100];
  if (ev == MG_EV_HTTP_HDRS && mg_match(hm->uri, mg_str("/up"), NULL)) {
    mg_http_start_upload(c, hm, name_of(hm, name, sizeof(name)), mg_str(s_dir),
                         &mg_fs_posix, outcome);
  } else if (ev == MG_EV_HTTP_HDRS && mg_match(hm->uri, mg_str("/dflt"), NULL)) {
    mg_http_start_upload(c, hm, name_of(hm, name, sizeof(name)), mg_str(s_dir),
                         &mg_fs_posix, NULL);
  } else if (ev == MG_EV_HTTP_MSG && mg_match(hm->uri, mg_str("/late"), NULL)) {
    mg_http_start_upload(c, hm, name_of(hm, name, sizeof(name)), mg_str(s_dir),
                         &mg_fs_posix, outcome);
  } else if (ev == MG_EV_HTTP_MSG && (mg_match(hm->uri, mg_str("/up"), NULL) ||
                                      mg_match(hm->uri, mg_str("/dflt"), NULL))) {
    /* Reached only when the upload could not start: the outcome callback replied. */
  } else if (ev == MG_EV_HTTP_MSG && mg_match(hm->uri, mg_str("/ping"), NULL)) {
    mg_http_reply(c, 200, "", "pong");
  } else if (ev == MG_EV_HTTP_MSG && mg_match(hm->uri, mg_str("/quit"), NULL)) {
    mg_http_reply(c, 200, "", "bye\n");
    s_done = 1;
  } else if (ev == MG_EV_HTTP_MSG) {
    mg_http_reply(c, 404, "", "no route\n");
  } else if (ev == MG_EV_CLOSE) {
    printf("close\n");
    fflush(stdout);
  }
}

int main(int argc, char *argv[]) {
  struct mg_mgr mgr;
  struct mg_stats st;
  int i;
  if (argc != 3) {
    fprintf(stderr, "usage: %s URL DIR\n", argv[0]);
    return 2;
  }
  mg_snprintf(s_dir, sizeof(s_dir), "%s", argv[2]);
  mg_mgr_init(&mgr);
  {
    struct mg_limits l;
    mg_mgr_get_limits(&mgr, &l);
    l.http_max_body = 65536;
    if (mg_mgr_set_limits(&mgr, &l) != 0) return 1;
  }
  if (mg_http_listen(&mgr, argv[1], fn, NULL).h == 0) {
    fprintf(stderr, "cannot listen on %s\n", argv[1]);
    return 1;
  }
  printf("listening on %s\n", argv[1]);
  fflush(stdout);
  while (!s_done) mg_mgr_poll(&mgr, 100);
  /* Let the /quit reply go and the clients leave (3 s at most). */
  for (i = 0; i < 300; i++) {
    mg_mgr_poll(&mgr, 10);
    mg_mgr_stats(&mgr, &st);
    if (st.live_conns == 1) break;
  }
  printf("live %u\n", (unsigned) st.live_conns);
  mg_mgr_free(&mgr);
  printf("bye\n");
  return 0;
}
