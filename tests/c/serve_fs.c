/*
 * mg_http_serve_dir / mg_http_serve_file over the file systems of struct mg_http_serve_opts,
 * written with Mongoose 7.22's names through mongoose.h: a web root packed by scripts/pack.py
 * (linked in as mg_packed_files) through mg_fs_packed, the OS's files through mg_fs_posix and
 * through NULL, and a small in-memory file system the program supplies as its own
 * struct mg_fs. Run by tests/serve_fs.rs.
 *
 *   serve_fs URL DIR
 *
 *   /p/...      packed web root (root_dir "/p=/web", fs &mg_fs_packed)
 *   /f          mg_http_serve_file of the packed /web/z.txt
 *   /x/...      DIR through &mg_fs_posix       /n/...  DIR with fs NULL
 *   /c/...      DIR through a copy of mg_fs_posix
 *   /s/...      DIR with ssi_pattern "#.shtml" through &mg_fs_posix
 *   /u/...      the program's own file system (root_dir "/u=/mem")
 *   /quit       stop: prints "user fs: opened=N closed=M" then "bye"
 *
 * The manager's send buffer is capped at 16 KiB. Prints "listening on URL" when ready.
 */
#include "mongoose.h"

/* ---- A file system of the program's own: three files and a directory in memory. */

struct mem_file {
  const char *path;
  const char *data;
};

static const struct mem_file s_mem[] = {
    {"/mem/hello.txt", "hello from my fs\n"},
    {"/mem/dir/a.json", "{\"a\":1}"},
    {"/mem/dir/b c.txt", "spaced"},
};
#define MEM_N (sizeof(s_mem) / sizeof(s_mem[0]))

struct mem_fd {
  const struct mem_file *f;
  size_t pos;
};

static int s_opened, s_closed;

static const struct mem_file *mem_find(const char *path) {
  size_t i;
  for (i = 0; i < MEM_N; i++) {
    if (strcmp(s_mem[i].path, path) == 0) return &s_mem[i];
  }
  return NULL;
}

/* Is `path` a directory: a proper prefix of some file's path, followed by '/'? */
static int mem_is_dir(const char *path) {
  size_t i, n = strlen(path);
  while (n > 1 && path[n - 1] == '/') n--;
  for (i = 0; i < MEM_N; i++) {
    if (strncmp(s_mem[i].path, path, n) == 0 && s_mem[i].path[n] == '/') return 1;
  }
  return 0;
}

static int mem_st(const char *path, size_t *size, time_t *mtime) {
  const struct mem_file *f = mem_find(path);
  if (mtime != NULL) *mtime = 1700000000;
  if (f != NULL) {
    if (size != NULL) *size = strlen(f->data);
    return MG_FS_READ;
  }
  if (mem_is_dir(path)) {
    if (size != NULL) *size = 0;
    return MG_FS_DIR;
  }
  return 0;
}

static void mem_ls(const char *path, void (*fn)(const char *, void *), void *arg) {
  size_t i, j, n = strlen(path);
  char name[64];
  while (n > 1 && path[n - 1] == '/') n--;
  for (i = 0; i < MEM_N; i++) {
    const char *p = s_mem[i].path, *rest, *slash;
    if (strncmp(p, path, n) != 0 || p[n] != '/') continue;
    rest = p + n + 1;
    slash = strchr(rest, '/');
    j = slash == NULL ? strlen(rest) : (size_t) (slash - rest);
    if (j >= sizeof(name)) continue;
    memcpy(name, rest, j);
    name[j] = '\0';
    /* A directory is listed once: skip it if an earlier file had the same first part. */
    if (slash != NULL && i > 0) {
      size_t k;
      int seen = 0;
      for (k = 0; k < i; k++) {
        if (strncmp(s_mem[k].path, p, (size_t) (slash - p) + 1) == 0) seen = 1;
      }
      if (seen) continue;
    }
    fn(name, arg);
  }
}

static void *mem_op(const char *path, int flags) {
  const struct mem_file *f = mem_find(path);
  struct mem_fd *fd;
  if (f == NULL || (flags & MG_FS_WRITE)) return NULL;
  fd = (struct mem_fd *) calloc(1, sizeof(*fd));
  if (fd != NULL) {
    fd->f = f;
    s_opened++;
  }
  return fd;
}

static void mem_cl(void *fd) {
  if (fd != NULL) s_closed++;
  free(fd);
}

static size_t mem_rd(void *fd, void *buf, size_t len) {
  struct mem_fd *d = (struct mem_fd *) fd;
  size_t size = strlen(d->f->data), n = d->pos < size ? size - d->pos : 0;
  if (n > len) n = len;
  memcpy(buf, d->f->data + d->pos, n);
  d->pos += n;
  return n;
}

