/*
 * mqtt-client: an MQTT client that stays connected to a broker, the way firmware does.
 *
 *   ./mqtt-client URL [COUNT [CA.pem]]
 *
 * URL is the broker: mqtt://host[:port] (1883 by default) or mqtts://host[:port] (8883;
 * CA.pem then lists the certificates trusted to sign the broker's). On every connection the
 * client subscribes to meerkat/example/rx at QoS 1 and, once the SUBACK is in, publishes
 * COUNT messages (default 3) "hello N" to that same topic at QoS 1; it prints what it
 * receives:
 *
 *   connected: CONNACK 0
 *   subscribed: meerkat/example/rx
 *   received: meerkat/example/rx hello 1
 *   ...
 *
 * When the connection fails or drops, it connects again after a back-off that doubles from
 * 250 ms up to 8 s ("reconnecting in N ms"), and is reset by a successful CONNACK. It exits
 * with status 0 after receiving COUNT messages (COUNT 0: runs until killed), 1 after a
 * refused CONNACK, 2 when nothing was received within 20 s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mongoose.h"

static const char *s_url;
static const char *s_topic = "meerkat/example/rx";
static struct mg_str s_ca;
static struct mg_conn s_conn;     /* {0} while not connected */
static unsigned s_backoff = 250;  /* ms before the next attempt */
static uint64_t s_retry_at;       /* mg_millis() of the next attempt; 0: none */
static int s_count = 3, s_received, s_sent, s_done, s_exit_code;

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

static void fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_CONNECT && mg_url_is_ssl(s_url)) {
    struct mg_tls_opts opts;
    memset(&opts, 0, sizeof(opts));
    opts.ca = s_ca; /* the broker's name is checked against the URL's host */
    mg_tls_init(c, &opts);
  } else if (ev == MG_EV_ERROR) {
    printf("error: %s\n", (char *) ev_data);
  } else if (ev == MG_EV_MQTT_OPEN) {
    int code = *(int *) ev_data;
    printf("connected: CONNACK %d\n", code);
    if (code != 0) {
      s_done = 1, s_exit_code = 1;
      return;
    }
    s_backoff = 250;
    struct mg_mqtt_opts sub;
    memset(&sub, 0, sizeof(sub));
    sub.topic = mg_str(s_topic);
    sub.qos = 1;
    mg_mqtt_sub(c, &sub);
  } else if (ev == MG_EV_MQTT_CMD) {
    struct mg_mqtt_message *mm = (struct mg_mqtt_message *) ev_data;
    if (mm->cmd == MQTT_CMD_SUBACK) {
      printf("subscribed: %s\n", s_topic);
      for (int i = 0; i < s_count; i++) {
        char msg[32];
        struct mg_mqtt_opts pub;
        memset(&pub, 0, sizeof(pub));
        snprintf(msg, sizeof(msg), "hello %d", ++s_sent);
        pub.topic = mg_str(s_topic);
        pub.message = mg_str(msg);
        pub.qos = 1;
        mg_mqtt_pub(c, &pub);
      }
    }
  } else if (ev == MG_EV_MQTT_MSG) {
    struct mg_mqtt_message *mm = (struct mg_mqtt_message *) ev_data;
    printf("received: %.*s %.*s\n", (int) mm->topic.len, mm->topic.buf, (int) mm->data.len,
           mm->data.buf);
    if (s_count > 0 && ++s_received >= s_count) s_done = 1;
  } else if (ev == MG_EV_CLOSE) {
    s_conn.h = 0;
    if (!s_done) {
      printf("reconnecting in %u ms\n", s_backoff);
      s_retry_at = mg_millis() + s_backoff;
      s_backoff = s_backoff * 2 > 8000 ? 8000 : s_backoff * 2;
    }
  }
  fflush(stdout);
}

static void connect_now(struct mg_mgr *mgr) {
  struct mg_mqtt_opts opts;
  memset(&opts, 0, sizeof(opts));
  opts.client_id = mg_str("meerkat-example");
  opts.clean = true;
  opts.keepalive = 10;
  s_retry_at = 0;
  s_conn = mg_mqtt_connect(mgr, s_url, &opts, fn, NULL);
  if (s_conn.h == 0) { /* a bad URL: no point in retrying */
    printf("cannot connect to %s: %s\n", s_url, mg_strerror(mg_last_error()));
    s_done = 1, s_exit_code = 1;
  }
}

int main(int argc, char *argv[]) {
  struct mg_mgr mgr;
  if (argc < 2) {
    fprintf(stderr, "usage: %s URL [COUNT [CA.pem]]\n", argv[0]);
    return 1;
  }
  s_url = argv[1];
  if (argc > 2) s_count = atoi(argv[2]);
  if (argc > 3 && read_file(argv[3], &s_ca) != 0) {
    fprintf(stderr, "cannot read %s\n", argv[3]);
    return 1;
  }
  mg_mgr_init(&mgr);
  connect_now(&mgr);
  uint64_t deadline = mg_millis() + 20000;
  while (!s_done) {
    mg_mgr_poll(&mgr, 50);
    if (s_conn.h == 0 && s_retry_at != 0 && mg_millis() >= s_retry_at) connect_now(&mgr);
    if (s_count > 0 && mg_millis() > deadline) {
      printf("timed out: %d of %d messages received\n", s_received, s_count);
      s_done = 1, s_exit_code = 2;
    }
  }
  mg_mgr_free(&mgr);
  free(s_ca.buf);
  return s_exit_code;
}
