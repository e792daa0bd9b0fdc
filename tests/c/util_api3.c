/*
 * The third part of Mongoose 7.22's utility API through mongoose.h, as firmware writes it:
 * JSON Web Tokens (RFC 7515's published examples), base64url (RFC 4648 vectors), CRC-16,
 * mg_memeq, mg_timegm, parsing HTTP heads outside a connection, the byte macros, and on a
 * live manager mg_call, mg_error and a timer with MG_TIMER_AUTODELETE. Prints
 * "N passed, M failed". Run by tests/util_api.rs (plain and ASan/UBSan builds).
 */
#include "mongoose.h"

#include "check.h"

/* RFC 7515 A.1 (HS256) and A.3 (ES256): the JWS, the key, the payload. */
static const char *A1_JWS =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
static const char *A1_K =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
static const char *PAYLOAD =
    "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
static const char *A3_JWS =
    "eyJhbGciOiJFUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
static const char *A3_X = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
static const char *A3_Y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
static const char *A3_D = "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI";

static void test_jwt(void) {
  char key[128], out[512], tok[512], hdr[128];
  uint8_t pub[64], priv[32], tmp[40];
  struct mg_jwt_opts o;
  size_t klen, n;

  memset(&o, 0, sizeof(o));
  klen = mg_base64url_decode(A1_K, strlen(A1_K), key, sizeof(key));
  CHECK(klen == 64);
  o.secret = mg_str_n(key, klen);
  n = mg_jwt_verify_hs256(mg_str(A1_JWS), &o, out, sizeof(out));
  CHECK(n == strlen(PAYLOAD));
  CHECK_STR(out, PAYLOAD);
  o.secret = mg_str("wrong");
  CHECK(mg_jwt_verify_hs256(mg_str(A1_JWS), &o, out, sizeof(out)) == 0);

  CHECK(mg_base64url_decode(A3_X, strlen(A3_X), (char *) tmp, sizeof(tmp)) == 32);
  memcpy(pub, tmp, 32);
  CHECK(mg_base64url_decode(A3_Y, strlen(A3_Y), (char *) tmp, sizeof(tmp)) == 32);
  memcpy(pub + 32, tmp, 32);
  CHECK(mg_base64url_decode(A3_D, strlen(A3_D), (char *) tmp, sizeof(tmp)) == 32);
  memcpy(priv, tmp, 32);
  o.public_key = pub;
  n = mg_jwt_verify_es256(mg_str(A3_JWS), &o, out, sizeof(out));
  CHECK(n == strlen(PAYLOAD));
  CHECK_STR(out, PAYLOAD);
  /* An HS256 token is not accepted as ES256, and the other way round. */
  CHECK(mg_jwt_verify_es256(mg_str(A1_JWS), &o, out, sizeof(out)) == 0);

  /* Sign, check the header as Mongoose writes it, verify. */
  o.claims = mg_str("{\"user\":\"admin\",\"exp\":2000000000}");
  o.kid = mg_str("key-1");
  o.secret = mg_str("my secret");
  n = mg_jwt_sign_hs256(&o, tok, sizeof(tok));
  CHECK(n > 0 && n == strlen(tok));
  CHECK(mg_base64url_decode(tok, (size_t) (strchr(tok, '.') - tok), hdr, sizeof(hdr)) > 0);
  CHECK_STR(hdr, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"key-1\"}");
  CHECK(mg_jwt_verify_hs256(mg_str(tok), &o, out, sizeof(out)) == o.claims.len);
  CHECK_STR(out, "{\"user\":\"admin\",\"exp\":2000000000}");
  CHECK(mg_jwt_sign_hs256(&o, tok, 10) == 0); /* too small: nothing */
  o.private_key = priv;
  n = mg_jwt_sign_es256(&o, tok, sizeof(tok));
  CHECK(n > 0);
  CHECK(mg_jwt_verify_es256(mg_str(tok), &o, out, sizeof(out)) == o.claims.len);
  tok[n - 3] = tok[n - 3] == 'A' ? 'B' : 'A';
  CHECK(mg_jwt_verify_es256(mg_str(tok), &o, out, sizeof(out)) == 0);
}

