/*
 * Mongoose 7.22's file-system API through mongoose.h, as firmware uses it: a web root packed
 * by scripts/pack.py (linked in as mg_packed_files) served by mg_fs_packed, the OS's files
 * through mg_fs_posix in the directory given as argv[1], and a file system the program
 * supplies itself as a struct mg_fs. Prints "N passed, M failed".
 * `fs_api DIR gz` instead writes the packed /web/index.html.gz to stdout (pack.py -z).
 * Run by tests/fs_api.rs.
 */
#include "mongoose.h"

#include "check.h"

static void test_packed(void) {
  struct mg_str s;
  struct mg_fd *fd;
  size_t size = 0;
  time_t mtime = 0;
  char buf[64], names[128] = "";

  CHECK(mg_unpacked("/web/index.html").buf == NULL); /* nothing until activated */
  mg_mem_files = mg_packed_files;
  s = mg_unpacked("/web/index.html");
  CHECK(mg_strcmp(s, mg_str("<h1>hello</h1>\n")) == 0);
  CHECK(mg_unpacked("/web/nope").buf == NULL);

  CHECK(mg_fs_packed.st("/web/index.html", &size, &mtime) == MG_FS_READ);
  CHECK(size == 15 && mtime > 1000000000);
  CHECK(mg_fs_packed.st("/web/sub", NULL, NULL) == MG_FS_DIR);
  CHECK(mg_fs_packed.st("/web/su", NULL, NULL) == 0);

  buf[0] = '\0';
  while (mg_fs_ls(&mg_fs_packed, "/web", buf, sizeof(buf))) {
    strcat(names, buf);
    strcat(names, ";");
  }
  CHECK_STR(names, "index.html;z.txt;sub;");

  s = mg_file_read(&mg_fs_packed, "/web/sub/a.css");
  CHECK(s.buf != NULL && s.len == 6 && strcmp(s.buf, "body{}") == 0);
  mg_free((void *) s.buf);
  CHECK(mg_file_read(&mg_fs_packed, "/web/sub").buf == NULL);
  CHECK(!mg_file_write(&mg_fs_packed, "/web/new.txt", "x", 1)); /* read-only */

  fd = mg_fs_open(&mg_fs_packed, "/web/z.txt", MG_FS_READ);
  CHECK(fd != NULL);
  if (fd != NULL) {
    size_t n = fd->fs->rd(fd->fd, buf, 3);
    CHECK(n == 3 && memcmp(buf, "zzz", 3) == 0);
    CHECK(fd->fs->sk(fd->fd, 8) == 8);
    n = fd->fs->rd(fd->fd, buf, sizeof(buf));
    CHECK(n == 2 && memcmp(buf, "YZ", 2) == 0);
    mg_fs_close(fd);
  }
  CHECK(mg_fs_open(&mg_fs_packed, "/web/z.txt", MG_FS_WRITE) == NULL);
  mg_fs_close(NULL);
}

static void test_posix(const char *dir) {
  char path[512], sub[512], moved[512], buf[64];
  struct mg_str s;
  struct mg_fd *fd;
  size_t size = 0;
  int count = 0;

  snprintf(path, sizeof(path), "%s/settings.json", dir);
  CHECK(mg_file_write(&mg_fs_posix, path, "{\"a\":1}", 7));
  s = mg_file_read(&mg_fs_posix, path);
  CHECK(s.len == 7 && strcmp(s.buf, "{\"a\":1}") == 0);
  mg_free((void *) s.buf);
  CHECK(mg_file_printf(&mg_fs_posix, path, "{%m:%d}", MG_ESC("level"), 3));
  s = mg_file_read(&mg_fs_posix, path);
  CHECK(s.buf != NULL && strcmp(s.buf, "{\"level\":3}") == 0);
  mg_free((void *) s.buf);
  CHECK((mg_fs_posix.st(path, &size, NULL) & MG_FS_READ) && size == 11);
  CHECK(mg_fs_posix.st(dir, NULL, NULL) & MG_FS_DIR);

  /* The temporary file of the atomic write is gone: one entry. */
  buf[0] = '\0';
  while (mg_fs_ls(&mg_fs_posix, dir, buf, sizeof(buf))) count++;
  CHECK(count == 1);

  snprintf(sub, sizeof(sub), "%s/logs", dir);
  CHECK(mg_fs_posix.mkd(sub));
  CHECK(mg_fs_posix.st(sub, NULL, NULL) & MG_FS_DIR);
  snprintf(moved, sizeof(moved), "%s/logs/old.json", dir);
  CHECK(mg_fs_posix.mv(path, moved));
  CHECK(mg_fs_posix.st(path, NULL, NULL) == 0);
  fd = mg_fs_open(&mg_fs_posix, moved, MG_FS_READ);
  CHECK(fd != NULL);
  if (fd != NULL) {
    CHECK(fd->fs->sk(fd->fd, 2) == 2);
    CHECK(fd->fs->rd(fd->fd, buf, 5) == 5 && memcmp(buf, "level", 5) == 0);
    mg_fs_close(fd);
  }
  CHECK(mg_fs_open(&mg_fs_posix, moved, MG_FS_WRITE | MG_FS_EXCL) == NULL);
  CHECK(mg_fs_posix.rm(moved));
  CHECK(mg_file_read(&mg_fs_posix, moved).buf == NULL);
}

