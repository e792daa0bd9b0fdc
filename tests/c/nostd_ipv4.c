/*
 * nostd_ipv4.c: what the archive built without default features does without the features
 * `ipv6` and `poller-switch` (tests/no_std.rs): an IPv6 host in mg_listen or mg_connect fails
 * with MG_ERR_ADDR, mg_aton of an IPv6 text returns false (Mongoose with MG_ENABLE_IPV6=0),
 * and the manager polls with epoll on Linux whatever MEERKAT_POLLER says (the backend is
 * chosen at compile time, as Mongoose's MG_ENABLE_EPOLL). IPv4 works as always.
 *
 * Prints one line: "aton6 A aton4 B listen6 C connect6 D listen4 E epoll F", where A/B are
 * mg_aton's results, C/D mg_last_error() after the refused calls, E 1 if the IPv4 listener
 * was opened, F the number of epoll descriptors the process holds.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "meerkat.h"

static void fn(struct mg_conn c, int ev, void *ev_data) {
  (void) c, (void) ev, (void) ev_data;
}

/* Descriptors of this process that are epoll instances. */
static int epoll_fds(void) {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  if (d == NULL) return -1;
  while ((e = readdir(d)) != NULL) {
    char path[300], target[64];
    ssize_t len;
    snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
    len = readlink(path, target, sizeof(target) - 1);
    if (len <= 0) continue;
    target[len] = '\0';
    if (strcmp(target, "anon_inode:[eventpoll]") == 0) n++;
  }
  closedir(d);
  return n;
}

int main(void) {
  struct mg_mgr mgr;
  struct mg_addr a;
  int aton6, aton4, listen6, connect6, listen4;
  memset(&a, 0, sizeof(a));
  if (mg_mgr_init(&mgr) != 0) return 1;
  aton6 = mg_aton(mg_str("::1"), &a);
  aton4 = mg_aton(mg_str("10.0.0.1"), &a);
  listen6 = mg_listen(&mgr, "tcp://[::1]:0", fn, NULL).h == 0 ? mg_last_error() : 0;
  connect6 = mg_connect(&mgr, "tcp://[::1]:80", fn, NULL).h == 0 ? mg_last_error() : 0;
  listen4 = mg_listen(&mgr, "tcp://127.0.0.1:0", fn, NULL).h != 0;
  mg_mgr_poll(&mgr, 0);
  printf("aton6 %d aton4 %d listen6 %d connect6 %d listen4 %d epoll %d\n", aton6, aton4,
         listen6, connect6, listen4, epoll_fds());
  mg_mgr_free(&mgr);
  return 0;
}
