/*
 * file-upload: receive files of any size, streamed to disk piece by piece.
 *
 *   ./file-upload [URL [UPLOAD_DIR]]    defaults: http://0.0.0.0:8002, /tmp/meerkat-uploads
 *
 *   PUT  /upload/NAME          the body is the file (any size: it is never held in memory)
 *   POST /upload?name=NAME     the same
 *   GET  /                     an HTML form for browsers
 *   POST /form                 multipart/form-data from that form (buffered in memory, so
 *                              limited by mg_limits.http_max_body, 1 MiB by default: 413)
 *
 * Replies: 200 {"saved":"NAME","bytes":N} for a streamed upload, 200
 * {"saved":[{"name":"NAME","bytes":N},...]} for the form, {"error":"..."} with 400 (bad
 * name), 404, 405, 413 or 500 (disk error) otherwise.
 *
 * Streaming: in MG_EV_HTTP_HDRS the handler checks the name, opens a temporary file and
 * calls mg_http_stream(c). meerkat then delivers the body as MG_EV_HTTP_CHUNK events (each
 * a struct mg_str * piece, valid until the handler returns), written with fwrite, and
 * finally MG_EV_HTTP_MSG with an empty body: the file is closed, renamed to NAME, and the
 * reply sent. A client that goes away mid-upload leaves nothing behind: MG_EV_CLOSE
 * removes the temporary file. (fwrite here is synchronous; a handler that hands pieces to
 * slower storage would call mg_recv_pause(c, true) until it has caught up.)
 *
 * NAME: 1..255 bytes, URL-decoded; no '/', '\', "..", leading '.', or control characters.
 *
 * On SIGINT/SIGTERM: "uploads: saved=N aborted=M bytes=B", "bye", exit status 0.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "meerkat.h"

#define MAX_NAME 255
#define JSON_HEADERS "Content-Type: application/json\r\nCache-Control: no-store\r\n"

static const char *s_dir = "/tmp/meerkat-uploads";
static volatile sig_atomic_t s_signo;
static unsigned long s_saved, s_aborted;
static unsigned long long s_bytes;

/* A streamed upload in progress (malloc'ed; its pointer lives in mg_conn_data). */
struct upload {
  FILE *fp;
  uint64_t bytes;
  char name[MAX_NAME + 1];
  char *tmp_path; /* the file being written: "<dir>/.<name>.<conn id>.part" */
  char *path;     /* where it goes when complete: "<dir>/<name>" */
};

/* Per-connection state, kept in mg_conn_data() (zeroed when the connection opens). */
struct conn_state {
  struct upload *up; /* an upload is streaming */
  int answered;      /* replied already in MG_EV_HTTP_HDRS: ignore this request's MSG */
};

static const char *s_form =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\"><head><meta charset=\"utf-8\"><title>meerkat file-upload</title>\n"
    "<style>body{font:16px system-ui,sans-serif;max-width:40rem;margin:3rem auto;"
    "color:#2b2118;background:#f4efe6}form{padding:1.5rem;background:#fff;"
    "border-radius:12px;box-shadow:0 2px 8px #0002}button{margin-top:1rem;padding:.5rem 1rem;"
    "border:0;border-radius:8px;color:#fff;background:#167a78}code{background:#fff;"
    "padding:0 .25rem}</style></head>\n"
    "<body><h1>Upload files</h1>\n"
    "<form method=\"POST\" action=\"/form\" enctype=\"multipart/form-data\">\n"
    "<input type=\"file\" name=\"file\" multiple><br>\n"
    "<button type=\"submit\">Upload</button></form>\n"
    "<p>Large files: <code>curl -T big.iso http://HOST/upload/big.iso</code> "
    "(streamed to disk, any size).</p>\n"
    "</body></html>\n";

static void on_signal(int signo) {
  s_signo = signo;
}

static int valid_name(const char *s, size_t len) {
  size_t i;
  if (len == 0 || len > MAX_NAME || s[0] == '.') return 0;
  for (i = 0; i < len; i++) {
    unsigned char ch = (unsigned char) s[i];
    if (ch < 0x20 || ch == 0x7f || ch == '/' || ch == '\\') return 0;
    if (ch == '.' && i + 1 < len && s[i + 1] == '.') return 0;
  }
  return 1;
}

static void reply_error(struct mg_conn c, int status, const char *msg) {
  mg_http_reply(c, status, JSON_HEADERS, "{%m:%m}", MG_ESC("error"), MG_ESC(msg));
}

/* Refuse a request before its body is read, and close after the reply: the body (maybe
 * gigabytes) is not read at all. */
static void refuse(struct mg_conn c, struct conn_state *cs, int status, const char *msg) {
  mg_http_reply(c, status, JSON_HEADERS "Connection: close\r\n", "{%m:%m}", MG_ESC("error"),
                MG_ESC(msg));
  cs->answered = 1;
  mg_drain(c);
}

