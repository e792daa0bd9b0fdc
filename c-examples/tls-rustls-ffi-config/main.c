/*
 * tls-rustls-ffi-config: full TLS configuration with the rustls-ffi C API (rustls.h).
 *
 *   ./tls-rustls-ffi-config [CERT.pem KEY.pem [none|optional|required]]
 *
 * Defaults: ../https-server/test-cert.pem and ../https-server/test-key.pem (a self-signed
 * pair FOR TESTING ONLY), client-certificate verification "optional".
 *
 * Builds
 *   - a rustls_server_config: the certified key from CERT/KEY, ALPN "http/1.1", and a
 *     client-certificate verifier trusting CERT: "optional" verifies a client certificate
 *     when one is presented, "required" refuses clients without one, "none" asks for none;
 *   - a rustls_client_config: a root store holding CERT, a WebPKI server verifier, ALPN
 *     "http/1.1", and CERT/KEY as the client's own certificate;
 * hands them to meerkat with mg_tls_init_server_config (on the listener: every accepted
 * connection) and mg_tls_init_client_config (in MG_EV_CONNECT, name "localhost"), and runs a
 * server on 127.0.0.1 (a free port) and a client against it in this one process. Prints
 *
 *   listening on https://127.0.0.1:PORT
 *   client: handshake done          } in either order
 *   server: handshake done          }
 *   status: 200
 *   hello from a rustls-ffi server config
 *   bye
 *
 * Exit status 0 on a 200 reply, 1 on any error (printed), 2 when nothing came within 5 s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meerkat.h"
#include "rustls.h"

static int s_done, s_exit_code;

static void finish(int code) {
  if (!s_done) {
    s_done = 1;
    s_exit_code = code;
  }
}

static int read_file(const char *path, struct mg_str *out) {
  FILE *fp = fopen(path, "rb");
  char *buf = NULL;
  long size;
  if (fp == NULL) return -1;
  if (fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0 ||
      (buf = (char *) malloc((size_t) size + 1)) == NULL ||
      fread(buf, 1, (size_t) size, fp) != (size_t) size) {
    free(buf);
    fclose(fp);
    return -1;
  }
  fclose(fp);
  buf[size] = '\0';
  out->buf = buf;
  out->len = (size_t) size;
  return 0;
}

/* Print a rustls-ffi error and return 0 (for `if (!ok(...)) goto fail;`). */
static int ok(rustls_result r, const char *what) {
  char msg[256];
  size_t n = 0;
  if (r == RUSTLS_RESULT_OK) return 1;
  rustls_error((unsigned int) r, msg, sizeof(msg), &n);
  fprintf(stderr, "%s: %.*s\n", what, (int) n, msg);
  return 0;
}

static const unsigned char ALPN_HTTP11[] = "http/1.1";

/* A root store holding the certificates of `pem`. NULL on error (printed). */
static const struct rustls_root_cert_store *root_store(struct mg_str pem) {
  const struct rustls_root_cert_store *store = NULL;
  struct rustls_root_cert_store_builder *b = rustls_root_cert_store_builder_new();
  if (b == NULL) return NULL;
  if (ok(rustls_root_cert_store_builder_add_pem(b, (const uint8_t *) pem.buf, pem.len, true),
         "root store: add PEM")) {
    ok(rustls_root_cert_store_builder_build(b, &store), "root store: build");
  }
  rustls_root_cert_store_builder_free(b);
  return store;
}

