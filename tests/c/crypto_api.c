/*
 * Mongoose 7.22's built-in TLS primitives through mongoose.h, as firmware calls them, checked
 * against published answers: micro-ecc over P-256 (RFC 6979 A.2.5 signatures, NIST CAVS ECDH,
 * compression) and P-384, the mg_uecc_vli_* integer helpers, AES-GCM (the GCM spec's test
 * cases), ChaCha20-Poly1305 (RFC 8439 2.8.2), X25519 (RFC 7748 5.2 and 6.1) and RSA (2048-
 * and 3072-bit keys and signatures made by openssl in tests/crypto_api.rs, passed in
 * rsa_vectors.h). Bad input must give the documented failure. Prints "N passed, M failed".
 */
#include "mongoose.h"

#include "check.h"
#include "rsa_vectors.h"

static size_t unhex(const char *s, uint8_t *out) {
  size_t n = 0;
  while (s[0] && s[1]) {
    unsigned v;
    sscanf(s, "%2x", &v);
    out[n++] = (uint8_t) v;
    s += 2;
  }
  return n;
}

static int eqhex(const uint8_t *got, size_t len, const char *want) {
  uint8_t buf[512];
  size_t n = unhex(want, buf);
  return n == len && memcmp(got, buf, n) == 0;
}

/* ---- micro-ecc, high level */

static const char *RFC6979_X = "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721";
static const char *RFC6979_U =
    "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
    "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299";

typedef struct {
  MG_UECC_HashContext uECC;
  mg_sha256_ctx ctx;
} sha256_hash_ctx;

static void init_sha256(const MG_UECC_HashContext *base) {
  sha256_hash_ctx *c = (sha256_hash_ctx *) base;
  mg_sha256_init(&c->ctx);
}
static void update_sha256(const MG_UECC_HashContext *base, const uint8_t *m, unsigned n) {
  sha256_hash_ctx *c = (sha256_hash_ctx *) base;
  mg_sha256_update(&c->ctx, m, n);
}
static void finish_sha256(const MG_UECC_HashContext *base, uint8_t *out) {
  sha256_hash_ctx *c = (sha256_hash_ctx *) base;
  mg_sha256_final(out, &c->ctx);
}

typedef struct {
  MG_UECC_HashContext uECC;
  mg_sha384_ctx ctx;
} sha384_hash_ctx;

static void init_sha384(const MG_UECC_HashContext *base) {
  mg_sha384_init(&((sha384_hash_ctx *) base)->ctx);
}
static void update_sha384(const MG_UECC_HashContext *base, const uint8_t *m, unsigned n) {
  mg_sha384_update(&((sha384_hash_ctx *) base)->ctx, m, n);
}
static void finish_sha384(const MG_UECC_HashContext *base, uint8_t *out) {
  mg_sha384_final(out, &((sha384_hash_ctx *) base)->ctx);
}

static int failing_rng(uint8_t *dest, unsigned size) {
  (void) dest, (void) size;
  return 0;
}
static unsigned s_rng_calls;
static int counting_rng(uint8_t *dest, unsigned size) {
  s_rng_calls++;
  return mg_random(dest, size) ? 1 : 0;
}

