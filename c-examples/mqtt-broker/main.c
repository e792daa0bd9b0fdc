/*
 * mqtt-broker: a small MQTT 3.1.1/5 broker on mg_mqtt_listen, the way Mongoose's
 * mqtt-server tutorial builds one: the library frames packets and acknowledges QoS 1/2
 * PUBLISHes; the application answers CONNECT, SUBSCRIBE, UNSUBSCRIBE and PINGREQ and
 * forwards each PUBLISH to the matching subscriptions.
 *
 *   ./mqtt-broker [URL]          default URL: mqtt://127.0.0.1:1883
 *
 * Topic filters may use + (one level) and # (the rest). A message is forwarded at the
 * lower of its QoS and the subscription's (QoS 2 is granted as 1). Prints
 * "listening on URL", then one line per client connected, subscription and close.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mongoose.h"

struct client {
  struct client *next;
  struct mg_conn c;
  uint8_t version; /* 4 or 5, from CONNECT */
};

struct sub {
  struct sub *next;
  struct mg_conn c;
  char *filter;
  uint8_t qos;
};

static struct client *s_clients;
static struct sub *s_subs;
static volatile sig_atomic_t s_signo;

static void on_signal(int signo) {
  s_signo = signo;
}

static struct client *client_of(struct mg_conn c) {
  for (struct client *p = s_clients; p != NULL; p = p->next) {
    if (p->c.h == c.h) return p;
  }
  return NULL;
}

/* Does topic `t` match filter `f` (MQTT 3.1.1 section 4.7)? */
static bool topic_match(struct mg_str f, struct mg_str t) {
  size_t i = 0, j = 0;
  if (t.len > 0 && t.buf[0] == '$' && f.len > 0 && (f.buf[0] == '+' || f.buf[0] == '#')) return false;
  while (i < f.len) {
    if (f.buf[i] == '#') return true; /* the rest, including the parent level */
    if (f.buf[i] == '+') {
      while (j < t.len && t.buf[j] != '/') j++;
      i++;
    } else {
      if (j >= t.len || f.buf[i] != t.buf[j]) {
        /* "a/#" matches "a": the filter's "/#" may stand for nothing */
        return j == t.len && i + 1 < f.len && f.buf[i] == '/' && f.buf[i + 1] == '#';
      }
      i++, j++;
    }
  }
  return j == t.len;
}

static uint16_t get16(const char *p) {
  return (uint16_t) (((uint8_t) p[0] << 8) | (uint8_t) p[1]);
}

/* Skip the fixed header of a packet: the offset of its variable header. */
static size_t body_start(struct mg_str d) {
  size_t i = 1;
  while (i < d.len && (d.buf[i] & 0x80)) i++;
  return i + 1;
}

/* Skip an MQTT 5 property section at `i` (a variable integer length, then the properties). */
static size_t skip_props(struct mg_str d, size_t i) {
  size_t n = 0, shift = 0;
  while (i < d.len) {
    uint8_t b = (uint8_t) d.buf[i++];
    n |= (size_t) (b & 0x7f) << shift;
    shift += 7;
    if (!(b & 0x80)) break;
  }
  return i + n;
}

static void on_connect(struct mg_conn c, struct mg_mqtt_message *mm) {
  struct mg_str d = mm->dgram;
  size_t i = body_start(d);
  uint8_t version = (i + 6 < d.len) ? (uint8_t) d.buf[i + 6] : 4;
  struct client *cl = client_of(c);
  if (cl == NULL && (cl = (struct client *) calloc(1, sizeof(*cl))) != NULL) {
    cl->c = c;
    cl->next = s_clients;
    s_clients = cl;
  }
  if (cl != NULL) cl->version = version == 5 ? 5 : 4;
  /* CONNACK: no session present, accepted (MQTT 5: and no properties). */
  uint8_t ack[3] = {0, 0, 0};
  mg_mqtt_send_header(c, MQTT_CMD_CONNACK, 0, version == 5 ? 3 : 2);
  mg_send(c, ack, version == 5 ? 3 : 2);
  printf("client connected, MQTT version %d\n", version);
}

