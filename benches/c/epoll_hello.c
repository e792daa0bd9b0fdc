/*
 * epoll_hello.c: the floor for benches/instructions.rs. A single-threaded epoll loop over
 * non-blocking sockets that answers every request head ("\r\n\r\n") with a fixed, prebuilt
 * keep-alive reply: "hello\n" for /hello, the bytes of WEB_ROOT/static/1k.bin (read once at
 * start) for any path under /static/. No parsing beyond finding the head's end and the
 * path's first byte, no allocation per request. Not a web server: a lower bound.
 *
 * usage: epoll_hello URL WEB_ROOT [max_seconds]     URL: http://127.0.0.1:PORT
 * Prints "ready" on stdout once listening.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FD 65536
#define BUF 8192

static char s_hello[256], s_file[BUF];
static size_t s_hello_len, s_file_len;
static char *s_in[MAX_FD];  /* per-connection receive buffer (allocated at accept) */
static size_t s_len[MAX_FD];

static void build_replies(const char *root) {
  s_hello_len = (size_t) snprintf(s_hello, sizeof(s_hello),
                                  "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                  "Content-Length: 6\r\n\r\nhello\n");
  char path[4096], body[4096];
  snprintf(path, sizeof(path), "%s/static/1k.bin", root);
  size_t n = 0;
  FILE *f = fopen(path, "rb");
  if (f != NULL) {
    n = fread(body, 1, sizeof(body), f);
    fclose(f);
  }
  int h = snprintf(s_file, sizeof(s_file),
                   "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                   "Content-Length: %zu\r\n\r\n", n);
  memcpy(s_file + h, body, n);
  s_file_len = (size_t) h + n;
}

static void drop_conn(int ep, int fd) {
  epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
  close(fd);
  free(s_in[fd]);
  s_in[fd] = NULL;
  s_len[fd] = 0;
}

static void on_readable(int ep, int fd) {
  for (;;) {
    ssize_t n = recv(fd, s_in[fd] + s_len[fd], BUF - s_len[fd], 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) || (n < 0 && s_len[fd] == BUF)) {
      drop_conn(ep, fd);
      return;
    }
    if (n < 0) return;
    s_len[fd] += (size_t) n;
    char *buf = s_in[fd];
    size_t off = 0;
    for (;;) {
      char *end = memmem(buf + off, s_len[fd] - off, "\r\n\r\n", 4);
      if (end == NULL) break;
      int is_static = s_len[fd] - off > 12 && memcmp(buf + off, "GET /static/", 12) == 0;
      const char *r = is_static ? s_file : s_hello;
      size_t rl = is_static ? s_file_len : s_hello_len;
      if (send(fd, r, rl, MSG_NOSIGNAL) != (ssize_t) rl) {
        drop_conn(ep, fd);
        return;
      }
      off = (size_t) (end + 4 - buf);
    }
    memmove(buf, buf + off, s_len[fd] - off);
    s_len[fd] -= off;
  }
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s URL WEB_ROOT [max_seconds]\n", argv[0]);
    return 2;
  }
  alarm(argc > 3 ? (unsigned) atoi(argv[3]) : 600);
  const char *colon = strrchr(argv[1], ':');
  if (colon == NULL) return 2;
  build_replies(argv[2]);
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), on = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t) atoi(colon + 1));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(lfd, (struct sockaddr *) &sa, sizeof(sa)) != 0 || listen(lfd, 1024) != 0) {
    perror("epoll_hello: listen");
    return 1;
  }
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  printf("ready\n");
  fflush(stdout);
  struct epoll_event evs[256];
  for (;;) {
    int n = epoll_wait(ep, evs, 256, 1000);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == lfd) {
        int c;
        while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          if (c >= MAX_FD) {
            close(c);
            continue;
          }
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
          s_in[c] = malloc(BUF);
          s_len[c] = 0;
          struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
        }
      } else {
        on_readable(ep, fd);
      }
    }
  }
}
