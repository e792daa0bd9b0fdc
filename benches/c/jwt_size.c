/*
 * Flash cost of JWT (benches/README.md): a small HTTP server built with and without JWT
 * calls, against meerkat (through the mongoose.h shim) or Mongoose; the difference in
 * stripped text size is what JWT adds. -DWITH_HS256: every request's body is signed with
 * mg_jwt_sign_hs256 and the token checked with mg_jwt_verify_hs256; -DWITH_ES256: the same
 * with mg_jwt_sign_es256 / mg_jwt_verify_es256 (Mongoose: only with MG_TLS=MG_TLS_BUILTIN).
 * Never run, only linked.
 */
#include "mongoose.h"

#ifdef MEERKAT_H
#define CONN struct mg_conn
#else
#define CONN struct mg_connection *
#endif

#if defined(WITH_HS256) || defined(WITH_ES256)
static uint8_t s_key[64];
#endif

static void fn(CONN c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
#if defined(WITH_HS256) || defined(WITH_ES256)
    char tok[512], claims[256];
    struct mg_jwt_opts o;
    memset(&o, 0, sizeof(o));
    o.claims = hm->body;
    o.secret = mg_str("secret");
    o.private_key = s_key;
    o.public_key = s_key;
#ifdef WITH_HS256
    size_t n = mg_jwt_sign_hs256(&o, tok, sizeof(tok));
    size_t m = mg_jwt_verify_hs256(mg_str_n(tok, n), &o, claims, sizeof(claims));
#else
    size_t n = mg_jwt_sign_es256(&o, tok, sizeof(tok));
    size_t m = mg_jwt_verify_es256(mg_str_n(tok, n), &o, claims, sizeof(claims));
#endif
    mg_http_reply(c, 200, "", "%.*s %d\n", (int) n, tok, (int) m);
#else
    mg_http_reply(c, 200, "", "%.*s\n", (int) hm->body.len, hm->body.buf);
#endif
  }
}

int main(int argc, char *argv[]) {
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  mg_http_listen(&mgr, argc > 1 ? argv[1] : "http://0.0.0.0:8000", fn, NULL);
  for (;;) mg_mgr_poll(&mgr, 1000);
  return 0;
}