static size_t mem_wr(void *fd, const void *buf, size_t len) {
  (void) fd, (void) buf, (void) len;
  return 0;
}

static size_t mem_sk(void *fd, size_t offset) {
  struct mem_fd *d = (struct mem_fd *) fd;
  size_t size = strlen(d->f->data);
  d->pos = offset < size ? offset : size;
  return d->pos;
}

static bool mem_mv(const char *from, const char *to) {
  (void) from, (void) to;
  return false;
}

static bool mem_rm(const char *path) {
  (void) path;
  return false;
}

static struct mg_fs s_memfs = {mem_st, mem_ls, mem_op, mem_cl, mem_rd, mem_wr, mem_sk, mem_mv, mem_rm, mem_rm};

/* ---- The server. */

static char s_posix_x[600], s_posix_n[600], s_posix_s[600], s_posix_c[600];
static struct mg_fs s_posix_copy; /* a copy of mg_fs_posix, as firmware may keep one */
static int s_done;

static void fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    struct mg_http_serve_opts opts;
    memset(&opts, 0, sizeof(opts));
    opts.extra_headers = "X-Served: yes\r\n";
    if (mg_match(hm->uri, mg_str("/quit"), NULL)) {
      mg_http_reply(c, 200, "", "bye\n");
      s_done = 1;
    } else if (mg_match(hm->uri, mg_str("/p/#"), NULL)) {
      opts.root_dir = "/p=/web";
      opts.fs = &mg_fs_packed;
      mg_http_serve_dir(c, hm, &opts);
    } else if (mg_match(hm->uri, mg_str("/f"), NULL)) {
      opts.fs = &mg_fs_packed;
      mg_http_serve_file(c, hm, "/web/z.txt", &opts);
    } else if (mg_match(hm->uri, mg_str("/x/#"), NULL)) {
      opts.root_dir = s_posix_x;
      opts.fs = &mg_fs_posix;
      mg_http_serve_dir(c, hm, &opts);
    } else if (mg_match(hm->uri, mg_str("/c/#"), NULL)) {
      opts.root_dir = s_posix_c;
      opts.fs = &s_posix_copy;
      mg_http_serve_dir(c, hm, &opts);
    } else if (mg_match(hm->uri, mg_str("/n/#"), NULL)) {
      opts.root_dir = s_posix_n;
      mg_http_serve_dir(c, hm, &opts);
    } else if (mg_match(hm->uri, mg_str("/s/#"), NULL)) {
      opts.root_dir = s_posix_s;
      opts.fs = &mg_fs_posix;
      opts.ssi_pattern = "#.shtml";
      mg_http_serve_dir(c, hm, &opts);
    } else if (mg_match(hm->uri, mg_str("/u/#"), NULL)) {
      opts.root_dir = "/u=/mem";
      opts.fs = &s_memfs;
      mg_http_serve_dir(c, hm, &opts);
    } else {
      mg_http_reply(c, 404, "", "no route\n");
    }
  }
}

int main(int argc, char *argv[]) {
  struct mg_mgr mgr;
  if (argc != 3) {
    fprintf(stderr, "usage: %s URL DIR\n", argv[0]);
    return 2;
  }
  mg_snprintf(s_posix_x, sizeof(s_posix_x), "/x=%s", argv[2]);
  mg_snprintf(s_posix_n, sizeof(s_posix_n), "/n=%s", argv[2]);
  mg_snprintf(s_posix_s, sizeof(s_posix_s), "/s=%s", argv[2]);
  mg_snprintf(s_posix_c, sizeof(s_posix_c), "/c=%s", argv[2]);
  s_posix_copy = mg_fs_posix;
  mg_mem_files = mg_packed_files;
  mg_mgr_init(&mgr);
  /* A small send buffer: listings larger than it must still arrive whole. */
  {
    struct mg_limits l;
    mg_mgr_get_limits(&mgr, &l);
    l.max_send = 16384;
    if (mg_mgr_set_limits(&mgr, &l) != 0) return 1;
  }
  if (mg_http_listen(&mgr, argv[1], fn, NULL).h == 0) {
    fprintf(stderr, "cannot listen on %s\n", argv[1]);
    return 1;
  }
  printf("listening on %s\n", argv[1]);
  fflush(stdout);
  while (!s_done) mg_mgr_poll(&mgr, 100);
  mg_mgr_free(&mgr);
  printf("user fs: opened=%d closed=%d\n", s_opened, s_closed);
  printf("bye\n");
  return 0;
}
