/*
 * Issue 12's acceptance check, written as a Mongoose user writes MQTT code: connect to a
 * broker, subscribe at QoS 1, publish 100 messages at QoS 1 to the same topic, and receive
 * all 100 in order through MG_EV_MQTT_MSG, with MG_EV_MQTT_OPEN reporting CONNACK 0.
 *
 *   ./mqtt_acceptance URL [VERSION]
 *
 * VERSION 5 also sends MQTT 5 properties with every message (a user property and a content
 * type) and checks, with mg_mqtt_next_prop, that they come back. Prints a transcript:
 * "open 0", "suback", "puback 100", "received 100 in order", "props ok" (MQTT 5), "done".
 * Exit status 0 on success, 1 on a failed check, 2 on timeout.
 */
#include "mongoose.h"

#define COUNT 100

static const char *s_topic = "meerkat/acceptance";
static int s_version = 4;
static int s_received, s_pubacks, s_props_ok, s_done, s_status = 2;
static uint16_t s_ids[COUNT];

static void fail(const char *what) {
  printf("FAIL: %s\n", what);
  s_done = 1, s_status = 1;
}

static void fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_ERROR) {
    printf("error: %s\n", (char *) ev_data);
  } else if (ev == MG_EV_MQTT_OPEN) {
    int code = *(int *) ev_data;
    printf("open %d\n", code);
    if (code != 0) return fail("CONNACK");
    struct mg_mqtt_opts opts;
    memset(&opts, 0, sizeof(opts));
    opts.topic = mg_str(s_topic);
    opts.qos = 1;
    mg_mqtt_sub(c, &opts);
  } else if (ev == MG_EV_MQTT_CMD) {
    struct mg_mqtt_message *mm = (struct mg_mqtt_message *) ev_data;
    if (mm->cmd == MQTT_CMD_SUBACK) {
      printf("suback\n");
      for (int i = 0; i < COUNT; i++) {
        char buf[32];
        struct mg_mqtt_prop props[2];
        struct mg_mqtt_opts opts;
        memset(&opts, 0, sizeof(opts));
        memset(props, 0, sizeof(props));
        snprintf(buf, sizeof(buf), "message %03d", i);
        opts.topic = mg_str(s_topic);
        opts.message = mg_str(buf);
        opts.qos = 1;
        if (s_version == 5) {
          props[0].id = MQTT_PROP_USER_PROPERTY;
          props[0].key = mg_str("seq");
          props[0].val = mg_str(buf + 8);
          props[1].id = MQTT_PROP_CONTENT_TYPE;
          props[1].val = mg_str("text/plain");
          opts.props = props;
          opts.num_props = 2;
        }
        s_ids[i] = mg_mqtt_pub(c, &opts);
        if (s_ids[i] == 0) return fail("mg_mqtt_pub returned id 0 for QoS 1");
        if (i > 0 && s_ids[i] == s_ids[i - 1]) return fail("packet ids repeat");
      }
    } else if (mm->cmd == MQTT_CMD_PUBACK) {
      if (s_pubacks < COUNT && mm->id != s_ids[s_pubacks]) return fail("PUBACK out of order");
      if (++s_pubacks == COUNT) printf("puback %d\n", s_pubacks);
    }
  } else if (ev == MG_EV_MQTT_MSG) {
    struct mg_mqtt_message *mm = (struct mg_mqtt_message *) ev_data;
    char want[32];
    snprintf(want, sizeof(want), "message %03d", s_received);
    if (mm->qos != 1) return fail("QoS of the delivered message");
    if (mg_strcmp(mm->topic, mg_str(s_topic)) != 0) return fail("topic");
    if (mg_strcmp(mm->data, mg_str(want)) != 0) {
      printf("got [%.*s], want [%s]\n", (int) mm->data.len, mm->data.buf, want);
      return fail("order");
    }
    if (s_version == 5) {
      struct mg_mqtt_prop prop;
      size_t ofs = 0;
      int seen = 0;
      while ((ofs = mg_mqtt_next_prop(mm, &prop, ofs)) > 0) {
        if (prop.id == MQTT_PROP_USER_PROPERTY && mg_strcmp(prop.key, mg_str("seq")) == 0 &&
            mg_strcmp(prop.val, mg_str(want + 8)) == 0)
          seen |= 1;
        if (prop.id == MQTT_PROP_CONTENT_TYPE && mg_strcmp(prop.val, mg_str("text/plain")) == 0) seen |= 2;
      }
      if (seen == 3) s_props_ok++;
    }
    if (++s_received == COUNT) printf("received %d in order\n", s_received);
  }
  if (!s_done && s_received == COUNT && s_pubacks == COUNT) {
    if (s_version == 5) {
      if (s_props_ok != COUNT) return fail("MQTT 5 properties");
      printf("props ok\n");
    }
    mg_mqtt_disconnect(c, NULL);
    mg_drain(c);
    s_done = 1, s_status = 0;
  }
  fflush(stdout);
}

int main(int argc, char *argv[]) {
  struct mg_mgr mgr;
  struct mg_mqtt_opts opts;
  if (argc < 2) return 1;
  if (argc > 2) s_version = atoi(argv[2]);
  mg_mgr_init(&mgr);
  memset(&opts, 0, sizeof(opts));
  opts.client_id = mg_str("meerkat-acceptance");
  opts.version = (uint8_t) s_version;
  opts.clean = true;
  opts.keepalive = 30;
  struct mg_conn c = mg_mqtt_connect(&mgr, argv[1], &opts, fn, NULL);
  if (c.h == 0) return 1;
  uint64_t deadline = mg_millis() + 20000;
  while (!s_done && mg_millis() < deadline) mg_mgr_poll(&mgr, 50);
  for (int i = 0; i < 10; i++) mg_mgr_poll(&mgr, 10); /* let DISCONNECT go out */
  mg_mgr_free(&mgr);
  if (!s_done) printf("timeout: received %d, pubacks %d\n", s_received, s_pubacks);
  else if (s_status == 0) printf("done\n");
  return s_status;
}
