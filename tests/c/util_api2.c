/*
 * The second part of Mongoose 7.22's utility API through mongoose.h, written in Mongoose's
 * idioms: JSON-RPC (mg_rpc_* into an mg_iobuf with mg_pfn_iobuf), MD5, the caller-driven
 * timers (mg_timer_expired, a timer list), the SPSC queue across two threads, mg_aton,
 * mg_check_ip_acl, MG_IPV4/MG_U32, the %M printers, mg_log_level and the event numbers.
 * Prints "N passed, M failed"; run by tests/util_api.rs (plain and ASan/UBSan builds).
 */
#include "mongoose.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"


/* ---- JSON-RPC ---------------------------------------------------------------------- */

static void rpc_sum(struct mg_rpc_req *r) {
  double a = 0, b = 0;
  mg_json_get_num(r->frame, "$.params[0]", &a);
  mg_json_get_num(r->frame, "$.params[1]", &b);
  mg_rpc_ok(r, "%g", a + b);
}

static void rpc_fail(struct mg_rpc_req *r) {
  mg_rpc_err(r, *(int *) r->rpc->fn_data, "%m", MG_ESC("no \"way\""));
}

static void rpc_null(struct mg_rpc_req *r) {
  mg_rpc_ok(r, NULL);
}

static int responses;
static void rpc_response(struct mg_rpc_req *r) {
  long v = mg_json_get_long(r->frame, "$.result", -1);
  if (v == 19) responses++;
}

/* Process one frame, return the output (static buffer). */
static const char *rpc(struct mg_rpc **head, const char *frame) {
  static char out[512];
  struct mg_iobuf io = {0, 0, 0, 32};
  struct mg_rpc_req r;
  memset(&r, 0, sizeof(r));
  r.head = head;
  r.pfn = mg_pfn_iobuf;
  r.pfn_data = &io;
  r.frame = mg_str(frame);
  mg_rpc_process(&r);
  snprintf(out, sizeof(out), "%.*s", (int) io.len, io.buf == NULL ? "" : (char *) io.buf);
  mg_iobuf_free(&io);
  return out;
}

static void test_rpc(void) {
  struct mg_rpc *head = NULL;
  static int code = 42;
  mg_rpc_add(&head, mg_str("sum"), rpc_sum, NULL);
  mg_rpc_add(&head, mg_str("fail.*"), rpc_fail, &code);
  mg_rpc_add(&head, mg_str("nothing"), rpc_null, NULL);
  mg_rpc_add(&head, mg_str(""), rpc_response, NULL);
  mg_rpc_add(&head, mg_str("rpc.list"), mg_rpc_list, NULL);

  /* JSON-RPC 2.0 specification examples (section 7), with Mongoose's reply shape. */
  CHECK_STR(rpc(&head, "{\"jsonrpc\": \"2.0\", \"method\": \"sum\", \"params\": [42, 23], \"id\": 1}"),
            "{\"id\":1,\"result\":65}");
  CHECK_STR(rpc(&head, "{\"jsonrpc\": \"2.0\", \"method\": \"sum\", \"params\": [1, 2]}"), "");
  CHECK_STR(rpc(&head, "{\"jsonrpc\": \"2.0\", \"method\": \"foobar\", \"id\": \"1\"}"),
            "{\"id\":\"1\",\"error\":{\"code\":-32601,\"message\":\"foobar not found\"}}");
  CHECK_STR(rpc(&head, "{\"jsonrpc\": \"2.0\", \"method\": \"foobar, \"params\": \"bar\", \"baz]"),
            "{\"error\":{\"code\":-32700,\"message\":\"{\\\"jsonrpc\\\": \\\"2.0\\\", "
            "\\\"method\\\": \\\"foobar, \\\"params\\\": \\\"bar\\\", \\\"baz]\"}}");
  CHECK_STR(rpc(&head, "{\"id\":[1],\"method\":\"fail.x\"}"),
            "{\"id\":[1],\"error\":{\"code\":42,\"message\":\"no \\\"way\\\"\"}}");
  CHECK_STR(rpc(&head, "{\"method\":\"fail.y\"}"),
            "{\"error\":{\"code\":42,\"message\":\"no \\\"way\\\"\"}}");
  CHECK_STR(rpc(&head, "{\"id\":null,\"method\":\"nothing\"}"), "{\"id\":null,\"result\":null}");
  CHECK_STR(rpc(&head, "{\"id\":7,\"method\":\"rpc.list\"}"),
            "{\"id\":7,\"result\":[\"rpc.list\",\"nothing\",\"fail.*\",\"sum\"]}");
  CHECK_STR(rpc(&head, "{\"jsonrpc\": \"2.0\", \"result\": 19, \"id\": 1}"), "");
  CHECK(responses == 1);
  mg_rpc_del(&head, rpc_fail);
  CHECK_STR(rpc(&head, "{\"id\":8,\"method\":\"rpc.list\"}"),
            "{\"id\":8,\"result\":[\"rpc.list\",\"nothing\",\"sum\"]}");
  mg_rpc_del(&head, NULL);
  CHECK(head == NULL);
}