static void test_codecs(void) {
  char buf[64];
  const unsigned char bin[] = {0xfb, 0xff, 0xbf};
  /* RFC 4648 §10, url alphabet without padding. */
  CHECK(mg_base64url_encode((const unsigned char *) "f", 1, buf, sizeof(buf)) == 2);
  CHECK_STR(buf, "Zg");
  CHECK(mg_base64url_encode((const unsigned char *) "foob", 4, buf, sizeof(buf)) == 6);
  CHECK_STR(buf, "Zm9vYg");
  CHECK(mg_base64url_encode((const unsigned char *) "foobar", 6, buf, sizeof(buf)) == 8);
  CHECK_STR(buf, "Zm9vYmFy");
  CHECK(mg_base64url_encode(bin, 3, buf, sizeof(buf)) == 4);
  CHECK_STR(buf, "-_-_");
  CHECK(mg_base64url_encode(bin, 3, buf, 4) == 0); /* no room for the NUL */
  CHECK(mg_base64url_decode("Zm9vYg==", 8, buf, sizeof(buf)) == 4);
  CHECK_STR(buf, "foob");
  CHECK(mg_base64url_decode("-_-_", 4, buf, sizeof(buf)) == 3 && memcmp(buf, bin, 3) == 0);
  CHECK(mg_base64url_decode("a+b/", 4, buf, sizeof(buf)) == 0);
  /* CRC-16/X-25 check value, and continued over two calls. */
  CHECK(mg_crc16(0, "123456789", 9) == 0x906E);
  CHECK(mg_crc16(mg_crc16(0, "12345", 5), "6789", 4) == 0x906E);
  CHECK(mg_memeq("abcd", "abcd", 4));
  CHECK(!mg_memeq("abcd", "abce", 4));
  CHECK(mg_memeq("x", "y", 0));
  CHECK(mg_timegm(1970, 1, 1, 0, 0, 0) == 0);
  CHECK(mg_timegm(2000, 2, 29, 12, 0, 0) == 951825600ULL);
  CHECK(mg_timegm(2038, 1, 19, 3, 14, 8) == 2147483648ULL);
  CHECK(mg_timegm(1969, 12, 31, 23, 59, 59) == 0);
}

static void test_macros(void) {
  uint8_t b[8], ip6[16] = MG_IPV6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
  uint32_t ip = MG_IPV4(192, 168, 1, 2);
  char s[32];
  MG_STORE_BE32(b, 0xdeadbeefU);
  CHECK(b[0] == 0xde && b[3] == 0xef);
  CHECK(MG_LOAD_BE32(b) == 0xdeadbeefU);
  CHECK(MG_LOAD_BE16(b) == 0xdead);
  MG_STORE_BE64(b, 0x0102030405060708ULL);
  CHECK(MG_LOAD_BE64(b) == 0x0102030405060708ULL && MG_LOAD_BE24(b + 5) == 0x060708);
  CHECK(ip6[0] == 0x20 && ip6[1] == 0x01 && ip6[3] == 0xb8 && ip6[15] == 1);
  snprintf(s, sizeof(s), "%d.%d.%d.%d", MG_IPADDR_PARTS(&ip));
  CHECK_STR(s, "192.168.1.2");
  CHECK(MG_ROUND_UP(10, 8) == 16 && MG_ROUND_DOWN(10, 8) == 8 && MG_BIT(4) == 16);
  CHECK(MG_DSCP_EF == 46 && MG_DSCP_AF(4, 1) == 34 && MG_DSCP_CS(6) == 48);
  CHECK(mg_ntohl(mg_htonl(0x01020304U)) == 0x01020304U);
}

