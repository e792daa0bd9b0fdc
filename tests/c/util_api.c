/*
 * Mongoose 7.22 utility API through mongoose.h, written as firmware writes it: JSON getters,
 * base64, SHA-1, SHA-256, HMAC, SHA-384, CRC-32, mg_iobuf, mg_str_to_num, mg_path_is_sane.
 * Every check compares with a published or hand-computed answer. Prints "N passed, M failed"
 * and exits non-zero on any failure. Run by tests/util_api.rs (plain and ASan/UBSan builds).
 */
#include "mongoose.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static void hex(const unsigned char *p, size_t n, char *out) {
  size_t i;
  for (i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", p[i]);
  out[2 * n] = '\0';
}

static void test_json(void) {
  struct mg_str json = mg_str(
      "{\"name\":\"dev\\u00e9\",\"port\":8000,\"ratio\":0.25,\"on\":true,"
      "\"list\":[1,{\"x\":\"deep\"},[]],\"key\":\"0aff\",\"b64\":\"aGVsbG8=\"}");
  int len = -1, ofs;
  double d = 0;
  bool b = false;
  char *s, buf[16];
  struct mg_str tok, key, val;
  size_t next;
  int n;

  ofs = mg_json_get(json, "$.port", &len);
  CHECK(ofs == 27 && len == 4);
  CHECK(mg_json_get(json, "$.missing", &len) == MG_JSON_NOT_FOUND && len == 0);
  CHECK(mg_json_get(mg_str("{\"a\":"), "$.a", NULL) == MG_JSON_INVALID);
  CHECK(mg_json_get(json, "port", NULL) == MG_JSON_INVALID);
  {
    char deep[2 * (MG_JSON_MAX_DEPTH + 1) + 2];
    int i, k = 0;
    for (i = 0; i <= MG_JSON_MAX_DEPTH; i++) deep[k++] = '[';
    deep[k++] = '1';
    for (i = 0; i <= MG_JSON_MAX_DEPTH; i++) deep[k++] = ']';
    deep[k] = '\0';
    CHECK(mg_json_get(mg_str(deep), "$", NULL) == MG_JSON_TOO_DEEP);
    CHECK(mg_json_get(mg_str_n(deep + 1, (size_t) k - 2), "$", NULL) == 0);
  }

  CHECK(mg_json_get_num(json, "$.ratio", &d) && d == 0.25);
  CHECK(!mg_json_get_num(json, "$.name", &d));
  CHECK(mg_json_get_bool(json, "$.on", &b) && b == true);
  CHECK(mg_json_get_long(json, "$.port", -1) == 8000);
  CHECK(mg_json_get_long(json, "$.nope", -1) == -1);
  CHECK(mg_json_get_long(json, "$.list[0]", -1) == 1);

  tok = mg_json_get_tok(json, "$.list[1].x");
  CHECK(tok.len == 6 && memcmp(tok.buf, "\"deep\"", 6) == 0);
  tok = mg_json_get_tok(json, "$.list[3]");
  CHECK(tok.buf == NULL && tok.len == 0);

  s = mg_json_get_str(json, "$.name");
  CHECK(s != NULL && strcmp(s, "dev\xc3\xa9") == 0);
  mg_free(s);
  CHECK(mg_json_get_str(json, "$.port") == NULL);

  s = mg_json_get_hex(json, "$.key", &n);
  CHECK(s != NULL && n == 2 && (unsigned char) s[0] == 0x0a && (unsigned char) s[1] == 0xff);
  free(s); /* free() and mg_free() are the same allocator */
  s = mg_json_get_b64(json, "$.b64", &n);
  CHECK(s != NULL && n == 5 && strcmp(s, "hello") == 0);
  mg_free(s);

  CHECK(mg_json_unescape(json, "$.list[1].x", buf, sizeof(buf)) == 4 && strcmp(buf, "deep") == 0);
  CHECK(mg_json_unescape(json, "$.list[1].x", buf, 4) == 0);

  /* Iterate an object, then an array. */
  {
    struct mg_str obj = mg_str("{\"a\": 1, \"b\": [2]}");
    const char *want_keys[] = {"\"a\"", "\"b\""}, *want_vals[] = {"1", "[2]"};
    int i = 0;
    next = 0;
    while ((next = mg_json_next(obj, next, &key, &val)) > 0 && i < 2) {
      CHECK(key.len == strlen(want_keys[i]) && memcmp(key.buf, want_keys[i], key.len) == 0);
      CHECK(val.len == strlen(want_vals[i]) && memcmp(val.buf, want_vals[i], val.len) == 0);
      i++;
    }
    CHECK(i == 2 && next == 0);
  }
  {
    struct mg_str arr = mg_json_get_tok(json, "$.list");
    int count = 0;
    next = 0;
    while ((next = mg_json_next(arr, next, &key, &val)) > 0) {
      CHECK(key.buf == NULL);
      count++;
    }
    CHECK(count == 3);
  }
}