static void on_subscribe(struct mg_conn c, struct mg_mqtt_message *mm, bool sub) {
  struct client *cl = client_of(c);
  bool v5 = cl != NULL && cl->version == 5;
  struct mg_str d = mm->dgram;
  size_t i = body_start(d) + 2; /* after the packet id */
  uint8_t codes[64];
  size_t n = 0;
  if (v5) i = skip_props(d, i);
  while (i + 2 <= d.len && n < sizeof(codes)) {
    size_t len = get16(d.buf + i);
    struct mg_str topic = mg_str_n(d.buf + i + 2, len);
    i += 2 + len;
    if (i > d.len) break;
    if (sub) {
      uint8_t qos = i < d.len ? (uint8_t) (d.buf[i++] & 3) : 0;
      struct sub *s = (struct sub *) calloc(1, sizeof(*s));
      if (s == NULL) break;
      s->c = c;
      s->filter = mg_mprintf("%.*s", (int) topic.len, topic.buf);
      s->qos = qos > 1 ? 1 : qos;
      s->next = s_subs;
      s_subs = s;
      codes[n++] = s->qos;
      printf("subscribed: %s QoS %d\n", s->filter, s->qos);
    } else {
      for (struct sub **pp = &s_subs; *pp != NULL;) {
        struct sub *s = *pp;
        if (s->c.h == c.h && strlen(s->filter) == topic.len && memcmp(s->filter, topic.buf, topic.len) == 0) {
          *pp = s->next;
          free(s->filter);
          free(s);
        } else {
          pp = &s->next;
        }
      }
      codes[n++] = 0;
    }
  }
  uint8_t id[2] = {(uint8_t) (mm->id >> 8), (uint8_t) mm->id};
  uint8_t zero = 0;
  size_t ncodes = (sub || v5) ? n : 0;
  mg_mqtt_send_header(c, sub ? MQTT_CMD_SUBACK : MQTT_CMD_UNSUBACK, 0, (uint32_t) (2 + (v5 ? 1 : 0) + ncodes));
  mg_send(c, id, 2);
  if (v5) mg_send(c, &zero, 1);
  mg_send(c, codes, ncodes);
}

static void on_publish(struct mg_mqtt_message *mm) {
  for (struct sub *s = s_subs; s != NULL; s = s->next) {
    if (!topic_match(mg_str(s->filter), mm->topic)) continue;
    struct mg_mqtt_opts pub;
    memset(&pub, 0, sizeof(pub));
    pub.topic = mm->topic;
    pub.message = mm->data;
    pub.qos = mm->qos < s->qos ? mm->qos : s->qos;
    mg_mqtt_pub(s->c, &pub);
  }
}

static void fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_MQTT_CMD) {
    struct mg_mqtt_message *mm = (struct mg_mqtt_message *) ev_data;
    switch (mm->cmd) {
      case MQTT_CMD_CONNECT: on_connect(c, mm); break;
      case MQTT_CMD_SUBSCRIBE: on_subscribe(c, mm, true); break;
      case MQTT_CMD_UNSUBSCRIBE: on_subscribe(c, mm, false); break;
      case MQTT_CMD_PUBLISH: on_publish(mm); break;
      case MQTT_CMD_PINGREQ: mg_mqtt_pong(c); break;
      case MQTT_CMD_DISCONNECT: mg_drain(c); break;
      default: break;
    }
  } else if (ev == MG_EV_ERROR) {
    printf("error: %s\n", (char *) ev_data);
  } else if (ev == MG_EV_CLOSE) {
    for (struct sub **pp = &s_subs; *pp != NULL;) {
      struct sub *s = *pp;
      if (s->c.h == c.h) {
        *pp = s->next;
        free(s->filter);
        free(s);
      } else {
        pp = &s->next;
      }
    }
    for (struct client **pp = &s_clients; *pp != NULL; pp = &(*pp)->next) {
      if ((*pp)->c.h == c.h) {
        struct client *cl = *pp;
        *pp = cl->next;
        free(cl);
        printf("client closed\n");
        break;
      }
    }
  }
  fflush(stdout);
}

int main(int argc, char *argv[]) {
  const char *url = argc > 1 ? argv[1] : "mqtt://127.0.0.1:1883";
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
  if (mg_mqtt_listen(&mgr, url, fn, NULL).h == 0) {
    fprintf(stderr, "cannot listen on %s: %s\n", url, mg_strerror(mg_last_error()));
    return 1;
  }
  printf("listening on %s\n", url);
  fflush(stdout);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  while (s_signo == 0) mg_mgr_poll(&mgr, 100);
  mg_mgr_free(&mgr);
  printf("bye\n");
  return 0;
}
