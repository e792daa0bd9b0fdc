/*
 * file-server: share a directory over HTTP, with directory listings and uploads, written
 * with Mongoose 7.22's names through mongoose.h.
 *
 *   ./file-server [URL [DIR]]          defaults: http://0.0.0.0:8000, the current directory
 *
 *   GET  /PATH                         a file of DIR; a directory without index.html gets a
 *                                      listing page (the URL must end with '/': /docs
 *                                      redirects to /docs/)
 *   POST /upload?file=NAME&offset=N    the body is a piece of NAME (Mongoose's chunked
 *                                      upload protocol: offset 0 starts the file, each piece
 *                                      continues it at its end); NAME lands in DIR
 *
 * Uploads are capped at MAX_UPLOAD bytes per file. NAME may not climb out of DIR ("..").
 * Files are served from the OS through mg_fs_posix: symbolic links that lead out of DIR are
 * neither served nor listed.
 *
 * On SIGINT/SIGTERM: "requests=N uploads=M", "bye", exit status 0.
 */
#include "mongoose.h"

#define MAX_UPLOAD (64L * 1024 * 1024)

static const char *s_dir = ".";
static volatile sig_atomic_t s_signo;
static long s_requests, s_uploads;

static void on_signal(int signo) {
  s_signo = signo;
}

static void fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    s_requests++;
    if (mg_match(hm->uri, mg_str("/upload"), NULL)) {
      if (mg_strcmp(hm->method, mg_str("POST")) != 0) {
        mg_http_reply(c, 405, "Allow: POST\r\n", "POST pieces to /upload?file=NAME&offset=N\n");
      } else if (mg_http_upload(c, hm, &mg_fs_posix, s_dir, MAX_UPLOAD) >= 0) {
        s_uploads++; /* mg_http_upload replied: 200 with the file's new size */
      }
    } else {
      struct mg_http_serve_opts opts;
      memset(&opts, 0, sizeof(opts));
      opts.root_dir = s_dir;
      opts.fs = &mg_fs_posix;
      opts.extra_headers = "Cache-Control: no-cache\r\n";
      mg_http_serve_dir(c, hm, &opts);
    }
  }
}

int main(int argc, char *argv[]) {
  const char *url = argc > 1 ? argv[1] : "http://0.0.0.0:8000";
  struct mg_mgr mgr;
  struct sigaction sa;

  if (argc > 2) s_dir = argv[2];
  if ((mg_fs_posix.st(s_dir, NULL, NULL) & MG_FS_DIR) == 0) {
    fprintf(stderr, "%s is not a directory\n", s_dir);
    return 1;
  }
  mg_mgr_init(&mgr);
  if (mg_http_listen(&mgr, url, fn, NULL).h == 0) {
    fprintf(stderr, "cannot listen on %s: %s\n", url, mg_strerror(mg_last_error()));
    return 1;
  }
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  printf("listening on %s\n", url);
  printf("serving %s\n", s_dir);
  fflush(stdout);
  while (s_signo == 0) mg_mgr_poll(&mgr, 1000);
  mg_mgr_free(&mgr);
  printf("requests=%ld uploads=%ld\nbye\n", s_requests, s_uploads);
  return 0;
}
