/*
 * mhd_hello.c: the GNU libmicrohttpd peer of benches/http.rs (linked against Debian's
 * libmicrohttpd), serving the same things as meerkat_hello.c:
 *
 * usage: mhd_hello PORT WEB_ROOT [max_seconds]
 *   GET /static/...   a file from WEB_ROOT, MHD_create_response_from_fd (sendfile)
 *   anything else     200 "hello\n" (text/plain)
 * One internal thread with epoll (MHD_USE_EPOLL_INTERNAL_THREAD): the same model as
 * meerkat's single event loop. Listens on 127.0.0.1:PORT, up to 1000 connections.
 * Prints "ready" on stdout once listening, then serves until killed (or max_seconds pass).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

static const char *s_root = ".";
static struct MHD_Response *s_hello;
static struct MHD_Response *s_not_found;

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version,
                              const char *upload_data, size_t *upload_data_size,
                              void **req_cls) {
  (void) cls, (void) method, (void) version, (void) upload_data, (void) upload_data_size;
  /* Answer on the second call, when the request has been read completely (MHD's pattern;
   * answering on the first call makes MHD close the connection after the response). */
  static int seen;
  if (*req_cls == NULL) {
    *req_cls = &seen;
    return MHD_YES;
  }
  if (strncmp(url, "/static/", 8) != 0) return MHD_queue_response(conn, MHD_HTTP_OK, s_hello);
  char path[1024];
  struct stat st;
  int fd = -1;
  if (strstr(url, "..") == NULL &&
      snprintf(path, sizeof(path), "%s%s", s_root, url) < (int) sizeof(path)) {
    fd = open(path, O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    if (fd >= 0) close(fd);
    return MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, s_not_found);
  }
  /* MHD closes fd when the response is destroyed. */
  struct MHD_Response *r = MHD_create_response_from_fd((size_t) st.st_size, fd);
  if (r == NULL) {
    close(fd);
    return MHD_NO;
  }
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
  enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
  MHD_destroy_response(r);
  return ret;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s PORT WEB_ROOT [max_seconds]\n", argv[0]);
    return 2;
  }
  s_root = argv[2];
  alarm(argc > 3 ? (unsigned) atoi(argv[3]) : 600);
  s_hello = MHD_create_response_from_buffer(6, (void *) "hello\n", MHD_RESPMEM_PERSISTENT);
  s_not_found = MHD_create_response_from_buffer(10, (void *) "not found\n", MHD_RESPMEM_PERSISTENT);
  if (s_hello == NULL || s_not_found == NULL) return 1;
  MHD_add_response_header(s_hello, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
  MHD_add_response_header(s_not_found, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t) atoi(argv[1]));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct MHD_Daemon *d = MHD_start_daemon(
      MHD_USE_EPOLL_INTERNAL_THREAD, (uint16_t) atoi(argv[1]), NULL, NULL, answer, NULL,
      MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &sa, MHD_OPTION_CONNECTION_LIMIT,
      (unsigned int) 1000, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int) 1024,
      MHD_OPTION_END);
  if (d == NULL) {
    fprintf(stderr, "mhd_hello: MHD_start_daemon failed\n");
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) pause();
}