static void upload_free(struct upload *up) {
  if (up->fp != NULL) fclose(up->fp);
  if (up->tmp_path != NULL) remove(up->tmp_path); /* no-op once renamed */
  free(up->tmp_path);
  free(up->path);
  free(up);
}

/* The name of a streamed upload: /upload/NAME (URL-encoded) or /upload?name=NAME.
 * Returns 1 and fills name, 0 for a bad or missing name, -1 when this is not an upload. */
static int upload_name(struct mg_http_message *hm, char *name, size_t len) {
  struct mg_str caps[2];
  if (mg_strcmp(hm->method, mg_str("PUT")) == 0 &&
      mg_match(hm->uri, mg_str("/upload/*"), caps)) {
    int n = mg_url_decode(caps[0].buf, caps[0].len, name, len, 0);
    return n > 0 && valid_name(name, (size_t) n) && strlen(name) == (size_t) n;
  }
  if (mg_strcmp(hm->method, mg_str("POST")) == 0 && mg_match(hm->uri, mg_str("/upload"), NULL)) {
    int n = mg_http_get_var(&hm->query, "name", name, len);
    return n > 0 && valid_name(name, (size_t) n) && strlen(name) == (size_t) n;
  }
  return -1;
}

/* MG_EV_HTTP_HDRS: start streaming an upload to a temporary file. */
static void on_headers(struct mg_conn c, struct conn_state *cs, struct mg_http_message *hm) {
  char name[MAX_NAME + 1];
  int ok = upload_name(hm, name, sizeof(name));
  struct upload *up;
  int rc;

  if (ok < 0) return; /* not an upload: the whole request comes in MG_EV_HTTP_MSG */
  if (ok == 0) {
    refuse(c, cs, 400, "bad file name");
    return;
  }
  up = (struct upload *) calloc(1, sizeof(*up));
  if (up == NULL) {
    refuse(c, cs, 500, "out of memory");
    return;
  }
  memcpy(up->name, name, sizeof(name));
  up->path = mg_mprintf("%s/%s", s_dir, name);
  up->tmp_path = mg_mprintf("%s/.%s.%llu.part", s_dir, name, (unsigned long long) mg_conn_id(c));
  if (up->path == NULL || up->tmp_path == NULL) {
    upload_free(up);
    refuse(c, cs, 500, "out of memory");
    return;
  }
  up->fp = fopen(up->tmp_path, "wb");
  if (up->fp == NULL) {
    MG_ERROR(("%s: %s", up->tmp_path, strerror(errno)));
    free(up->tmp_path); /* nothing to remove */
    up->tmp_path = NULL;
    upload_free(up);
    refuse(c, cs, 500, "cannot create the file");
    return;
  }
  rc = mg_http_stream(c); /* from now on the body comes as MG_EV_HTTP_CHUNK */
  if (rc < 0) {
    upload_free(up);
    refuse(c, cs, 500, mg_strerror(rc));
    return;
  }
  cs->up = up;
}

/* MG_EV_HTTP_CHUNK: one piece of the body. */
static void on_chunk(struct mg_conn c, struct conn_state *cs, struct mg_str *piece) {
  struct upload *up = cs->up;
  if (up == NULL) return;
  if (fwrite(piece->buf, 1, piece->len, up->fp) != piece->len) {
    MG_ERROR(("%s: %s", up->tmp_path, strerror(errno)));
    upload_free(up);
    cs->up = NULL;
    s_aborted++;
    refuse(c, cs, 500, "write failed");
    return;
  }
  up->bytes += piece->len;
}

/* MG_EV_HTTP_MSG after a streamed body: the file is complete. */
static void finish_upload(struct mg_conn c, struct conn_state *cs) {
  struct upload *up = cs->up;
  int ok = fclose(up->fp) == 0;
  up->fp = NULL;
  if (ok && rename(up->tmp_path, up->path) != 0) {
    MG_ERROR(("rename %s: %s", up->tmp_path, strerror(errno)));
    ok = 0;
  }
  if (ok) {
    mg_http_reply(c, 200, JSON_HEADERS, "{%m:%m,%m:%llu}", MG_ESC("saved"), MG_ESC(up->name),
                  MG_ESC("bytes"), (unsigned long long) up->bytes);
    MG_INFO(("saved %s, %llu bytes", up->path, (unsigned long long) up->bytes));
    s_saved++;
    s_bytes += up->bytes;
  } else {
    reply_error(c, 500, "write failed");
    s_aborted++;
  }
  upload_free(up);
  cs->up = NULL;
}

/* Save one file of the form. Returns 1 when it was written. */
static int save_part(const char *name, struct mg_str data) {
  char *path = mg_mprintf("%s/%s", s_dir, name);
  FILE *fp = path == NULL ? NULL : fopen(path, "wb");
  int ok = fp != NULL && fwrite(data.buf, 1, data.len, fp) == data.len;
  if (fp != NULL && fclose(fp) != 0) ok = 0;
  if (!ok) MG_ERROR(("%s: cannot write", path == NULL ? name : path));
  free(path);
  return ok;
}