/* mode: "none", "optional" or "required" client-certificate verification. */
static const struct rustls_server_config *server_config(
    const struct rustls_certified_key *ck, const struct rustls_root_cert_store *roots,
    const char *mode) {
  struct rustls_server_config_builder *b = rustls_server_config_builder_new();
  const struct rustls_server_config *cfg = NULL;
  struct rustls_slice_bytes alpn = {ALPN_HTTP11, sizeof(ALPN_HTTP11) - 1};

  if (b == NULL) return NULL;
  if (!ok(rustls_server_config_builder_set_certified_keys(b, &ck, 1), "server: certified key") ||
      !ok(rustls_server_config_builder_set_alpn_protocols(b, &alpn, 1), "server: ALPN")) {
    rustls_server_config_builder_free(b);
    return NULL;
  }
  if (strcmp(mode, "none") != 0) {
    struct rustls_client_cert_verifier *v = NULL;
    struct rustls_web_pki_client_cert_verifier_builder *vb =
        rustls_web_pki_client_cert_verifier_builder_new(roots);
    int good = vb != NULL;
    if (good && strcmp(mode, "optional") == 0) {
      good = ok(rustls_web_pki_client_cert_verifier_builder_allow_unauthenticated(vb),
                "server: allow clients without a certificate");
    }
    if (good) good = ok(rustls_web_pki_client_cert_verifier_builder_build(vb, &v),
                        "server: client verifier");
    rustls_web_pki_client_cert_verifier_builder_free(vb);
    if (!good) {
      rustls_server_config_builder_free(b);
      return NULL;
    }
    rustls_server_config_builder_set_client_verifier(b, v); /* takes its own reference */
    rustls_client_cert_verifier_free(v);
  }
  ok(rustls_server_config_builder_build(b, &cfg), "server: build"); /* consumes b */
  return cfg;
}

static const struct rustls_client_config *client_config(
    const struct rustls_certified_key *ck, const struct rustls_root_cert_store *roots) {
  struct rustls_client_config_builder *b = rustls_client_config_builder_new();
  struct rustls_web_pki_server_cert_verifier_builder *vb =
      rustls_web_pki_server_cert_verifier_builder_new(roots);
  struct rustls_server_cert_verifier *v = NULL;
  const struct rustls_client_config *cfg = NULL;
  struct rustls_slice_bytes alpn = {ALPN_HTTP11, sizeof(ALPN_HTTP11) - 1};
  int good = b != NULL && vb != NULL &&
             ok(rustls_web_pki_server_cert_verifier_builder_build(vb, &v), "client: verifier");

  rustls_web_pki_server_cert_verifier_builder_free(vb);
  if (good) {
    rustls_client_config_builder_set_server_verifier(b, v);
    rustls_server_cert_verifier_free(v);
    good = ok(rustls_client_config_builder_set_alpn_protocols(b, &alpn, 1), "client: ALPN") &&
           ok(rustls_client_config_builder_set_certified_key(b, &ck, 1), "client: certificate");
  }
  if (!good) {
    rustls_client_config_builder_free(b);
    return NULL;
  }
  ok(rustls_client_config_builder_build(b, &cfg), "client: build"); /* consumes b */
  return cfg;
}

static void server_fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_TLS_HS) {
    printf("server: handshake done\n");
  } else if (ev == MG_EV_HTTP_MSG) {
    mg_http_reply(c, 200, "Content-Type: text/plain\r\n",
                  "hello from a rustls-ffi server config\n");
  } else if (ev == MG_EV_ERROR) {
    fprintf(stderr, "server error: %s\n", (const char *) ev_data);
  }
}

static void client_fn(struct mg_conn c, int ev, void *ev_data) {
  const struct rustls_client_config *cfg = (const struct rustls_client_config *) mg_fn_data(c);
  if (ev == MG_EV_CONNECT) {
    if (mg_tls_init_client_config(c, cfg, mg_str("localhost")) != 0) return; /* MG_EV_ERROR */
    mg_printf(c, "GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  } else if (ev == MG_EV_TLS_HS) {
    printf("client: handshake done\n");
  } else if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    int status = mg_http_status(hm);
    printf("status: %d\n%.*s", status, (int) hm->body.len, hm->body.buf);
    finish(status == 200 ? 0 : 1);
    mg_close(c);
  } else if (ev == MG_EV_ERROR) {
    fprintf(stderr, "client error: %s\n", (const char *) ev_data);
    finish(1);
  } else if (ev == MG_EV_CLOSE) {
    if (!s_done) fprintf(stderr, "client: closed before a complete response\n");
    finish(1);
  }
}