static void test_uecc(void) {
  MG_UECC_Curve c = mg_uecc_secp256r1();
  uint8_t x[32], u[64], h[32], sig[64], sig2[64], pub[64], priv[32], pub2[64], priv2[32];
  uint8_t s1[32], s2[32], comp[33], dec[64], tmp[32 + 32 + 64];
  sha256_hash_ctx hc;

  CHECK(c != NULL && mg_uecc_secp384r1() != NULL && c != mg_uecc_secp384r1());
  CHECK(mg_uecc_curve_private_key_size(c) == 32);
  CHECK(mg_uecc_curve_public_key_size(c) == 64);
  CHECK(mg_uecc_curve_private_key_size(mg_uecc_secp384r1()) == 48);
  CHECK(mg_uecc_curve_public_key_size(NULL) == 0);
  CHECK(MG_UECC_SUPPORTS_secp256r1 == 1 && MG_UECC_SUPPORTS_secp384r1 == 1);

  unhex(RFC6979_X, x);
  unhex(RFC6979_U, u);
  CHECK(mg_uecc_compute_public_key(x, pub, c) == 1);
  CHECK(memcmp(pub, u, 64) == 0);
  CHECK(mg_uecc_valid_public_key(u, c) == 1);

  /* RFC 6979 A.2.5, SHA-256, "sample" and "test", with the caller's SHA-256. */
  memset(&hc, 0, sizeof(hc));
  hc.uECC.init_hash = init_sha256;
  hc.uECC.update_hash = update_sha256;
  hc.uECC.finish_hash = finish_sha256;
  hc.uECC.block_size = 64;
  hc.uECC.result_size = 32;
  hc.uECC.tmp = tmp;
  mg_sha256(h, (uint8_t *) "sample", 6);
  CHECK(mg_uecc_sign_deterministic(x, h, 32, &hc.uECC, sig, c) == 1);
  CHECK(eqhex(sig, 64,
              "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
              "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8"));
  CHECK(mg_uecc_verify(u, h, 32, sig, c) == 1);
  mg_sha256(h, (uint8_t *) "test", 4);
  CHECK(mg_uecc_sign_deterministic(x, h, 32, &hc.uECC, sig, c) == 1);
  CHECK(eqhex(sig, 64,
              "f1abb023518351cd71d881567b1ea663ed3efcf6c5132b354f28d3b0b7d38367"
              "019f4113742a2b14bd25926b49c649155f267e60d3814b4c0cc84250e46f0083"));
  CHECK(mg_uecc_verify(u, h, 32, sig, c) == 1);
  /* Tampered hash, signature or key: 0. */
  h[0] ^= 1;
  CHECK(mg_uecc_verify(u, h, 32, sig, c) == 0);
  h[0] ^= 1;
  sig[63] ^= 1;
  CHECK(mg_uecc_verify(u, h, 32, sig, c) == 0);
  sig[63] ^= 1;
  memset(sig2, 0, sizeof(sig2)); /* r = s = 0 */
  CHECK(mg_uecc_verify(u, h, 32, sig2, c) == 0);
  memcpy(pub2, u, 64);
  pub2[63] ^= 1; /* off the curve */
  CHECK(mg_uecc_valid_public_key(pub2, c) == 0);
  CHECK(mg_uecc_verify(pub2, h, 32, sig, c) == 0);
  CHECK(mg_uecc_verify(u, h, 32, sig, NULL) == 0);
  hc.uECC.finish_hash = NULL;
  CHECK(mg_uecc_sign_deterministic(x, h, 32, &hc.uECC, sig2, c) == 0);

  /* Random signatures verify; the installed RNG is used, a failing one fails. */
  CHECK(mg_uecc_get_rng() == NULL);
  mg_uecc_set_rng(counting_rng);
  CHECK(mg_uecc_get_rng() == counting_rng);
  CHECK(mg_uecc_sign(x, h, 32, sig, c) == 1);
  CHECK(s_rng_calls > 0);
  CHECK(mg_uecc_verify(u, h, 32, sig, c) == 1);
  mg_uecc_set_rng(failing_rng);
  memset(priv, 0xAA, sizeof(priv));
  CHECK(mg_uecc_make_key(pub, priv, c) == 0);
  CHECK(priv[0] == 0xAA && priv[31] == 0xAA); /* written only on success */
  CHECK(mg_uecc_sign(x, h, 32, sig2, c) == 0);
  mg_uecc_set_rng(NULL);

  /* ECDH between two new keys, both ways. */
  CHECK(mg_uecc_make_key(pub, priv, c) == 1);
  CHECK(mg_uecc_make_key(pub2, priv2, c) == 1);
  CHECK(mg_uecc_valid_public_key(pub, c) == 1);
  CHECK(mg_uecc_shared_secret(pub2, priv, s1, c) == 1);
  CHECK(mg_uecc_shared_secret(pub, priv2, s2, c) == 1);
  CHECK(memcmp(s1, s2, 32) == 0);
  CHECK(mg_uecc_shared_secret(pub2, priv, s1, NULL) == 0);
  CHECK(mg_uecc_shared_secret(u, priv, NULL, c) == 0);
  memcpy(pub2, u, 64);
  pub2[10] ^= 0x40;
  CHECK(mg_uecc_shared_secret(pub2, priv, s1, c) == 0);

  /* NIST CAVS ECDH (KAS) P-256, COUNT = 0. */
  {
    uint8_t qcavs[64], d[32], q[64];
    unhex("700c48f77f56584c5cc632ca65640db91b6bacce3a4df6b42ce7cc838833d287"
          "db71e509e3fd9b060ddb20ba5c51dcc5948d46fbf640dfe0441782cab85fa4ac",
          qcavs);
    unhex("7d7dc5f71eb29ddaf80d6214632eeae03d9058af1fb6d22ed80badb62bc1a534", d);
    CHECK(mg_uecc_compute_public_key(d, q, c) == 1);
    CHECK(eqhex(q, 64,
                "ead218590119e8876b29146ff89ca61770c4edbbf97d38ce385ed281d8a6b230"
                "28af61281fd35e2fa7002523acc85a429cb06ee6648325389f59edfce1405141"));
    CHECK(mg_uecc_shared_secret(qcavs, d, s1, c) == 1);
    CHECK(eqhex(s1, 32, "46fc62106420ff012e54a434fbdd2d25ccc5852060561e68040dd7778997bd7b"));
  }

  /* Compression round trip; a bad compressed key decompresses to an invalid key. */
  mg_uecc_compress(u, comp, c);
  CHECK(comp[0] == (uint8_t) (2 + (u[63] & 1)) && memcmp(comp + 1, u, 32) == 0);
  memset(dec, 0, sizeof(dec));
  mg_uecc_decompress(comp, dec, c);
  CHECK(memcmp(dec, u, 64) == 0);
  comp[0] ^= 1; /* the other Y */
  mg_uecc_decompress(comp, dec, c);
  CHECK(memcmp(dec, u, 32) == 0 && memcmp(dec + 32, u + 32, 32) != 0);
  CHECK(mg_uecc_valid_public_key(dec, c) == 1);
  comp[0] = 0x05;
  mg_uecc_decompress(comp, dec, c);
  CHECK(mg_uecc_valid_public_key(dec, c) == 0);

  /* Invalid private keys: 0 and n. */
  memset(priv, 0, sizeof(priv));
  CHECK(mg_uecc_compute_public_key(priv, pub, c) == 0);
  unhex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", priv);
  CHECK(mg_uecc_compute_public_key(priv, pub, c) == 0);
  CHECK(mg_uecc_sign(priv, h, 32, sig, c) == 0);

  /* P-384: keys, ECDH and a signature. */
  {
    MG_UECC_Curve c3 = mg_uecc_secp384r1();
    uint8_t p1[96], k1[48], p2[96], k2[48], z1[48], z2[48], sg[96], hh[48];
    CHECK(mg_uecc_make_key(p1, k1, c3) == 1 && mg_uecc_make_key(p2, k2, c3) == 1);
    CHECK(mg_uecc_shared_secret(p2, k1, z1, c3) == 1);
    CHECK(mg_uecc_shared_secret(p1, k2, z2, c3) == 1 && memcmp(z1, z2, 48) == 0);
    mg_sha384(hh, (uint8_t *) "sample", 6);
    CHECK(mg_uecc_sign(k1, hh, 48, sg, c3) == 1);
    CHECK(mg_uecc_verify(p1, hh, 48, sg, c3) == 1);
    CHECK(mg_uecc_verify(p2, hh, 48, sg, c3) == 0);
  }

  /* RFC 6979 A.2.6 (P-384, SHA-384, "sample" and "test") with the caller's SHA-384. */
  {
    MG_UECC_Curve c3 = mg_uecc_secp384r1();
    sha384_hash_ctx h3;
    uint8_t k[48], q[96], hh[48], sg[96], t3[48 + 48 + 128];
    unhex("6b9d3dad2e1b8c1c05b19875b6659f4de23c3b667bf297ba9aa47740787137d896d5724e4c70a825f872c9ea60d2edf5", k);
    CHECK(mg_uecc_compute_public_key(k, q, c3) == 1);
    memset(&h3, 0, sizeof(h3));
    h3.uECC.init_hash = init_sha384;
    h3.uECC.update_hash = update_sha384;
    h3.uECC.finish_hash = finish_sha384;
    h3.uECC.block_size = 128;
    h3.uECC.result_size = 48;
    h3.uECC.tmp = t3;
    mg_sha384(hh, (uint8_t *) "sample", 6);
    CHECK(mg_uecc_sign_deterministic(k, hh, 48, &h3.uECC, sg, c3) == 1);
    CHECK(eqhex(sg, 96,
                "94edbb92a5ecb8aad4736e56c691916b3f88140666ce9fa73d64c4ea95ad133c81a648152e44acf96e36dd1e80fabe46"
                "99ef4aeb15f178cea1fe40db2603138f130e740a19624526203b6351d0a3a94fa329c145786e679e7b82c71a38628ac8"));
    CHECK(mg_uecc_verify(q, hh, 48, sg, c3) == 1);
    mg_sha384(hh, (uint8_t *) "test", 4);
    CHECK(mg_uecc_sign_deterministic(k, hh, 48, &h3.uECC, sg, c3) == 1);
    CHECK(eqhex(sg, 96,
                "8203b63d3c853e8d77227fb377bcf7b7b772e97892a80f36ab775d509d7a5feb0542a7f0812998da8f1dd3ca3cf023db"
                "ddd0760448d42d8a43af45af836fce4de8be06b485e9b61b827c2f13173923e06a739f040649a667bf3b828246baa5a5"));
    CHECK(mg_uecc_verify(q, hh, 48, sg, c3) == 1);
    CHECK(mg_uecc_verify(q, hh, 48, sg, c) == 0); /* wrong curve: sizes differ, still no crash */
  }

  /* FIPS 186-4 SigVer, P-384 with a SHA-256 hash (shorter than the order: left-padded). */
  {
    uint8_t q[96], hh[32], sg[96];
    unhex("0400193b21f07cd059826e9453d3e96dd145041c97d49ff6b7047f86bb0b0439e909274cb9c282bfab88674c0765bc75"
          "f70d89c52acbc70468d2c5ae75c76d7f69b76af62dcf95e99eba5dd11adf8f42ec9a425b0c5ec98e2f234a926b82a147",
          q);
    unhex("b11db00cdaf53286d4483f38cd02785948477ed7ebc2ad609054551da0ab0359978c61851788aa2ec3267946d440e878"
          "16007873c5b0604ce68112a8fee973e8e2b6e3319c683a762ff5065a076512d7c98b27e74b7887671048ac027df8cbf2",
          sg);
    unhex("bbbd0a5f645d3fda10e288d172b299455f9dff00e0fbc2833e18cd017d7f3ed1", hh);
    CHECK(mg_uecc_verify(q, hh, 32, sg, mg_uecc_secp384r1()) == 1);
    hh[31] ^= 1;
    CHECK(mg_uecc_verify(q, hh, 32, sg, mg_uecc_secp384r1()) == 0);
  }
}

