/*
 * nostd_serve.c: a directory served with an SSI pattern, for the archive built without
 * default features (tests/no_std.rs): that build has no server-side includes (feature `ssi`),
 * so a matching file gets 501, and no directory listings (feature `dirlist`), so a directory
 * without an index gets 403, while plain files are served as usual.
 *
 * usage: nostd_serve URL DIR
 *   /ssi/...   mg_http_serve_ssi(DIR, DIR/...)
 *   anything else: mg_http_serve_dir with root_dir DIR and ssi_pattern "#.shtml"
 * Prints "ready" once listening; serves for 60 seconds at most (alarm()).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "meerkat.h"

static const char *s_dir = ".";

static void fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev != MG_EV_HTTP_MSG) return;
  struct mg_http_message *hm = (struct mg_http_message *) ev_data;
  if (mg_match(hm->uri, mg_str("/ssi/*"), NULL)) {
    char path[512];
    snprintf(path, sizeof(path), "%s/%.*s", s_dir, (int) hm->uri.len - 5, hm->uri.buf + 5);
    mg_http_serve_ssi(c, s_dir, path);
  } else {
    struct mg_http_serve_opts opts;
    memset(&opts, 0, sizeof(opts));
    opts.root_dir = s_dir;
    opts.ssi_pattern = "#.shtml";
    mg_http_serve_dir(c, hm, &opts);
  }
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s URL DIR\n", argv[0]);
    return 2;
  }
  s_dir = argv[2];
  alarm(60);
  struct mg_mgr mgr;
  if (mg_mgr_init(&mgr) != 0) return 1;
  if (mg_http_listen(&mgr, argv[1], fn, NULL).h == 0) return 1;
  printf("ready\n");
  fflush(stdout);
  for (;;) mg_mgr_poll(&mgr, 1000);
}