static void test_hashes(void) {
  mg_sha1_ctx c1;
  mg_sha256_ctx c2;
  mg_sha384_ctx c3;
  unsigned char d[48];
  char h[97];
  unsigned char key[20], data[] = "Hi There";
  const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

  mg_sha1_init(&c1);
  mg_sha1_update(&c1, (const unsigned char *) "a", 1);
  mg_sha1_update(&c1, (const unsigned char *) "bc", 2);
  mg_sha1_final(d, &c1);
  hex(d, 20, h);
  CHECK(strcmp(h, "a9993e364706816aba3e25717850c26c9cd0d89d") == 0);

  mg_sha256_init(&c2);
  mg_sha256_update(&c2, (const unsigned char *) two, strlen(two));
  mg_sha256_final(d, &c2);
  hex(d, 32, h);
  CHECK(strcmp(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1") == 0);
  mg_sha256(d, (uint8_t *) "abc", 3);
  hex(d, 32, h);
  CHECK(strcmp(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);

  memset(key, 0x0b, sizeof(key));
  mg_hmac_sha256(d, key, sizeof(key), data, 8);
  hex(d, 32, h);
  CHECK(strcmp(h, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7") == 0);

  mg_sha384_init(&c3);
  mg_sha384_update(&c3, (const uint8_t *) "abc", 3);
  mg_sha384_final(d, &c3);
  hex(d, 48, h);
  CHECK(strcmp(h,
               "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
               "8086072ba1e7cc2358baeca134c825a7") == 0);

  CHECK(mg_crc32(0, "123456789", 9) == 0xCBF43926u);
  CHECK(mg_crc32(mg_crc32(0, "1234", 4), "56789", 5) == 0xCBF43926u);
}

static void test_base64(void) {
  char buf[32], out[32];
  size_t n = 0, i;
  const char *in = "foobar";
  CHECK(mg_base64_encode((const unsigned char *) "fooba", 5, buf, sizeof(buf)) == 8);
  CHECK(strcmp(buf, "Zm9vYmE=") == 0);
  CHECK(mg_base64_decode(buf, 8, out, sizeof(out)) == 5 && strcmp(out, "fooba") == 0);
  CHECK(mg_base64_decode("Zm9v!!!!", 8, out, sizeof(out)) == 0);
  CHECK(mg_base64_encode((const unsigned char *) "foobar", 6, buf, 8) == 0);
  for (i = 0; i < strlen(in); i++) n = mg_base64_update((unsigned char) in[i], buf, n);
  n = mg_base64_final(buf, n);
  CHECK(n == 8 && strcmp(buf, "Zm9vYmFy") == 0);
}

static void test_iobuf(void) {
  struct mg_iobuf io = {0, 0, 0, 0};
  CHECK(mg_iobuf_init(&io, 0, 32));
  CHECK(mg_iobuf_add(&io, io.len, "world", 5) == 5);
  CHECK(mg_iobuf_add(&io, 0, "hello ", 6) == 6);
  CHECK(io.len == 11 && io.size == 32 && memcmp(io.buf, "hello world", 11) == 0);
  CHECK(mg_iobuf_del(&io, 0, 6) == 6 && io.len == 5 && memcmp(io.buf, "world", 5) == 0);
  CHECK(mg_iobuf_resize(&io, 100) && io.size == 128 && io.len == 5);
  mg_iobuf_free(&io);
  CHECK(io.buf == NULL && io.len == 0 && io.size == 0);
}

static void test_misc(void) {
  uint8_t u8v = 0;
  uint16_t u16v = 0;
  uint32_t u32v = 0;
  unsigned char secret[4] = {1, 2, 3, 4};
  void *p;
  CHECK(mg_str_to_num(mg_str("0x1f"), 0, &u8v, sizeof(u8v)) && u8v == 31);
  CHECK(mg_str_to_num(mg_str("65535"), 10, &u16v, sizeof(u16v)) && u16v == 65535);
  CHECK(!mg_str_to_num(mg_str("65536"), 10, &u16v, sizeof(u16v)));
  CHECK(mg_str_to_num(mg_str("0b101"), 0, &u32v, sizeof(u32v)) && u32v == 5);
  CHECK(mg_path_is_sane(mg_str("css/style.css")));
  CHECK(!mg_path_is_sane(mg_str("../etc/passwd")));
  CHECK(!mg_path_is_sane(mg_str("a/../../b")));
  CHECK(mg_casecmp("Content-Length", "content-length") == 0);
  CHECK(mg_casecmp("a", "B") < 0);
  CHECK(mg_ntohs(mg_htons(0x1234)) == 0x1234);
  {
    uint32_t v = mg_htonl(0x01020304);
    unsigned char bytes[4];
    memcpy(bytes, &v, sizeof(bytes));
    CHECK(bytes[0] == 1 && bytes[3] == 4); /* network order is big-endian in memory */
  }
  mg_bzero(secret, sizeof(secret));
  CHECK(secret[0] == 0 && secret[3] == 0);
  p = mg_calloc(3, 5);
  CHECK(p != NULL && ((unsigned char *) p)[14] == 0);
  mg_free(p);
  CHECK(MG_PATH_MAX >= 128);
  CHECK(MG_JSON_MAX_DEPTH == 30);
}

int main(void) {
  printf("MG_VERSION %s\n", MG_VERSION);
  test_json();
  test_hashes();
  test_base64();
  test_iobuf();
  test_misc();
  return CHECK_SUMMARY();
}