/* POST /form: a multipart/form-data body, whole in memory. Saves every file part and
 * replies with the list of what was saved. */
static void on_form(struct mg_conn c, struct mg_http_message *hm) {
  struct mg_http_part part;
  size_t ofs = 0;
  char *list = mg_mprintf("");
  int saved = 0;
  while (list != NULL && (ofs = mg_http_next_multipart(hm->body, ofs, &part)) > 0) {
    char name[MAX_NAME + 1];
    char *longer;
    if (part.filename.len == 0) continue; /* a plain form field */
    if (!valid_name(part.filename.buf, part.filename.len)) continue;
    memcpy(name, part.filename.buf, part.filename.len);
    name[part.filename.len] = '\0';
    if (!save_part(name, part.body)) continue;
    longer = mg_mprintf("%s%s{%m:%m,%m:%llu}", list, saved ? "," : "", MG_ESC("name"),
                        MG_ESC(name), MG_ESC("bytes"), (unsigned long long) part.body.len);
    free(list);
    list = longer;
    saved++;
    s_saved++;
    s_bytes += part.body.len;
  }
  if (list == NULL) {
    reply_error(c, 500, "out of memory");
  } else if (saved == 0) {
    reply_error(c, 400, "no valid file in the form");
  } else {
    mg_http_reply(c, 200, JSON_HEADERS, "{%m:[%s]}", MG_ESC("saved"), list);
  }
  free(list);
}

static void fn(struct mg_conn c, int ev, void *ev_data) {
  struct conn_state *cs = (struct conn_state *) mg_conn_data(c);
  if (cs == NULL) return;
  if (ev == MG_EV_HTTP_HDRS) {
    cs->answered = 0;
    on_headers(c, cs, (struct mg_http_message *) ev_data);
  } else if (ev == MG_EV_HTTP_CHUNK) {
    on_chunk(c, cs, (struct mg_str *) ev_data);
  } else if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    if (cs->up != NULL) {
      finish_upload(c, cs);
    } else if (cs->answered) {
      /* refused in MG_EV_HTTP_HDRS */
    } else if (mg_match(hm->uri, mg_str("/"), NULL)) {
      mg_http_reply(c, 200, "Content-Type: text/html; charset=utf-8\r\n", "%s", s_form);
    } else if (mg_match(hm->uri, mg_str("/form"), NULL)) {
      if (mg_strcmp(hm->method, mg_str("POST")) == 0) {
        on_form(c, hm);
      } else {
        mg_http_reply(c, 405, JSON_HEADERS "Allow: POST\r\n", "{%m:%m}", MG_ESC("error"),
                      MG_ESC("method not allowed"));
      }
    } else if (mg_match(hm->uri, mg_str("/upload#"), NULL)) {
      mg_http_reply(c, 405, JSON_HEADERS "Allow: PUT, POST\r\n", "{%m:%m}", MG_ESC("error"),
                    MG_ESC("PUT /upload/NAME or POST /upload?name=NAME"));
    } else {
      reply_error(c, 404, "not found");
    }
  } else if (ev == MG_EV_CLOSE) {
    if (cs->up != NULL) {
      /* The client went away mid-upload: drop the partial file. */
      MG_INFO(("upload of %s aborted after %llu bytes", cs->up->name,
               (unsigned long long) cs->up->bytes));
      upload_free(cs->up);
      cs->up = NULL;
      s_aborted++;
    }
  }
}

int main(int argc, char *argv[]) {
  const char *url = argc > 1 ? argv[1] : "http://0.0.0.0:8002";
  struct mg_mgr mgr;
  struct sigaction sa;

  if (argc > 2) s_dir = argv[2];
  if (mkdir(s_dir, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "cannot create %s: %s\n", s_dir, strerror(errno));
    return 1;
  }
  mg_log_set(MG_LL_ERROR);
  if (mg_mgr_init(&mgr) != 0) {
    fprintf(stderr, "mg_mgr_init failed\n");
    return 1;
  }
  if (mg_http_listen(&mgr, url, fn, NULL).h == 0) {
    fprintf(stderr, "cannot listen on %s: %s\n", url, mg_strerror(mg_last_error()));
    mg_mgr_free(&mgr);
    return 1;
  }
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  printf("listening on %s\n", url);
  printf("saving to %s\n", s_dir);
  fflush(stdout);
  while (s_signo == 0) mg_mgr_poll(&mgr, 1000);

  if (mg_mgr_free(&mgr) != 0) return 1; /* MG_EV_CLOSE removes unfinished uploads */
  printf("uploads: saved=%lu aborted=%lu bytes=%llu\n", s_saved, s_aborted, s_bytes);
  printf("bye\n");
  return 0;
}