/* ---- micro-ecc's VLI API */

static void words_from(mg_uecc_word_t *w, const char *hex, int nbytes) {
  uint8_t b[128];
  unhex(hex, b);
  mg_uecc_vli_bytesToNative(w, b, nbytes);
}

static void test_vli(void) {
  MG_UECC_Curve c = mg_uecc_secp256r1();
  const int nw = (int) mg_uecc_curve_num_words(c);
  mg_uecc_word_t a[16], b[16], r[16], p2[32], t[16], g2[16];
  uint8_t bytes[64];

  CHECK(sizeof(mg_uecc_word_t) == MG_UECC_WORD_SIZE);
  CHECK(MG_UECC_WORD_BITS == 8 * MG_UECC_WORD_SIZE);
  CHECK(nw * MG_UECC_WORD_SIZE == 32 && mg_uecc_curve_num_n_words(c) == (unsigned) nw);
  CHECK(mg_uecc_curve_num_bytes(c) == 32 && mg_uecc_curve_num_bits(c) == 256);
  CHECK(mg_uecc_curve_num_n_bytes(c) == 32 && mg_uecc_curve_num_n_bits(c) == 256);
  CHECK(mg_uecc_curve_num_words(NULL) == 0 && mg_uecc_curve_p(NULL) == NULL);

  /* The curve's constants, as big-endian bytes. */
  mg_uecc_vli_nativeToBytes(bytes, 32, mg_uecc_curve_p(c));
  CHECK(eqhex(bytes, 32, "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff"));
  mg_uecc_vli_nativeToBytes(bytes, 32, mg_uecc_curve_n(c));
  CHECK(eqhex(bytes, 32, "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"));
  mg_uecc_vli_nativeToBytes(bytes, 32, mg_uecc_curve_b(c));
  CHECK(eqhex(bytes, 32, "5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b"));
  mg_uecc_vli_nativeToBytes(bytes, 32, mg_uecc_curve_G(c) + nw);
  CHECK(eqhex(bytes, 32, "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"));
  CHECK(mg_uecc_valid_point(mg_uecc_curve_G(c), c) == 1);
  memcpy(g2, mg_uecc_curve_G(c), sizeof(mg_uecc_word_t) * 2 * nw);
  g2[0] ^= 1;
  CHECK(mg_uecc_valid_point(g2, c) == 0);

  /* Word-level: bytes <-> words, bits, compare, add/sub with carry and borrow. */
  words_from(a, "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20", 32);
  CHECK((a[0] & 0xff) == 0x20 && (a[nw - 1] >> (MG_UECC_WORD_BITS - 8)) == 0x01);
  CHECK(mg_uecc_vli_numBits(a, (wordcount_t) nw) == 249);
  CHECK(mg_uecc_vli_testBit(a, 5) != 0 && mg_uecc_vli_testBit(a, 0) == 0);
  mg_uecc_vli_set(b, a, (wordcount_t) nw);
  CHECK(mg_uecc_vli_equal(a, b, (wordcount_t) nw) == 1 && mg_uecc_vli_cmp(a, b, (wordcount_t) nw) == 0);
  mg_uecc_vli_rshift1(b, (wordcount_t) nw);
  CHECK(mg_uecc_vli_cmp(a, b, (wordcount_t) nw) == 1 && mg_uecc_vli_cmp(b, a, (wordcount_t) nw) == -1);
  mg_uecc_vli_nativeToBytes(bytes, 32, b);
  CHECK(eqhex(bytes, 32, "008101820283038404850586068707880889098a0a8b0b8c0c8d0d8e0e8f0f90"));
  mg_uecc_vli_clear(b, (wordcount_t) nw);
  CHECK(mg_uecc_vli_isZero(b, (wordcount_t) nw) == 1 && mg_uecc_vli_numBits(b, (wordcount_t) nw) == 0);
  words_from(b, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 32);
  words_from(t, "0000000000000000000000000000000000000000000000000000000000000001", 32);
  CHECK(mg_uecc_vli_add(r, b, t, (wordcount_t) nw) == 1 && mg_uecc_vli_isZero(r, (wordcount_t) nw) == 1);
  CHECK(mg_uecc_vli_sub(r, t, b, (wordcount_t) nw) == 1);
  mg_uecc_vli_nativeToBytes(bytes, 32, r);
  CHECK(eqhex(bytes, 32, "0000000000000000000000000000000000000000000000000000000000000002"));
  mg_uecc_vli_set(r, a, (wordcount_t) nw); /* in place: r = r + r */
  CHECK(mg_uecc_vli_add(r, r, r, (wordcount_t) nw) == 0);
  mg_uecc_vli_nativeToBytes(bytes, 32, r);
  CHECK(eqhex(bytes, 32, "020406080a0c0e10121416181a1c1e20222426282a2c2e30323436383a3c3e40"));

  /* (2^256 - 1)^2 = 2^512 - 2^257 + 1 */
  mg_uecc_vli_square(p2, b, (wordcount_t) nw);
  mg_uecc_vli_nativeToBytes(bytes, 64, p2);
  CHECK(eqhex(bytes, 64,
              "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe"
              "0000000000000000000000000000000000000000000000000000000000000001"));
  /* (2^256 - 1)^2 mod p = (2^256 - 1 - p)^2 mod p = (2^224 - 2^192 - 2^96)^2 mod p, the
   * same through mmod, mmod_fast, modSquare and modSquare_fast. */
  mg_uecc_vli_mmod(r, p2, mg_uecc_curve_p(c), (wordcount_t) nw);
  mg_uecc_vli_mmod_fast(t, p2, c);
  CHECK(mg_uecc_vli_equal(r, t, (wordcount_t) nw) == 1);
  words_from(a, "00000000fffffffeffffffffffffffffffffffff000000000000000000000000", 32);
  mg_uecc_vli_modSquare(t, a, mg_uecc_curve_p(c), (wordcount_t) nw);
  CHECK(mg_uecc_vli_equal(r, t, (wordcount_t) nw) == 1);
  mg_uecc_vli_modSquare_fast(t, a, c);
  CHECK(mg_uecc_vli_equal(r, t, (wordcount_t) nw) == 1);

  /* 2^-1 mod p = (p + 1) / 2, and 2 * that = 1. */
  words_from(a, "0000000000000000000000000000000000000000000000000000000000000002", 32);
  mg_uecc_vli_modInv(r, a, mg_uecc_curve_p(c), (wordcount_t) nw);
  mg_uecc_vli_nativeToBytes(bytes, 32, r);
  CHECK(eqhex(bytes, 32, "7fffffff80000000800000000000000000000000800000000000000000000000"));
  mg_uecc_vli_modMult(t, r, a, mg_uecc_curve_p(c), (wordcount_t) nw);
  CHECK(mg_uecc_vli_isZero(t, (wordcount_t) nw) == 0 && mg_uecc_vli_numBits(t, (wordcount_t) nw) == 1);
  mg_uecc_vli_modMult_fast(t, r, a, c);
  CHECK(mg_uecc_vli_numBits(t, (wordcount_t) nw) == 1);
  /* modAdd / modSub wrap around p: (p - 1) + 2 = 1, 1 - 2 = p - 1. */
  words_from(t, "ffffffff00000001000000000000000000000000fffffffffffffffffffffffe", 32);
  mg_uecc_vli_modAdd(r, t, a, mg_uecc_curve_p(c), (wordcount_t) nw);
  CHECK(mg_uecc_vli_numBits(r, (wordcount_t) nw) == 1);
  mg_uecc_vli_modSub(b, r, a, mg_uecc_curve_p(c), (wordcount_t) nw);
  CHECK(mg_uecc_vli_equal(b, t, (wordcount_t) nw) == 1);

  /* sqrt(Gy^2) is Gy or p - Gy. */
  mg_uecc_vli_modSquare_fast(r, mg_uecc_curve_G(c) + nw, c);
  mg_uecc_vli_mod_sqrt(r, c);
  mg_uecc_vli_sub(t, mg_uecc_curve_p(c), mg_uecc_curve_G(c) + nw, (wordcount_t) nw);
  CHECK(mg_uecc_vli_equal(r, mg_uecc_curve_G(c) + nw, (wordcount_t) nw) == 1 ||
        mg_uecc_vli_equal(r, t, (wordcount_t) nw) == 1);

  /* point_mult(G, d) is d's public key (RFC 6979's key). */
  {
    mg_uecc_word_t d[16], q[32];
    uint8_t qb[64];
    words_from(d, RFC6979_X, 32);
    mg_uecc_point_mult(q, mg_uecc_curve_G(c), d, c);
    mg_uecc_vli_nativeToBytes(qb, 32, q);
    mg_uecc_vli_nativeToBytes(qb + 32, 32, q + nw);
    CHECK(eqhex(qb, 64, RFC6979_U));
    CHECK(mg_uecc_valid_point(q, c) == 1);
    mg_uecc_point_mult(q, g2, d, c); /* not on the curve: zeros */
    CHECK(mg_uecc_vli_isZero(q, (wordcount_t) (2 * nw)) == 1);
  }

  /* Random integers below n. */
  {
    int i, ok = 1;
    for (i = 0; i < 20; i++) {
      ok &= mg_uecc_generate_random_int(r, mg_uecc_curve_n(c), (wordcount_t) nw);
      ok &= mg_uecc_vli_cmp(mg_uecc_curve_n(c), r, (wordcount_t) nw) == 1;
      ok &= !mg_uecc_vli_isZero(r, (wordcount_t) nw);
    }
    CHECK(ok);
    words_from(t, "0000000000000000000000000000000000000000000000000000000000000001", 32);
    CHECK(mg_uecc_generate_random_int(r, t, (wordcount_t) nw) == 0); /* nothing in (0, 1) */
  }

  /* NULL, unknown curves and negative counts: failure values, nothing written, no crash. */
  mg_uecc_vli_set(r, a, (wordcount_t) nw);
  CHECK(mg_uecc_vli_add(NULL, a, a, (wordcount_t) nw) == 0);
  CHECK(mg_uecc_vli_cmp(NULL, a, (wordcount_t) nw) == 0);
  mg_uecc_vli_mult(p2, NULL, a, (wordcount_t) nw);
  mg_uecc_vli_modInv(r, a, NULL, (wordcount_t) nw);
  mg_uecc_vli_clear(r, -3);
  CHECK(mg_uecc_vli_equal(r, a, (wordcount_t) nw) == 1);
  CHECK(mg_uecc_vli_testBit(a, -1) == 0 && mg_uecc_vli_numBits(NULL, 4) == 0);
  CHECK(mg_uecc_valid_point(NULL, c) == 0 && mg_uecc_valid_point(mg_uecc_curve_G(c), NULL) == 0);
  mg_uecc_point_mult(r, mg_uecc_curve_G(c), a, (MG_UECC_Curve) (void *) a);
  mg_uecc_vli_mod_sqrt(r, NULL);
  CHECK(mg_uecc_vli_equal(r, a, (wordcount_t) nw) == 1);
  CHECK(mg_uecc_generate_random_int(NULL, mg_uecc_curve_n(c), (wordcount_t) nw) == 0);
}