static void test_http_parse(void) {
  const char *req =
      "POST /api/x?a=1 HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; "
      "boundary=\"xyz\"\r\nContent-Length: 5\r\n\r\nhel";
  const char *resp = "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno!";
  struct mg_http_message hm;
  struct mg_str *ct;
  int n;
  CHECK(mg_http_get_request_len((const unsigned char *) req, 10) == 0);
  n = mg_http_get_request_len((const unsigned char *) req, strlen(req));
  CHECK(n == (int) (strstr(req, "\r\n\r\n") - req) + 4);
  CHECK(mg_http_get_request_len((const unsigned char *) "GET /\x01 HTTP/1.1\r\n\r\n", 18) == -1);
  CHECK(mg_http_get_request_len((const unsigned char *) "GET / HTTP/1.0\n\n", 16) == 16);
  CHECK(mg_http_parse(req, strlen(req), &hm) == n);
  CHECK(mg_strcmp(hm.method, mg_str("POST")) == 0);
  CHECK(mg_strcmp(hm.uri, mg_str("/api/x")) == 0);
  CHECK(mg_strcmp(hm.query, mg_str("a=1")) == 0);
  CHECK(mg_strcmp(hm.proto, mg_str("HTTP/1.1")) == 0);
  /* The declared length, though only 3 bytes are there: the caller compares. */
  CHECK(hm.body.len == 5 && hm.message.len == (size_t) n + 5 && hm.message.len > strlen(req));
  ct = mg_http_get_header(&hm, "Content-Type");
  CHECK(ct != NULL);
  if (ct != NULL) {
    struct mg_str v = mg_http_get_header_var(*ct, mg_str("boundary"));
    CHECK(mg_strcmp(v, mg_str("xyz")) == 0);
    CHECK(mg_http_get_header_var(*ct, mg_str("nope")).len == 0);
  }
  CHECK(mg_http_parse(req, 20, &hm) == 0);
  CHECK(mg_http_parse(resp, strlen(resp), &hm) > 0);
  CHECK(mg_http_status(&hm) == 404);
  CHECK(mg_strcmp(hm.body, mg_str("no!")) == 0);
  CHECK(mg_http_parse("\x01\x02\r\n\r\n", 6, &hm) == -1);
}

static int s_events[8], s_nev;
static char s_errmsg[64];
static int s_user_seen, s_timer_runs;

static void fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_POLL) return;
  if (s_nev < 8) s_events[s_nev++] = ev;
  if (ev == MG_EV_ERROR) snprintf(s_errmsg, sizeof(s_errmsg), "%s", (const char *) ev_data);
  if (ev == MG_EV_USER) s_user_seen = *(int *) ev_data;
  (void) c;
}

static void timer_fn(void *arg) {
  (*(int *) arg)++;
}

static void test_conn(void) {
  struct mg_mgr mgr;
  struct mg_conn c;
  int i, x = 42;
  mg_mgr_init(&mgr);
  c = mg_listen(&mgr, "tcp://127.0.0.1:0", fn, NULL);
  CHECK(c.h != 0);
  mg_call(c, MG_EV_USER, &x);
  CHECK(s_user_seen == 42);
  s_nev = 0;
  mg_error(c, "bad header %d", 7);
  CHECK_STR(s_errmsg, "bad header 7");
  for (i = 0; i < 10 && mg_conn_id(c) != 0; i++) mg_mgr_poll(&mgr, 10);
  CHECK(s_nev >= 2 && s_events[0] == MG_EV_ERROR && s_events[s_nev - 1] == MG_EV_CLOSE);
  /* MG_TIMER_AUTODELETE is accepted; the one-shot timer fires once. */
  CHECK(mg_timer_add(&mgr, 5, MG_TIMER_ONCE | MG_TIMER_AUTODELETE, timer_fn, &s_timer_runs).h != 0);
  for (i = 0; i < 30; i++) mg_mgr_poll(&mgr, 5);
  CHECK(s_timer_runs == 1);
  mg_mgr_free(&mgr);
}

int main(void) {
  printf("MG_VERSION %s\n", MG_VERSION);
  test_jwt();
  test_codecs();
  test_macros();
  test_http_parse();
  test_conn();
  return CHECK_SUMMARY();
}
