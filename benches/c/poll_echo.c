/*
 * poll_echo.c: the baseline for benches/echo.rs. A plain single-threaded poll() echo
 * server over non-blocking sockets: what a careful C programmer writes without a library,
 * and so the practical limit for a poll()-based loop.
 *
 * usage: poll_echo [max_seconds]
 * Listens on 127.0.0.1 on a free port, prints the port number on stdout, then echoes every
 * byte it reads back to its sender until killed (or max_seconds pass: alarm()).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FDS 8192
#define BUF_SIZE 16384

/* Bytes read but not yet written back (only when a write was partial). */
struct pending {
  char *buf;
  size_t len, off;
};

static struct pollfd fds[MAX_FDS];
static struct pending pend[MAX_FDS]; /* parallel to fds */
static nfds_t nfds;

static void drop_fd(nfds_t i) {
  close(fds[i].fd);
  free(pend[i].buf);
  nfds--;
  fds[i] = fds[nfds];
  pend[i] = pend[nfds];
  memset(&pend[nfds], 0, sizeof(pend[nfds]));
}

/* Write the pending bytes of fds[i]. Returns -1 on a fatal error. */
static int flush_pending(nfds_t i) {
  struct pending *p = &pend[i];
  while (p->off < p->len) {
    ssize_t n = send(fds[i].fd, p->buf + p->off, p->len - p->off, MSG_NOSIGNAL);
    if (n > 0) {
      p->off += (size_t) n;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      fds[i].events = POLLOUT; /* stop reading until flushed: bounded memory */
      return 0;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return -1;
    }
  }
  free(p->buf);
  memset(p, 0, sizeof(*p));
  fds[i].events = POLLIN;
  return 0;
}

/* Read once and write everything back. Returns -1 when the connection is over. */
static int echo(nfds_t i, char *buf) {
  ssize_t n = recv(fds[i].fd, buf, BUF_SIZE, 0);
  if (n == 0) return -1;
  if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -1;
  size_t off = 0;
  while (off < (size_t) n) {
    ssize_t w = send(fds[i].fd, buf + off, (size_t) n - off, MSG_NOSIGNAL);
    if (w > 0) {
      off += (size_t) w;
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      struct pending *p = &pend[i];
      p->len = (size_t) n - off;
      p->off = 0;
      p->buf = malloc(p->len);
      if (p->buf == NULL) return -1;
      memcpy(p->buf, buf + off, p->len);
      fds[i].events = POLLOUT;
      return 0;
    } else {
      return -1;
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  static char buf[BUF_SIZE];
  alarm(argc > 1 ? (unsigned) atoi(argv[1]) : 600);

  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sin.sin_port = 0;
  socklen_t slen = sizeof(sin);
  if (lfd < 0 || bind(lfd, (struct sockaddr *) &sin, sizeof(sin)) != 0 || listen(lfd, 128) != 0 ||
      getsockname(lfd, (struct sockaddr *) &sin, &slen) != 0) {
    perror("poll_echo: listen");
    return 1;
  }
  printf("%d\n", ntohs(sin.sin_port));
  fflush(stdout);

  fds[0].fd = lfd;
  fds[0].events = POLLIN;
  nfds = 1;
  for (;;) {
    int ready = poll(fds, nfds, 50);
    if (ready < 0 && errno != EINTR) {
      perror("poll_echo: poll");
      return 1;
    }
    if (ready <= 0) continue;
    /* Connections first, from the end, so that drop_fd's swap never skips one; then accept. */
    for (nfds_t i = nfds - 1; i >= 1; i--) {
      short re = fds[i].revents;
      fds[i].revents = 0;
      if (re == 0) continue;
      int rc = 0;
      if (re & POLLOUT) rc = flush_pending(i);
      else if (re & (POLLIN | POLLHUP | POLLERR)) rc = echo(i, buf);
      if (re & POLLNVAL) rc = -1;
      if (rc < 0) drop_fd(i);
    }
    if (fds[0].revents & POLLIN) {
      for (int k = 0; k < 64 && nfds < MAX_FDS; k++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) break;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        fds[nfds].fd = fd;
        fds[nfds].events = POLLIN;
        fds[nfds].revents = 0;
        nfds++;
      }
    }
    fds[0].revents = 0;
  }
}
