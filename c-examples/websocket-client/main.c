/*
 * websocket-client: connect to a WebSocket echo server, send a message, print the echo.
 *
 *   ./websocket-client URL [MESSAGE] [CA.pem]
 *
 * URL is ws://host:port/path or wss://... (then CA.pem lists the certificates trusted to sign
 * the server's). Sends MESSAGE (default "hello from meerkat") as text and a 100000-byte
 * binary message, prints
 *
 *   connected
 *   echo: hello from meerkat
 *   binary echo: 100000 bytes ok
 *
 * then closes with status 1000 and exits 0 once the server answered the close. Exit 1 when
 * the connection or the handshake fails (the MG_EV_ERROR message goes to stderr) or an echo
 * differs; 2 when nothing completed within 10 seconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meerkat.h"

#define BIN_LEN 100000

static const char *s_url, *s_msg = "hello from meerkat", *s_ca_file;
static struct mg_str s_ca;
static unsigned char s_bin[BIN_LEN];
static int s_got_text, s_got_bin, s_closed, s_failed;

static int read_file(const char *path, struct mg_str *out) {
  FILE *fp = fopen(path, "rb");
  long size;
  char *buf;
  if (fp == NULL) return -1;
  fseek(fp, 0, SEEK_END);
  size = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  buf = (char *) malloc((size_t) size + 1);
  if (buf == NULL || fread(buf, 1, (size_t) size, fp) != (size_t) size) {
    free(buf);
    fclose(fp);
    return -1;
  }
  fclose(fp);
  out->buf = buf;
  out->len = (size_t) size;
  return 0;
}

static void fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_CONNECT) {
    struct mg_conn_info ci;
    if (mg_conn_info(c, &ci) == 0 && ci.is_tls) {
      struct mg_tls_opts opts;
      memset(&opts, 0, sizeof(opts));
      opts.ca = s_ca; /* verification on; name: the URL's host */
      mg_tls_init(c, &opts);
    }
  } else if (ev == MG_EV_ERROR) {
    fprintf(stderr, "error: %s\n", (const char *) ev_data);
    s_failed = 1;
  } else if (ev == MG_EV_WS_OPEN) {
    printf("connected\n");
    mg_ws_send(c, s_msg, strlen(s_msg), WEBSOCKET_OP_TEXT);
    mg_ws_send(c, s_bin, sizeof(s_bin), WEBSOCKET_OP_BINARY);
  } else if (ev == MG_EV_WS_MSG) {
    struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
    if ((wm->flags & 0x0f) == WEBSOCKET_OP_TEXT) {
      printf("echo: %.*s\n", (int) wm->data.len, wm->data.buf);
      s_got_text = wm->data.len == strlen(s_msg) && memcmp(wm->data.buf, s_msg, wm->data.len) == 0;
    } else {
      s_got_bin = wm->data.len == BIN_LEN && memcmp(wm->data.buf, s_bin, BIN_LEN) == 0;
      printf("binary echo: %lu bytes %s\n", (unsigned long) wm->data.len, s_got_bin ? "ok" : "DIFFERENT");
    }
    if (!s_got_text || !s_got_bin) {
      if ((wm->flags & 0x0f) == WEBSOCKET_OP_TEXT ? !s_got_text : !s_got_bin) s_failed = 1;
    }
    if (s_got_text && s_got_bin) {
      /* Status 1000 (normal closure), in network byte order, and a reason. */
      mg_ws_send(c, "\x03\xe8" "done", 6, WEBSOCKET_OP_CLOSE);
    }
  } else if (ev == MG_EV_WS_CTL) {
    struct mg_ws_message *wm = (struct mg_ws_message *) ev_data;
    if ((wm->flags & 0x0f) == WEBSOCKET_OP_CLOSE && wm->data.len >= 2) {
      unsigned code = ((unsigned char) wm->data.buf[0] << 8) | (unsigned char) wm->data.buf[1];
      printf("closed: %u %.*s\n", code, (int) wm->data.len - 2, wm->data.buf + 2);
    }
  } else if (ev == MG_EV_CLOSE) {
    s_closed = 1;
  }
}

int main(int argc, char *argv[]) {
  struct mg_mgr mgr;
  struct mg_stats st;
  uint64_t end;
  int i, code;
  if (argc < 2) {
    fprintf(stderr, "usage: %s URL [MESSAGE] [CA.pem]\n", argv[0]);
    return 1;
  }
  s_url = argv[1];
  if (argc > 2) s_msg = argv[2];
  if (argc > 3) {
    s_ca_file = argv[3];
    if (read_file(s_ca_file, &s_ca) != 0) {
      fprintf(stderr, "cannot read %s\n", s_ca_file);
      return 1;
    }
  }
  for (i = 0; i < BIN_LEN; i++) s_bin[i] = (unsigned char) (i * 31 + i / 253);
  if (mg_mgr_init(&mgr) != 0) return 1;
  if (mg_ws_connect(&mgr, s_url, fn, NULL, NULL).h == 0) {
    fprintf(stderr, "cannot connect to %s: %s\n", s_url, mg_strerror(mg_last_error()));
    mg_mgr_free(&mgr);
    return 1;
  }
  end = mg_millis() + 10000;
  while (!s_closed && mg_millis() < end) mg_mgr_poll(&mgr, 100);
  mg_mgr_stats(&mgr, &st);
  printf("live=%u\n", st.live_conns);
  mg_mgr_free(&mgr);
  free((void *) s_ca.buf);
  code = !s_closed ? 2 : (s_failed || !s_got_text || !s_got_bin) ? 1 : 0;
  return code;
}
