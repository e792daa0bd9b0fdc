/*
 * civetweb_hello.c: the CivetWeb peer of benches/http.rs (linked against Debian's
 * libcivetweb), serving the same things as meerkat_hello.c:
 *
 * usage: civetweb_hello PORT WEB_ROOT [max_seconds]
 *   GET /static/...   a file from WEB_ROOT (CivetWeb's own static file handler, document_root)
 *   GET /hello        200 "hello\n" (text/plain), from a request handler that writes the
 *                     whole response with one mg_printf (built with -DHELLO_SEND_HTTP_OK:
 *                     with mg_send_http_ok + mg_write instead, CivetWeb's convenience API)
 * Listens on 127.0.0.1:PORT with enough worker threads for 256 simultaneous keep-alive
 * connections (CivetWeb holds a thread per connection), TCP_NODELAY on, no logging.
 * Prints "ready" on stdout once listening, then serves until killed (or max_seconds pass).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <civetweb.h>

static int hello(struct mg_connection *conn, void *cbdata) {
  (void) cbdata;
#ifdef HELLO_SEND_HTTP_OK
  /* CivetWeb's convenience API: it writes the head line by line (about ten send() calls). */
  mg_send_http_ok(conn, "text/plain", 6);
  mg_write(conn, "hello\n", 6);
#else
  /* The whole response in one write, as CivetWeb's own examples do: its cheapest path. */
  const char *c = mg_get_header(conn, "Connection");
  int close = c != NULL && mg_strcasecmp(c, "close") == 0;
  mg_printf(conn,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n"
            "Connection: %s\r\n\r\nhello\n",
            close ? "close" : "keep-alive");
#endif
  return 200;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s PORT WEB_ROOT [max_seconds]\n", argv[0]);
    return 2;
  }
  alarm(argc > 3 ? (unsigned) atoi(argv[3]) : 600);
  char ports[64];
  snprintf(ports, sizeof(ports), "127.0.0.1:%s", argv[1]);
  const char *options[] = {
      "listening_ports", ports,
      "document_root", argv[2],
      "num_threads", "256",
      "enable_keep_alive", "yes",
      "keep_alive_timeout_ms", "30000",
      "tcp_nodelay", "1",
      "listen_backlog", "1024",
      "enable_directory_listing", "no",
      NULL,
  };
  mg_init_library(0);
  struct mg_callbacks callbacks = {0};
  struct mg_context *ctx = mg_start(&callbacks, NULL, options);
  if (ctx == NULL) {
    fprintf(stderr, "civetweb_hello: mg_start failed\n");
    return 1;
  }
  mg_set_request_handler(ctx, "/hello", hello, NULL);
  printf("ready\n");
  fflush(stdout);
  for (;;) pause();
}
