/*
 * https-server: static files and a tiny JSON API over TLS.
 *
 *   ./https-server [URL [CERT.pem:KEY.pem [WEB_ROOT]]]
 *
 * Defaults: URL https://0.0.0.0:8443, the FOR-TESTING-ONLY pair test-cert.pem /
 * test-key.pem next to this file (run from c-examples/https-server; an empty or "-" second
 * argument also means that pair), WEB_ROOT ../http-server/web_root.
 *
 *   GET /api/hello     {"hello":"TLS","uri":"/api/hello"}
 *   anything else      a file from WEB_ROOT (mg_http_serve_dir)
 *
 * TLS is set up once, on the listener: mg_tls_init() on a listening connection applies the
 * options to every connection it accepts, and the certificate and key are parsed once.
 * (Calling mg_tls_init(c, &opts) in MG_EV_ACCEPT, as Mongoose programs do, works too.)
 *
 * Prints "listening on URL" once the listener is up. On SIGINT/SIGTERM it frees the manager,
 * prints "handshakes: N" and "bye", and exits with 0.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meerkat.h"

#define DEFAULT_CERT "test-cert.pem"
#define DEFAULT_KEY "test-key.pem"

static volatile sig_atomic_t s_signo;
static const char *s_root = "../http-server/web_root";
static unsigned long s_handshakes;

static void on_signal(int signo) {
  s_signo = signo;
}

/* Read a whole file into a malloc'ed buffer. Returns 0 and fills *out, or -1. */
static int read_file(const char *path, struct mg_str *out) {
  FILE *fp = fopen(path, "rb");
  char *buf = NULL;
  long size;
  if (fp == NULL) return -1;
  if (fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0 ||
      (buf = (char *) malloc((size_t) size + 1)) == NULL ||
      fread(buf, 1, (size_t) size, fp) != (size_t) size) {
    free(buf);
    fclose(fp);
    return -1;
  }
  fclose(fp);
  buf[size] = '\0';
  out->buf = buf;
  out->len = (size_t) size;
  return 0;
}

static void fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_TLS_HS) {
    s_handshakes++;
  } else if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    if (mg_match(hm->uri, mg_str("/api/hello"), NULL)) {
      mg_http_reply(c, 200, "Content-Type: application/json\r\n", "{%m:%m,%m:%m}\n",
                    MG_ESC("hello"), MG_ESC("TLS"), MG_ESC("uri"), mg_print_esc,
                    (int) hm->uri.len, hm->uri.buf);
    } else {
      struct mg_http_serve_opts opts;
      memset(&opts, 0, sizeof(opts));
      opts.root_dir = s_root;
      mg_http_serve_dir(c, hm, &opts);
    }
  }
  /* MG_EV_ERROR (a failed handshake, a reset peer...) needs nothing here: the connection
   * closes by itself and the next client is served as usual. */
}

int main(int argc, char *argv[]) {
  const char *url = argc > 1 ? argv[1] : "https://0.0.0.0:8443";
  const char *pair = argc > 2 ? argv[2] : "";
  char cert_path[1024], key_path[1024];
  struct mg_tls_opts opts;
  struct mg_mgr mgr;
  struct mg_conn lc;
  struct sigaction sa;
  int rc;

  if (argc > 3) s_root = argv[3];
  if (pair[0] == '\0' || strcmp(pair, "-") == 0) {
    mg_snprintf(cert_path, sizeof(cert_path), "%s", DEFAULT_CERT);
    mg_snprintf(key_path, sizeof(key_path), "%s", DEFAULT_KEY);
    fprintf(stderr,
            "WARNING: using the self-signed certificate %s and key %s, FOR TESTING ONLY: the "
            "key is public. Pass CERT.pem:KEY.pem as the second argument for real use.\n",
            DEFAULT_CERT, DEFAULT_KEY);
  } else {
    const char *colon = strchr(pair, ':');
    if (colon == NULL || colon == pair || colon[1] == '\0') {
      fprintf(stderr, "second argument: expected CERT.pem:KEY.pem, got %s\n", pair);
      return 1;
    }
    mg_snprintf(cert_path, sizeof(cert_path), "%.*s", (int) (colon - pair), pair);
    mg_snprintf(key_path, sizeof(key_path), "%s", colon + 1);
  }

  memset(&opts, 0, sizeof(opts));
  if (read_file(cert_path, &opts.cert) != 0 || read_file(key_path, &opts.key) != 0) {
    fprintf(stderr, "cannot read %s or %s\n", cert_path, key_path);
    free((void *) opts.cert.buf);
    return 1;
  }

  mg_log_set(MG_LL_ERROR);
  if (mg_mgr_init(&mgr) != 0) {
    fprintf(stderr, "mg_mgr_init failed\n");
    return 1;
  }
  lc = mg_http_listen(&mgr, url, fn, NULL);
  if (lc.h == 0) {
    fprintf(stderr, "cannot listen on %s: %s\n", url, mg_strerror(mg_last_error()));
    mg_mgr_free(&mgr);
    return 1;
  }
  rc = mg_tls_init(lc, &opts); /* every accepted connection speaks TLS */
  free((void *) opts.cert.buf);  /* read during the call only */
  free((void *) opts.key.buf);
  if (rc != 0) {
    fprintf(stderr, "mg_tls_init: %s\n", mg_strerror(rc));
    mg_mgr_free(&mgr);
    return 1;
  }

  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  printf("listening on %s\n", url);
  printf("serving %s\n", s_root);
  fflush(stdout);
  while (s_signo == 0) mg_mgr_poll(&mgr, 1000);

  if (mg_mgr_free(&mgr) != 0) return 1;
  printf("handshakes: %lu\n", s_handshakes);
  printf("bye\n");
  return 0;
}
