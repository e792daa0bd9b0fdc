/* Only "mongoose.h" is included: everything below comes from the system headers that
 * Mongoose's header brings in, which ported programs rely on. Built with -Wall -Wextra
 * -Werror; running it checks nothing more than that it links and runs. */
#include "mongoose.h"

static volatile sig_atomic_t g_signo;
static void on_signal(int signo) { g_signo = signo; }

struct pair {
  char a;
  uint64_t b;
};

int main(void) {
  int fd, flags, rc = 0;
  struct sockaddr_in sin;
  struct timeval tv;
  struct addrinfo hints, *res = NULL;
  struct stat st;
  pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
  bool ok = true;
  char buf[32];
  va_list *unused_ap = NULL;
  time_t now = time(NULL);
  DIR *dir;

  (void) unused_ap;
  signal(SIGINT, on_signal);
  errno = 0;
  fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 1;
  flags = fcntl(fd, F_GETFL, 0);
  if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) rc = 2;
  {
    int one = 1;
    (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_port = htons(0);
  if (inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr) != 1) rc = 3;
  if (bind(fd, (struct sockaddr *) &sin, sizeof(sin)) != 0) rc = 4;
  close(fd);
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_INET;
  if (getaddrinfo("127.0.0.1", "80", &hints, &res) == 0) freeaddrinfo(res);
  gettimeofday(&tv, NULL);
  pthread_mutex_lock(&mu);
  pthread_mutex_unlock(&mu);
  if (stat(".", &st) != 0) rc = 5;
  dir = opendir(".");
  if (dir != NULL) closedir(dir);
  snprintf(buf, sizeof(buf), "%" PRIu64 " %d %zu", (uint64_t) now, INT_MAX,
           offsetof(struct pair, b));
  if (!isdigit((unsigned char) buf[0]) || strlen(buf) < 3) ok = false;
  if (!ok) rc = 6;
  {
    char *p = (char *) malloc(4);
    free(p);
  }
  printf("headers ok %d\n", rc);
  return rc;
}