static void on_timeout(void *arg) {
  (void) arg;
  if (!s_done) fprintf(stderr, "timed out\n");
  finish(2);
}

int main(int argc, char *argv[]) {
  const char *cert_path = argc > 2 ? argv[1] : "../https-server/test-cert.pem";
  const char *key_path = argc > 2 ? argv[2] : "../https-server/test-key.pem";
  const char *mode = argc > 3 ? argv[3] : "optional";
  struct mg_str cert = {NULL, 0}, key = {NULL, 0};
  const struct rustls_certified_key *ck = NULL;
  const struct rustls_root_cert_store *roots = NULL;
  const struct rustls_server_config *scfg = NULL;
  const struct rustls_client_config *ccfg = NULL;
  struct mg_mgr mgr;
  struct mg_conn lc;
  struct mg_conn_info info;
  char url[64];
  int rc = 1, err;

  if (strcmp(mode, "none") != 0 && strcmp(mode, "optional") != 0 &&
      strcmp(mode, "required") != 0) {
    fprintf(stderr, "client-certificate mode: none, optional or required, not %s\n", mode);
    return 1;
  }
  if (read_file(cert_path, &cert) != 0 || read_file(key_path, &key) != 0) {
    fprintf(stderr, "cannot read %s or %s\n", cert_path, key_path);
    goto out;
  }
  /* rustls-ffi's builders need a process-wide crypto provider: make it meerkat's. */
  if (mg_tls_init_provider() != 0) fprintf(stderr, "note: another crypto provider is set\n");
  if (!ok(rustls_certified_key_build((const uint8_t *) cert.buf, cert.len,
                                     (const uint8_t *) key.buf, key.len, &ck),
          "certified key") ||
      (roots = root_store(cert)) == NULL || (scfg = server_config(ck, roots, mode)) == NULL ||
      (ccfg = client_config(ck, roots)) == NULL) {
    goto out;
  }

  mg_log_set(MG_LL_ERROR);
  if (mg_mgr_init(&mgr) != 0) {
    fprintf(stderr, "mg_mgr_init failed\n");
    goto out;
  }
  lc = mg_http_listen(&mgr, "https://127.0.0.1:0", server_fn, NULL);
  /* mg_last_error() is only for the calls that return a handle; the others return theirs. */
  err = lc.h == 0 ? mg_last_error() : mg_tls_init_server_config(lc, scfg);
  if (err == 0) err = mg_conn_info(lc, &info);
  if (err != 0) {
    fprintf(stderr, "cannot set up the server: %s\n", mg_strerror(err));
    mg_mgr_free(&mgr);
    goto out;
  }
  {
    const unsigned char *port = (const unsigned char *) &info.loc.port; /* network order */
    mg_snprintf(url, sizeof(url), "https://127.0.0.1:%u", (unsigned) (port[0] << 8 | port[1]));
  }
  printf("listening on %s\n", url);
  if (mg_timer_add(&mgr, 5000, MG_TIMER_ONCE, on_timeout, NULL).h == 0 ||
      mg_http_connect(&mgr, url, client_fn, (void *) ccfg).h == 0) {
    fprintf(stderr, "cannot connect to %s: %s\n", url, mg_strerror(mg_last_error()));
    mg_mgr_free(&mgr);
    goto out;
  }
  while (!s_done) mg_mgr_poll(&mgr, 100);
  if (mg_mgr_free(&mgr) != 0) s_exit_code = 1;
  rc = s_exit_code;
  printf("bye\n");

out:
  /* meerkat holds its own references to the configs; these are ours. */
  rustls_client_config_free(ccfg);
  rustls_server_config_free(scfg);
  rustls_root_cert_store_free(roots);
  rustls_certified_key_free(ck);
  free((void *) cert.buf);
  free((void *) key.buf);
  return rc;
}