/* ---- AES-GCM (McGrew and Viega, "The Galois/Counter Mode of Operation", test cases) */

static void test_gcm(void) {
  uint8_t key[32], iv[64], aad[32], pt[64], ct[64], tag[16], out[64];
  size_t pn, an;

  CHECK(mg_gcm_initialize() == 0);
  /* Test case 2: zero key, zero IV, one zero block. */
  memset(key, 0, sizeof(key));
  memset(iv, 0, sizeof(iv));
  memset(pt, 0, sizeof(pt));
  CHECK(mg_aes_gcm_encrypt(ct, pt, 16, key, 16, iv, 12, NULL, 0, tag, 16) == 0);
  CHECK(eqhex(ct, 16, "0388dace60b6a392f328c2b971b2fe78"));
  CHECK(eqhex(tag, 16, "ab6e47d42cec13bdf53a67b21257bddf"));

  /* Test case 4: AES-128 with associated data, 60 bytes. */
  unhex("feffe9928665731c6d6a8f9467308308", key);
  unhex("cafebabefacedbaddecaf888", iv);
  an = unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2", aad);
  pn = unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
             "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
             pt);
  CHECK(pn == 60 && an == 20);
  CHECK(mg_aes_gcm_encrypt(ct, pt, pn, key, 16, iv, 12, aad, an, tag, 16) == 0);
  CHECK(eqhex(ct, 60,
              "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
              "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"));
  CHECK(eqhex(tag, 16, "5bc94fbc3221a5db94fae95ae7121a47"));
  CHECK(mg_aes_gcm_decrypt(out, ct, pn, key, 16, iv, 12, aad, an, tag, 16) == 0);
  CHECK(memcmp(out, pt, pn) == 0);
  /* A truncated (12-byte) tag is its prefix and also verifies. */
  CHECK(mg_aes_gcm_decrypt(out, ct, pn, key, 16, iv, 12, aad, an, tag, 12) == 0);
  /* Tampered tag, ciphertext or aad: -1, output untouched. */
  memset(out, 0x5A, sizeof(out));
  tag[15] ^= 1;
  CHECK(mg_aes_gcm_decrypt(out, ct, pn, key, 16, iv, 12, aad, an, tag, 16) == -1);
  tag[15] ^= 1;
  ct[0] ^= 1;
  CHECK(mg_aes_gcm_decrypt(out, ct, pn, key, 16, iv, 12, aad, an, tag, 16) == -1);
  ct[0] ^= 1;
  aad[0] ^= 1;
  CHECK(mg_aes_gcm_decrypt(out, ct, pn, key, 16, iv, 12, aad, an, tag, 16) == -1);
  aad[0] ^= 1;
  CHECK(out[0] == 0x5A && out[59] == 0x5A);
  /* In place. */
  memcpy(out, ct, pn);
  CHECK(mg_aes_gcm_decrypt(out, out, pn, key, 16, iv, 12, aad, an, tag, 16) == 0);
  CHECK(memcmp(out, pt, pn) == 0);
  /* Bad lengths and NULL. */
  CHECK(mg_aes_gcm_encrypt(ct, pt, pn, key, 17, iv, 12, aad, an, tag, 16) == -1);
  CHECK(mg_aes_gcm_encrypt(ct, pt, pn, key, 16, iv, 12, aad, an, tag, 17) == -1);
  CHECK(mg_aes_gcm_decrypt(out, ct, pn, key, 16, iv, 12, aad, an, tag, 0) == -1);
  CHECK(mg_aes_gcm_encrypt(ct, NULL, pn, key, 16, iv, 12, aad, an, tag, 16) == -1);

  /* Test case 16: AES-256. */
  unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", key);
  CHECK(mg_aes_gcm_encrypt(ct, pt, pn, key, 32, iv, 12, aad, an, tag, 16) == 0);
  CHECK(eqhex(ct, 60,
              "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
              "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"));
  CHECK(eqhex(tag, 16, "76fc6ece0f4e1768cddf8853bb2d551b"));
}