/* ---- MD5 --------------------------------------------------------------------------- */

static void md5_hex(const char *s, char *out) {
  mg_md5_ctx ctx;
  unsigned char d[16];
  size_t i, n = strlen(s), half = n / 2;
  mg_md5_init(&ctx);
  mg_md5_update(&ctx, (const unsigned char *) s, half);
  mg_md5_update(&ctx, (const unsigned char *) s + half, n - half);
  mg_md5_final(&ctx, d);
  for (i = 0; i < 16; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

static void test_md5(void) {
  /* RFC 1321, appendix A.5. */
  static const char *v[][2] = {
      {"", "d41d8cd98f00b204e9800998ecf8427e"},
      {"a", "0cc175b9c0f1b6a831c399e269772661"},
      {"abc", "900150983cd24fb0d6963f7d28e17f72"},
      {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
      {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
      {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
       "d174ab98d277d9f5a5611c2c9f419d9f"},
      {"1234567890123456789012345678901234567890123456789012345678901234567890"
       "1234567890",
       "57edf4a22be3c955ac49da2e2107b67a"},
  };
  size_t i;
  char out[33];
  for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
    md5_hex(v[i][0], out);
    CHECK_STR(out, v[i][1]);
  }
  CHECK(sizeof(mg_md5_ctx) == 88);
}

/* ---- Timers ------------------------------------------------------------------------ */

static int ticks;
static void tick(void *arg) {
  ticks += *(int *) arg;
}

static void test_timers(void) {
  uint64_t t = 0;
  struct mg_list_timer *head = NULL, t1, t2, *t3;
  static int one = 1, hundred = 100, big = 10000;
  CHECK(!mg_timer_expired(&t, 1000, 5000)); /* first call starts the period */
  CHECK(!mg_timer_expired(&t, 1000, 5999));
  CHECK(mg_timer_expired(&t, 1000, 6000));
  CHECK(t == 7000);
  CHECK(mg_timer_expired(&t, 1000, 20000)); /* missed periods are not replayed */
  CHECK(t == 21000);
  CHECK(!mg_timer_expired(&t, 1000, 20999));

  mg_timer_init(&head, &t1, 10, MG_TIMER_REPEAT | MG_TIMER_RUN_NOW, tick, &one);
  mg_timer_init(&head, &t2, 25, MG_TIMER_ONCE, tick, &hundred);
  t3 = (struct mg_list_timer *) mg_calloc(1, sizeof(*t3));
  mg_timer_init(&head, t3, 5, MG_TIMER_ONCE | MG_TIMER_AUTODELETE, tick, &big);
  {
    uint64_t now;
    for (now = 0; now <= 40; now += 5) mg_timer_poll(&head, now);
  }
  /* t1: first poll, then at 10, 20, 30, 40; t2: once at 25; t3: at 5, then freed. */
  CHECK(ticks == 5 + 100 + 10000);
  CHECK(head == &t2 && t2.next == &t1 && t1.next == NULL);
  CHECK((t1.flags & MG_TIMER_CALLED) && (t2.flags & MG_TIMER_CALLED));
  mg_list_timer_free(&head, &t2);
  mg_list_timer_free(&head, &t1);
  CHECK(head == NULL);
}

/* ---- Queue ------------------------------------------------------------------------- */

#define QN 100000
static struct mg_queue queue;

static size_t qlen(unsigned i) {
  return 8 + (i * 7919u) % 120;
}

static void *producer(void *arg) {
  unsigned i = 0;
  (void) arg;
  while (i < QN) {
    char *buf;
    size_t len = qlen(i), k;
    uint32_t crc;
    if (mg_queue_book(&queue, &buf, len) < len) {
      sched_yield();
      continue;
    }
    memcpy(buf, &i, 4);
    for (k = 8; k < len; k++) buf[k] = (char) (i * 31 + k);
    crc = mg_crc32(0, buf + 8, len - 8);
    memcpy(buf + 4, &crc, 4);
    mg_queue_add(&queue, len);
    i++;
  }
  return NULL;
}

static void test_queue(void) {
  static char mem[1024];
  char *buf, small[32];
  unsigned want = 0, bad = 0;
  pthread_t th;
  struct mg_queue q;

  /* One thread: mg_queue_printf and wrong lengths. */
  mg_queue_init(&q, small, sizeof(small));
  CHECK(mg_queue_next(&q, &buf) == 0);
  CHECK(mg_queue_printf(&q, "%s=%d", "x", 42) == 4);
  CHECK(mg_queue_printf(&q, "%s", "this message is far too long for it") == 0);
  CHECK(mg_queue_next(&q, &buf) == 4 && memcmp(buf, "x=42", 4) == 0);
  mg_queue_del(&q, 3); /* not that message's length: ignored */
  CHECK(mg_queue_next(&q, &buf) == 4);
  mg_queue_del(&q, 4);
  CHECK(mg_queue_next(&q, &buf) == 0);

  /* A producer thread and this consumer thread, QN messages with checksums. */
  mg_queue_init(&queue, mem, sizeof(mem));
  if (pthread_create(&th, NULL, producer, NULL) != 0) {
    CHECK(0);
    return;
  }
  while (want < QN) {
    size_t n = mg_queue_next(&queue, &buf);
    uint32_t seq, crc;
    if (n == 0) {
      sched_yield();
      continue;
    }
    memcpy(&seq, buf, 4);
    memcpy(&crc, buf + 4, 4);
    if (n != qlen(want) || seq != want || crc != mg_crc32(0, buf + 8, n - 8)) bad++;
    mg_queue_del(&queue, n);
    want++;
  }
  pthread_join(th, NULL);
  CHECK(bad == 0);
  CHECK(mg_queue_next(&queue, &buf) == 0);
}

/* ---- Addresses, ACLs, printers ------------------------------------------------------ */

static void test_net(void) {
  struct mg_addr a;
  char buf[100];
  uint32_t ip = MG_IPV4(192, 168, 0, 1);
  static const uint8_t eui[8] = {0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55};
  static const uint8_t mac[6] = {0xaa, 0xbb, 0xcc, 0x01, 0x02, 0x03};

  CHECK(MG_U32(1, 2, 3, 4) == 0x01020304);
  memset(&a, 0, sizeof(a));
  CHECK(mg_aton(mg_str("192.168.0.1"), &a) && !a.is_ip6);
  CHECK(memcmp(&ip, a.ip, 4) == 0);
  a.port = mg_htons(8000);
  mg_snprintf(buf, sizeof(buf), "%M", mg_print_ip_port, &a);
  CHECK_STR(buf, "192.168.0.1:8000");
  CHECK(mg_aton(mg_str("localhost"), &a) && a.ip[0] == 127 && a.ip[3] == 1);
  CHECK(mg_aton(mg_str("[::1]"), &a) && a.is_ip6 && a.ip[15] == 1);
  mg_snprintf(buf, sizeof(buf), "%M", mg_print_ip, &a);
  CHECK_STR(buf, "[0:0:0:0:0:0:0:1]");
  CHECK(mg_aton(mg_str("fe80::1%2"), &a) && a.scope_id == 2);
  CHECK(!mg_aton(mg_str("1.2.3.256"), &a));
  CHECK(!mg_aton(mg_str("example.com"), &a));

  CHECK(mg_aton(mg_str("10.1.2.3"), &a));
  CHECK(mg_check_ip_acl(mg_str(""), &a) == 1);
  CHECK(mg_check_ip_acl(mg_str("+10.0.0.0/8"), &a) == 1);
  CHECK(mg_check_ip_acl(mg_str("-0.0.0.0/0,+10.1.0.0/16"), &a) == 1);
  CHECK(mg_check_ip_acl(mg_str("+10.0.0.0/8,-10.1.2.3"), &a) == 0);
  CHECK(mg_check_ip_acl(mg_str("+192.168.0.0/16"), &a) == 0);
  CHECK(mg_check_ip_acl(mg_str("10.0.0.0/8"), &a) == -1);
  CHECK(mg_check_ip_acl(mg_str("+10.0.0.0/40"), &a) == -2);

  mg_snprintf(buf, sizeof(buf), "%M", mg_print_ieee64, eui);
  CHECK_STR(buf, "02:11:22:ff:fe:33:44:55");
  mg_snprintf(buf, sizeof(buf), "%M|%M", mg_print_l2addr, 0, mac, mg_print_mac, mac);
  CHECK_STR(buf, "aa:bb:cc:01:02:03|aa:bb:cc:01:02:03");
  mg_snprintf(buf, sizeof(buf), "<p>%M</p>", mg_print_html_esc, 0, "a<b & \"c\">");
  CHECK_STR(buf, "<p>a&lt;b &amp; &quot;c&quot;&gt;</p>");
  mg_snprintf(buf, sizeof(buf), "%M", mg_print_html_esc, 3, "<<<<");
  CHECK_STR(buf, "&lt;&lt;&lt;");
}

/* ---- Logging, printing into an iobuf, events ---------------------------------------- */

static size_t logged;
static void count_log(char c, void *param) {
  (void) c, (void) param;
  logged++;
}

static void test_misc(void) {
  struct mg_iobuf io = {0, 0, 0, 0};
  char rnd[9];
  size_t n = mg_xprintf(mg_pfn_iobuf, &io, "%s-%d-%m", "abc", 42, MG_ESC("q"));
  CHECK(n == 10 && io.len == 10 && io.buf != NULL);
  if (io.buf != NULL) CHECK_STR((char *) io.buf, "abc-42-\"q\"");
  mg_iobuf_free(&io);

  mg_log_set_fn(count_log, NULL);
  mg_log_set(MG_LL_INFO);
  CHECK(mg_log_level == MG_LL_INFO);
  MG_INFO(("visible"));
  CHECK(logged > 0);
  logged = 0;
  mg_log_level = MG_LL_ERROR; /* Mongoose firmware sets the variable directly */
  MG_INFO(("hidden"));
  CHECK(logged == 0);
  mg_log_set_fn(NULL, NULL);
  mg_log_set(MG_LL_NONE);

  CHECK(mg_random_str(rnd, sizeof(rnd)) == rnd && strlen(rnd) == 8);

  /* Mongoose 7.22's event numbers, for every name meerkat declares. */
  CHECK(MG_EV_ERROR == 0 && MG_EV_OPEN == 1 && MG_EV_POLL == 2 && MG_EV_RESOLVE == 3);
  CHECK(MG_EV_CONNECT == 4 && MG_EV_ACCEPT == 5 && MG_EV_TLS_HS == 6 && MG_EV_READ == 7);
  CHECK(MG_EV_WRITE == 8 && MG_EV_CLOSE == 9 && MG_EV_HTTP_HDRS == 10 && MG_EV_HTTP_MSG == 11);
  CHECK(MG_EV_WS_OPEN == 12 && MG_EV_WS_MSG == 13 && MG_EV_WS_CTL == 14);
  CHECK(MG_EV_MQTT_CMD == 15 && MG_EV_MQTT_MSG == 16 && MG_EV_MQTT_OPEN == 17 && MG_EV_SNTP_TIME == 18);
  CHECK(MG_EV_WAKEUP == 19 && MG_EV_MDNS_REQ == 20 && MG_EV_MDNS_RESP == 21 && MG_EV_MODBUS_REQ == 22);
  CHECK(MG_EV_HTTP_CHUNK > MG_EV_MODBUS_REQ && MG_EV_USER > MG_EV_HTTP_CHUNK);
  CHECK(MG_EV_WAKEUP == 19);
}

int main(void) {
  printf("MG_VERSION %s\n", MG_VERSION);
  test_rpc();
  test_md5();
  test_timers();
  test_queue();
  test_net();
  test_misc();
  return CHECK_SUMMARY();
}
