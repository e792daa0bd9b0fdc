/* Mongoose 7.22's platform macros through "mongoose.h", used as firmware uses them: an
 * MG_ARCH switch, MG_BIG_ENDIAN, MG_DIRSEP, mg_mkdir, the MG_SOCK_* tests on a real
 * non-blocking socket, MG_IRAM on a function, MG_PUTCHAR. Prints one "NAME VALUE" line per
 * check (tests/porting.rs compares them) and "arch ok" at the end. Usage: porting_arch DIR
 * (a directory in which to make a subdirectory). */
#include "mongoose.h"

#if MG_ARCH == MG_ARCH_UNIX
static const char *s_arch = "unix";
#elif MG_ARCH == MG_ARCH_ESP32
static const char *s_arch = "esp32";
#else
static const char *s_arch = "other";
#endif

#if MG_TLS == MG_TLS_NONE
static const char *s_tls = "none";
#else
static const char *s_tls = "yes";
#endif

MG_IRAM static int twice(int x) { return 2 * x; }

int main(int argc, char *argv[]) {
  char path[MG_PATH_MAX];
  uint32_t one = 1;
  struct stat st;
  MG_SOCKET_TYPE fd;
  char c;
  int rc;
  if (argc != 2) return 2;
  printf("arch %s\n", s_arch);
  printf("tls %s\n", s_tls);
  /* MG_BIG_ENDIAN agrees with the CPU's byte order. */
  printf("endian-agrees %d\n", MG_BIG_ENDIAN == (*(uint8_t *) &one == 0));
  snprintf(path, sizeof(path), "%s%cnew-dir", argv[1], MG_DIRSEP);
  rc = mg_mkdir(path, 0755);
  printf("mkdir %d %d\n", rc, stat(path, &st) == 0 && S_ISDIR(st.st_mode));
  printf("io-size-positive %d\n", MG_IO_SIZE > 0);
  printf("iram %d\n", twice(21));
  /* A non-blocking socket with nothing to read: "pending", not an error to report. */
  fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd == MG_INVALID_SOCKET) return 1;
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
  rc = (int) recv(fd, &c, 1, 0);
  printf("pending %d reset %d err-set %d\n", MG_SOCK_PENDING(rc), MG_SOCK_RESET(rc),
         MG_SOCK_ERR(rc) != 0);
  rc = 0;
  printf("success-err %d\n", MG_SOCK_ERR(rc));
  close(fd);
  MG_PUTCHAR('!');
  MG_PUTCHAR('\n');
  printf("arch ok\n");
  return 0;
}