/* ---- ChaCha20-Poly1305, RFC 8439 2.8.2 */

static void test_chacha(void) {
  static const char *PT =
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
      "future, sunscreen would be it.";
  uint8_t key[32], nonce[12], aad[12], ct[200], out[200];
  size_t n = strlen(PT), i;

  for (i = 0; i < 32; i++) key[i] = (uint8_t) (0x80 + i);
  unhex("070000004041424344454647", nonce);
  unhex("50515253c0c1c2c3c4c5c6c7", aad);
  CHECK(mg_chacha20_poly1305_encrypt(ct, key, nonce, aad, 12, (const uint8_t *) PT, n) == n + 16);
  CHECK(eqhex(ct, n + RFC_8439_TAG_SIZE,
              "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
              "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
              "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
              "3ff4def08e4b7a9de576d26586cec64b6116"
              "1ae10b594f09e26a7e902ecbd0600691"));
  CHECK(mg_chacha20_poly1305_decrypt(out, key, nonce, aad, 12, ct, n + 16) == n);
  CHECK(memcmp(out, PT, n) == 0);
  memset(out, 0x5A, sizeof(out));
  ct[n + 3] ^= 1; /* tag */
  CHECK(mg_chacha20_poly1305_decrypt(out, key, nonce, aad, 12, ct, n + 16) == (size_t) -1);
  ct[n + 3] ^= 1;
  aad[0] ^= 1;
  CHECK(mg_chacha20_poly1305_decrypt(out, key, nonce, aad, 12, ct, n + 16) == (size_t) -1);
  aad[0] ^= 1;
  CHECK(out[0] == 0x5A);
  CHECK(mg_chacha20_poly1305_decrypt(out, key, nonce, aad, 12, ct, 10) == (size_t) -1);
  CHECK(mg_chacha20_poly1305_encrypt(ct, key, nonce, aad, 12, ct + 4, 20) == (size_t) -1);
  CHECK(mg_chacha20_poly1305_encrypt(ct, NULL, nonce, aad, 12, out, 20) == (size_t) -1);
}

