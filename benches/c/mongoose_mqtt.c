/*
 * MQTT client load for benches/mqtt.rs, on Mongoose (the same program as meerkat_mqtt.c,
 * with Mongoose's connection pointers). Built against mongoose.c from MQTT_BENCH_MONGOOSE.
 *
 *   ./mongoose_mqtt URL qos0 N    publish N QoS 0 messages of 64 bytes as fast as the send
 *                                buffer drains (kept under 256 KiB), then one QoS 1 message
 *                                whose PUBACK says the broker has read them all
 *   ./mongoose_mqtt URL qos1 N    subscribe at QoS 1, then N round trips: publish at QoS 1,
 *                                wait until the message comes back, publish the next
 *
 * Prints "elapsed_us T count N" and exits 0, or exits 1 on failure / after 60 s.
 */
#include "mongoose.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PENDING_MAX (256 * 1024)

static const char *s_mode;
static long s_n, s_sent, s_got;
static int s_state; /* 0 connecting, 1 running, 2 done, 3 failed */
static uint16_t s_fence;
static uint64_t s_t0;
static char s_payload[64];

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static uint16_t pub(struct mg_connection *c, int qos) {
  struct mg_mqtt_opts o;
  memset(&o, 0, sizeof(o));
  o.topic = mg_str("bench/t");
  o.message = mg_str_n(s_payload, sizeof(s_payload));
  o.qos = (uint8_t) qos;
  return mg_mqtt_pub(c, &o);
}

static void pump(struct mg_connection *c) {
  if (s_state != 1 || strcmp(s_mode, "qos0") != 0 || s_fence != 0) return;
  while (s_sent < s_n) {
    if (c->send.len > PENDING_MAX) return;
    pub(c, 0);
    s_sent++;
  }
  s_fence = pub(c, 1);
}

static void fn(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_ERROR) {
    fprintf(stderr, "error: %s\n", (char *) ev_data);
    s_state = 3;
  } else if (ev == MG_EV_MQTT_OPEN) {
    if (*(uint8_t *) ev_data != 0) s_state = 3;
    if (strcmp(s_mode, "qos1") == 0) {
      struct mg_mqtt_opts o;
      memset(&o, 0, sizeof(o));
      o.topic = mg_str("bench/t");
      o.qos = 1;
      mg_mqtt_sub(c, &o);
    } else {
      s_state = 1;
      s_t0 = now_us();
      pump(c);
    }
  } else if (ev == MG_EV_MQTT_CMD) {
    struct mg_mqtt_message *mm = (struct mg_mqtt_message *) ev_data;
    if (mm->cmd == 9 && s_state == 0) {
      s_state = 1;
      s_t0 = now_us();
      pub(c, 1);
      s_sent++;
    } else if (mm->cmd == 4 && s_fence != 0 && mm->id == s_fence) {
      s_state = 2;
    }
  } else if (ev == MG_EV_MQTT_MSG) {
    if (++s_got >= s_n) {
      s_state = 2;
    } else {
      pub(c, 1);
      s_sent++;
    }
  } else if (ev == MG_EV_WRITE || ev == MG_EV_POLL) {
    pump(c);
  } else if (ev == MG_EV_CLOSE && s_state != 2) {
    s_state = 3;
  }
}

int main(int argc, char *argv[]) {
  struct mg_mgr mgr;
  struct mg_mqtt_opts opts;
  if (argc < 4) return 1;
  s_mode = argv[2];
  s_n = atol(argv[3]);
  memset(s_payload, 'x', sizeof(s_payload));
  mg_log_set(0);
  mg_mgr_init(&mgr);
  memset(&opts, 0, sizeof(opts));
  opts.clean = true;
  opts.client_id = mg_str("bench-mongoose");
  mg_mqtt_connect(&mgr, argv[1], &opts, fn, NULL);
  uint64_t deadline = mg_millis() + 60000;
  while (s_state < 2 && mg_millis() < deadline) mg_mgr_poll(&mgr, 10);
  uint64_t t1 = now_us();
  mg_mgr_free(&mgr);
  if (s_state != 2) return 1;
  printf("elapsed_us %llu count %ld\n", (unsigned long long) (t1 - s_t0), s_n);
  return 0;
}
