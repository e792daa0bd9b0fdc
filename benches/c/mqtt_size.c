/*
 * Flash cost of MQTT (benches/mqtt.rs): the same small client built with and without the
 * MQTT calls (-DWITH_MQTT), against meerkat (through the mongoose.h shim) or Mongoose; the
 * difference in stripped text size is what MQTT adds. Never run, only linked.
 */
#include "mongoose.h"

#ifdef MEERKAT_H
#define CONN struct mg_conn
#else
#define CONN struct mg_connection *
#endif

static void fn(CONN c, int ev, void *ev_data) {
#ifdef WITH_MQTT
  if (ev == MG_EV_MQTT_OPEN) {
    struct mg_mqtt_opts o;
    memset(&o, 0, sizeof(o));
    o.topic = mg_str("device/rx");
    o.qos = 1;
    mg_mqtt_sub(c, &o);
    o.message = mg_str("hello");
    mg_mqtt_pub(c, &o);
  } else if (ev == MG_EV_MQTT_MSG) {
    struct mg_mqtt_message *mm = (struct mg_mqtt_message *) ev_data;
    printf("%.*s\n", (int) mm->data.len, mm->data.buf);
  }
#else
  if (ev == MG_EV_CONNECT) {
    mg_send(c, "hello", 5);
  } else if (ev == MG_EV_READ) {
    printf("%ld\n", *(long *) ev_data);
  }
#endif
}

int main(int argc, char *argv[]) {
  struct mg_mgr mgr;
  mg_mgr_init(&mgr);
#ifdef WITH_MQTT
  struct mg_mqtt_opts o;
  memset(&o, 0, sizeof(o));
  o.client_id = mg_str("device1");
  o.keepalive = 30;
  mg_mqtt_connect(&mgr, argc > 1 ? argv[1] : "mqtt://127.0.0.1:1883", &o, fn, NULL);
#else
  mg_connect(&mgr, argc > 1 ? argv[1] : "tcp://127.0.0.1:1883", fn, NULL);
#endif
  for (;;) mg_mgr_poll(&mgr, 1000);
  return 0;
}