/* A file system of the program's own: one read-only file, "/hello", in memory. */
struct memfile {
  size_t pos;
};
static const char s_hello[] = "hello from my fs";
static int my_st(const char *path, size_t *size, time_t *mtime) {
  if (strcmp(path, "/") == 0) return MG_FS_DIR;
  if (strcmp(path, "/hello") != 0) return 0;
  if (size != NULL) *size = sizeof(s_hello) - 1;
  if (mtime != NULL) *mtime = 1700000000;
  return MG_FS_READ;
}
static void my_ls(const char *path, void (*fn)(const char *, void *), void *arg) {
  if (strcmp(path, "/") == 0) fn("hello", arg);
}
static void *my_op(const char *path, int flags) {
  struct memfile *f;
  if (strcmp(path, "/hello") != 0 || (flags & MG_FS_WRITE)) return NULL;
  f = (struct memfile *) calloc(1, sizeof(*f));
  return f;
}
static void my_cl(void *fd) {
  free(fd);
}
static size_t my_rd(void *fd, void *buf, size_t len) {
  struct memfile *f = (struct memfile *) fd;
  size_t left = sizeof(s_hello) - 1 - f->pos;
  if (len > left) len = left;
  memcpy(buf, s_hello + f->pos, len);
  f->pos += len;
  return len;
}
static size_t my_wr(void *fd, const void *buf, size_t len) {
  (void) fd, (void) buf, (void) len;
  return 0;
}
static size_t my_sk(void *fd, size_t offset) {
  struct memfile *f = (struct memfile *) fd;
  f->pos = offset < sizeof(s_hello) - 1 ? offset : sizeof(s_hello) - 1;
  return f->pos;
}
static bool my_mv(const char *a, const char *b) {
  (void) a, (void) b;
  return false;
}
static bool my_rm(const char *a) {
  (void) a;
  return false;
}
static struct mg_fs s_myfs = {my_st, my_ls, my_op, my_cl, my_rd, my_wr, my_sk, my_mv, my_rm, my_rm};

static void test_own_fs(void) {
  struct mg_str s = mg_file_read(&s_myfs, "/hello");
  char buf[32] = "";
  CHECK(s.buf != NULL && strcmp(s.buf, s_hello) == 0);
  mg_free((void *) s.buf);
  CHECK(mg_fs_ls(&s_myfs, "/", buf, sizeof(buf)));
  CHECK_STR(buf, "hello");
  CHECK(!mg_fs_ls(&s_myfs, "/", buf, sizeof(buf)));
  CHECK(!mg_file_write(&s_myfs, "/x", "y", 1));
}

int main(int argc, char **argv) {
  if (argc > 2 && strcmp(argv[2], "gz") == 0) {
    struct mg_str gz;
    mg_mem_files = mg_packed_files;
    gz = mg_unpacked("/web/index.html.gz");
    if (gz.buf == NULL || mg_unpacked("/web/index.html").buf != NULL) return 1;
    fwrite(gz.buf, 1, gz.len, stdout);
    return 0;
  }
  if (argc < 2) return 2;
  printf("MG_VERSION %s\n", MG_VERSION);
  test_packed();
  test_posix(argv[1]);
  test_own_fs();
  return CHECK_SUMMARY();
}