/* ---- X25519, RFC 7748 */

static void test_x25519(void) {
  uint8_t s[32], u[32], out[32], apub[32], bpub[32], a[32], b[32], k1[32], k2[32];
  unhex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4", s);
  unhex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c", u);
  CHECK(mg_tls_x25519(out, s, u, 1) == 0);
  CHECK(eqhex(out, X25519_BYTES, "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"));
  /* 6.1: both public keys from the base point, one shared secret. */
  unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a);
  unhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b);
  CHECK(mg_tls_x25519(apub, a, X25519_BASE_POINT, 1) == 0);
  CHECK(eqhex(apub, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"));
  CHECK(mg_tls_x25519(bpub, b, X25519_BASE_POINT, 1) == 0);
  CHECK(eqhex(bpub, 32, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"));
  CHECK(mg_tls_x25519(k1, a, bpub, 1) == 0 && mg_tls_x25519(k2, b, apub, 1) == 0);
  CHECK(eqhex(k1, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"));
  CHECK(memcmp(k1, k2, 32) == 0);
  /* Unclamped: a pre-clamped scalar gives the same answer. */
  a[0] &= 248, a[31] &= 127, a[31] |= 64;
  CHECK(mg_tls_x25519(out, a, bpub, 0) == 0 && memcmp(out, k1, 32) == 0);
  /* A low-order point (u = 0): all-zero result, -1. */
  memset(u, 0, sizeof(u));
  CHECK(mg_tls_x25519(out, s, u, 1) == -1);
  CHECK(mg_tls_x25519(out, NULL, u, 1) == -1);
}

/* ---- RSA (vectors from openssl, see tests/crypto_api.rs) */

struct rsa_key {
  const char *n, *e, *d, *p, *q, *dp, *dq, *qinv, *sig, *pss;
  size_t bytes;
};

static void test_rsa(const struct rsa_key *k) {
  uint8_t n[512], e[8], d[512], p[260], q[260], dp[260], dq[260], qi[260];
  uint8_t msg[64], h[32], sig[512], pss[512], em[512], out[512];
  size_t nn = unhex(k->n, n), en = unhex(k->e, e), dn = unhex(k->d, d);
  size_t pn = unhex(k->p, p), qn = unhex(k->q, q), dpn = unhex(k->dp, dp);
  size_t dqn = unhex(k->dq, dq), qin = unhex(k->qinv, qi);
  size_t mn = unhex(RSA_MSG, msg);
  CHECK(nn == k->bytes && unhex(k->sig, sig) == nn && unhex(k->pss, pss) == nn);
  mg_sha256(h, msg, mn);

  /* Public operation, then the encodings. */
  CHECK(mg_rsa_mod_pow(n, nn, e, en, sig, nn, em, nn) == 0);
  CHECK(mg_rsa_pkcs_verify(em, nn, h, 32));
  CHECK(!mg_rsa_verify(em, nn, h)); /* not a PSS encoding */
  h[0] ^= 1;
  CHECK(!mg_rsa_pkcs_verify(em, nn, h, 32));
  h[0] ^= 1;
  CHECK(!mg_rsa_pkcs_verify(em, nn, h, 20)); /* neither SHA-256 nor SHA-384 */
  CHECK(mg_rsa_mod_pow(n, nn, e, en, pss, nn, em, nn) == 0);
  CHECK(mg_rsa_verify(em, nn, h));
  em[100] ^= 1;
  CHECK(!mg_rsa_verify(em, nn, h));
  CHECK(!mg_rsa_verify(em, 10, h)); /* Mongoose: true */

  /* Private operation, plain and CRT: openssl's deterministic PKCS#1 signature back. */
  CHECK(mg_rsa_mod_pow(n, nn, e, en, sig, nn, em, nn) == 0);
  CHECK(mg_rsa_mod_pow(n, nn, d, dn, em, nn, out, nn) == 0);
  CHECK(memcmp(out, sig, nn) == 0);
  memset(out, 0, sizeof(out));
  CHECK(mg_rsa_crt_sign(em, nn, dp, dpn, dq, dqn, p, pn, q, qn, qi, qin, out, nn) == 0);
  CHECK(memcmp(out, sig, nn) == 0);
  /* In place: out and msg the same buffer. */
  memcpy(out, sig, nn);
  CHECK(mg_rsa_mod_pow(n, nn, e, en, out, nn, out, nn) == 0 && memcmp(out, em, nn) == 0);

  /* Known small answer on this modulus: 2^3 = 8; 2^(n's length) wraps below n. */
  memset(msg, 0, sizeof(msg));
  {
    uint8_t two[512], three[1] = {3};
    memset(two, 0, sizeof(two));
    two[nn - 1] = 2;
    CHECK(mg_rsa_mod_pow(n, nn, three, 1, two, nn, out, nn) == 0);
    CHECK(out[nn - 1] == 8 && out[nn - 2] == 0 && out[0] == 0);
    /* msg >= mod, even modulus, short modulus, wrong out size: -1 and out zeroed. */
    memset(out, 0x77, nn);
    CHECK(mg_rsa_mod_pow(n, nn, three, 1, n, nn, out, nn) == -1 && out[0] == 0 && out[nn - 1] == 0);
    n[nn - 1] ^= 1;
    CHECK(mg_rsa_mod_pow(n, nn, three, 1, two, nn, out, nn) == -1);
    n[nn - 1] ^= 1;
    CHECK(mg_rsa_mod_pow(n + nn - 128, 128, three, 1, two + nn - 128, 128, out, 128) == -1);
    CHECK(mg_rsa_mod_pow(n, nn, three, 1, two, nn, out, nn - 1) == -1);
    CHECK(mg_rsa_mod_pow(n, nn, three, 1, two, nn, NULL, nn) == -1);
  }
  /* CRT with a wrong factor fails and zeroes the signature. */
  p[pn - 1] ^= 2;
  memset(out, 0x77, nn);
  CHECK(mg_rsa_crt_sign(em, nn, dp, dpn, dq, dqn, p, pn, q, qn, qi, qin, out, nn) == -1);
  CHECK(out[0] == 0 && out[nn - 1] == 0);
}

/* ---- mg_uecc_parse_private_key: openssl's P-256 key in its three encodings. */
static void test_parse_key(void) {
  MG_UECC_Curve c = mg_uecc_secp256r1();
  uint8_t buf[64], der[256], pub[64];
  size_t dn = unhex(EC_DER, der);
  memset(buf, 0, sizeof(buf));
  CHECK(mg_uecc_parse_private_key(mg_str(EC_PKCS8_PEM), buf, sizeof(buf)) == 32);
  CHECK(eqhex(buf, 32, EC_PRIV));
  memset(buf, 0, sizeof(buf));
  CHECK(mg_uecc_parse_private_key(mg_str(EC_SEC1_PEM), buf, 32) == 32);
  CHECK(eqhex(buf, 32, EC_PRIV));
  memset(buf, 0, sizeof(buf));
  CHECK(mg_uecc_parse_private_key(mg_str_n((const char *) der, dn), buf, 32) == 32);
  CHECK(eqhex(buf, 32, EC_PRIV));
  /* The scalar is the key's: its public key is openssl's. */
  CHECK(mg_uecc_compute_public_key(buf, pub, c) == 1 && eqhex(pub, 64, EC_PUB));
  /* Another curve, a cut or damaged key, a short buffer, NULL: 0, buffer untouched. */
  memset(buf, 0x5a, sizeof(buf));
  CHECK(mg_uecc_parse_private_key(mg_str(EC384_PEM), buf, sizeof(buf)) == 0);
  CHECK(mg_uecc_parse_private_key(mg_str_n((const char *) der, dn - 1), buf, 32) == 0);
  der[dn / 2] ^= 0x40;
  CHECK(mg_uecc_parse_private_key(mg_str_n((const char *) der, dn), buf, 32) == 0);
  CHECK(mg_uecc_parse_private_key(mg_str("-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----\n"), buf, 32) == 0);
  CHECK(mg_uecc_parse_private_key(mg_str(""), buf, 32) == 0);
  CHECK(buf[0] == 0x5a && buf[31] == 0x5a);
  CHECK(mg_uecc_parse_private_key(mg_str(EC_PKCS8_PEM), buf, 31) == 0);
  CHECK(mg_uecc_parse_private_key(mg_str(EC_PKCS8_PEM), NULL, 32) == 0);
}

int main(void) {
  test_parse_key();
  test_uecc();
  test_vli();
  test_gcm();
  test_chacha();
  test_x25519();
  {
    static const struct rsa_key k2048 = {RSA_N, RSA_E, RSA_D, RSA_P, RSA_Q, RSA_DP, RSA_DQ,
                                         RSA_QINV, RSA_SIG_PKCS1, RSA_SIG_PSS, 256};
    static const struct rsa_key k3072 = {RSA3_N, RSA3_E, RSA3_D, RSA3_P, RSA3_Q, RSA3_DP, RSA3_DQ,
                                         RSA3_QINV, RSA3_SIG_PKCS1, RSA3_SIG_PSS, 384};
    test_rsa(&k2048);
    test_rsa(&k3072);
  }
  return CHECK_SUMMARY();
}
