/*
 * https-client: fetch one https:// URL with GET, verifying the server's certificate.
 *
 *   ./https-client URL CA.pem [TIMEOUT_MS]
 *
 * CA.pem lists the certificates trusted to sign the server's (for the https-server example:
 * its self-signed ../https-server/test-cert.pem). The name checked in the certificate, also
 * sent as SNI, is the host of URL. Prints
 *
 *   status: 200
 *
 *   {"hello":"TLS","uri":"/api/hello"}
 *
 * Exit status: 0 for a 2xx response; 1 for any other status, or when the connection or the
 * TLS handshake fails (the MG_EV_ERROR message goes to stderr, e.g. an unknown CA or a name
 * mismatch); 2 when no complete response came within TIMEOUT_MS (default 5000).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meerkat.h"

static const char *s_url;
static struct mg_str s_ca;
static int s_done;      /* the loop runs until this is set */
static int s_exit_code; /* valid once s_done is set */

static void finish(int code) {
  if (!s_done) {
    s_done = 1;
    s_exit_code = code;
  }
}

static void on_timeout(void *arg) {
  (void) arg;
  if (!s_done) fprintf(stderr, "timed out: no complete response from %s\n", s_url);
  finish(2);
}

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
  if (ev == MG_EV_CONNECT) {
    struct mg_tls_opts opts;
    struct mg_str host = mg_url_host(s_url);
    memset(&opts, 0, sizeof(opts));
    opts.ca = s_ca; /* verification on; name: the URL's host */
    if (mg_tls_init(c, &opts) != 0) return; /* MG_EV_ERROR said why; the connection closes */
    /* Sent once the handshake is done (meerkat holds it until then). */
    mg_printf(c,
              "GET %s HTTP/1.1\r\n"
              "Host: %.*s\r\n"
              "User-Agent: meerkat-https-client\r\n"
              "Connection: close\r\n"
              "\r\n",
              mg_url_uri(s_url), (int) host.len, host.buf);
  } else if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    int status = mg_http_status(hm);
    printf("status: %d\n\n", status);
    fwrite(hm->body.buf, 1, hm->body.len, stdout);
    if (hm->body.len > 0 && hm->body.buf[hm->body.len - 1] != '\n') putchar('\n');
    fflush(stdout);
    finish(status >= 200 && status < 300 ? 0 : 1);
    mg_close(c);
  } else if (ev == MG_EV_ERROR) {
    fprintf(stderr, "error: %s\n", (const char *) ev_data);
    finish(1);
  } else if (ev == MG_EV_CLOSE) {
    if (!s_done) fprintf(stderr, "connection closed before a complete response\n");
    finish(1);
  }
}

int main(int argc, char *argv[]) {
  struct mg_mgr mgr;
  long timeout_ms = argc > 3 ? strtol(argv[3], NULL, 10) : 5000;

  if (argc < 3) {
    fprintf(stderr, "usage: %s https://HOST:PORT/PATH CA.pem [TIMEOUT_MS]\n", argv[0]);
    return 1;
  }
  s_url = argv[1];
  if (timeout_ms <= 0) timeout_ms = 5000;
  if (!mg_url_is_ssl(s_url)) {
    fprintf(stderr, "%s: expected an https:// URL\n", s_url);
    return 1;
  }
  if (read_file(argv[2], &s_ca) != 0) {
    fprintf(stderr, "cannot read CA file %s\n", argv[2]);
    return 1;
  }
  if (mg_mgr_init(&mgr) != 0) {
    fprintf(stderr, "mg_mgr_init failed\n");
    free((void *) s_ca.buf);
    return 1;
  }
  if (mg_timer_add(&mgr, (uint64_t) timeout_ms, MG_TIMER_ONCE, on_timeout, NULL).h == 0 ||
      mg_http_connect(&mgr, s_url, fn, NULL).h == 0) {
    fprintf(stderr, "cannot fetch %s: %s\n", s_url, mg_strerror(mg_last_error()));
    mg_mgr_free(&mgr);
    free((void *) s_ca.buf);
    return 1;
  }
  while (!s_done) mg_mgr_poll(&mgr, 100);

  mg_mgr_free(&mgr); /* closes the connection if it is still open */
  free((void *) s_ca.buf);
  return s_exit_code;
}
