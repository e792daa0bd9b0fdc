// A device dashboard written against Mongoose 7.22's mg_dash API (only the handle type of
// the custom handler differs): a scalar settings set, an array set of users, a file-array
// set over a directory, an authenticate callback and a custom handler that changes a value
// and calls mg_dash_send_change. Driven by tests/dash.rs.
//
// Usage: dash_server URL DIR [guest|short]. "guest": no authenticate callback (every
// client is the guest); "short": sessions expire after 1 s. Prints "listening on URL", then "state ..." whenever the
// bound variables change, "live N" whenever the live connection count changes, and "bye"
// after SIGTERM.
#include "mongoose.h"

static struct mg_mgr s_mgr;
static volatile sig_atomic_t s_stop;
static const char *s_dir;

// The settings set: a scalar set
static int s_speed = 10;
static bool s_enabled = true;
static char s_device[16] = "pump";
static double s_temp = 21.5;       // read-only (value_size 0)
static uint64_t s_uptime = 12345;  // read-only
static char s_extra[16] = "[1,2]";  // raw JSON
static struct mg_field s_settings_fields[] = {
    {"speed", MG_VAL_INT, &s_speed, sizeof(s_speed)},
    {"enabled", MG_VAL_BOOL, &s_enabled, sizeof(s_enabled)},
    {"device", MG_VAL_STR, s_device, sizeof(s_device)},
    {"temp", MG_VAL_DBL, &s_temp, 0},
    {"uptime", MG_VAL_UINT64, &s_uptime, 0},
    {"extra", MG_VAL_RAW, s_extra, sizeof(s_extra)},
    {NULL, MG_VAL_INT, NULL, 0},
};

static bool settings_fn(enum mg_dash_op op, struct mg_dash_user *u) {
  if (op == MG_DASH_READ) return true;
  return op == MG_DASH_WRITE && u->level >= 5;  // viewers may not write
}

static struct mg_field_set s_settings = {"settings", s_settings_fields, settings_fn, NULL, NULL, NULL};

// The users set: an array set over a C array
#define MAX_USERS 4
static struct {
  char name[12];
  int level;
} s_users[MAX_USERS] = {{"alice", 3}, {"bob", 5}};
static int s_nusers = 2;
static int s_uindex;
static char s_uname[12];
static int s_ulevel;
static struct mg_field s_user_fields[] = {
    {"name", MG_VAL_STR, s_uname, sizeof(s_uname)},
    {"level", MG_VAL_INT, &s_ulevel, sizeof(s_ulevel)},
    {NULL, MG_VAL_INT, NULL, 0},
};

static bool users_fn(enum mg_dash_op op, struct mg_dash_user *u) {
  int i = s_uindex;
  if (op == MG_DASH_READ) {
    if (i == -1) {
      s_uindex = s_nusers;  // size query
    } else if (i < 0 || i >= s_nusers) {
      s_uindex = -1;  // end of iteration
    } else {
      memcpy(s_uname, s_users[i].name, sizeof(s_uname));
      s_ulevel = s_users[i].level;
    }
    return true;
  }
  if (u->level < 5) return false;
  if (op == MG_DASH_WRITE && i >= 0 && i < s_nusers) {
    memcpy(s_users[i].name, s_uname, sizeof(s_uname));
    s_users[i].level = s_ulevel;
    return true;
  }
  if (op == MG_DASH_ADD && s_nusers < MAX_USERS) {
    memcpy(s_users[s_nusers].name, s_uname, sizeof(s_uname));
    s_users[s_nusers++].level = s_ulevel;
    return true;
  }
  if (op == MG_DASH_DELETE && i >= 0 && i < s_nusers) {
    memmove(&s_users[i], &s_users[i + 1], sizeof(s_users[0]) * (size_t) (s_nusers - i - 1));
    s_nusers--;
    return true;
  }
  return false;
}

static struct mg_field_set s_users_set = {"users", s_user_fields, users_fn, &s_uindex, NULL, NULL};

// The files set: a file-array set (the example of Mongoose's header)
static struct {
  int index;
  char name[64];
  uint64_t size;
} s_file;
static struct mg_field s_file_fields[] = {
    {"name", MG_VAL_STR, s_file.name, sizeof(s_file.name)},
    {"size", MG_VAL_UINT64, &s_file.size, 0},
    {NULL, MG_VAL_INT, NULL, 0},
};
static struct mg_field_set s_files;

static bool get_dir(const struct mg_dash_user *u, char *buf, size_t len) {
  (void) u;
  mg_snprintf(buf, len, "%s", s_dir);
  return true;
}

static bool files_fn(enum mg_dash_op op, struct mg_dash_user *u) {
  if (op == MG_DASH_WRITE || op == MG_DASH_DELETE) return u->level >= 5;
  if (op != MG_DASH_READ) return false;
  return mg_dash_dir_read(&s_files, u);
}

static struct mg_field_set s_files = {"files", s_file_fields, files_fn, &s_file.index, get_dir, NULL};

static int authenticate(char *user, size_t userlen, const char *pass) {
  (void) userlen;
  if (strcmp(user, "admin") == 0 && strcmp(pass, "secret") == 0) return 7;
  if (strcmp(user, "viewer") == 0 && strcmp(pass, "look") == 0) return 1;
  if (user[0] == 'u' && strcmp(pass, "p") == 0) return 2;  // u1, u2...: many users
  return 0;
}

static struct mg_dash s_dash;

// The packed web root that "/" serves /dashboard.html from (scripts/pack.py makes these)
static const unsigned char s_html[] = "<html>dashboard</html>\n";
static const struct mg_mem_file s_packed[] = {
    {"/dashboard.html", s_html, sizeof(s_html) - 1, 0},
    {NULL, NULL, 0, 0},
};

// Custom handler: the device changes a value by itself and tells the dashboards
static void bump(struct mg_conn c, int ev, void *ev_data) {
  (void) ev_data;
  if (ev != MG_EV_HTTP_MSG) return;
  s_speed++;
  mg_dash_send_change(&s_mgr, &s_settings);
  mg_http_reply(c, 200, "", "bumped %d\n", s_speed);
}

static void on_signal(int sig) {
  (void) sig;
  s_stop = 1;
}

static void print_state(void) {
  int i;
  printf("state speed=%d enabled=%d device=%s extra=%s users=", s_speed, s_enabled ? 1 : 0,
         s_device, s_extra);
  for (i = 0; i < s_nusers; i++) printf("%s%s:%d", i ? "," : "", s_users[i].name, s_users[i].level);
  printf("\n");
  fflush(stdout);
}

int main(int argc, char *argv[]) {
  char last[512] = "", now[512];
  uint32_t live = 0;
  struct mg_conn l;
  if (argc < 3) return 2;
  s_dir = argv[2];
  signal(SIGTERM, on_signal);
  mg_mgr_init(&s_mgr);
  mg_mem_files = s_packed;
  s_dash.authenticate = argc > 3 && strcmp(argv[3], "guest") == 0 ? NULL : authenticate;
  if (argc > 3 && strcmp(argv[3], "short") == 0) s_dash.session_auto_expiration_seconds = 1;
  MG_DASH_ADD_FIELD_SET(&s_dash, &s_settings);
  MG_DASH_ADD_FIELD_SET(&s_dash, &s_users_set);
  MG_DASH_ADD_FIELD_SET(&s_dash, &s_files);
  MG_DASH_REGISTER_CUSTOM_HANDLER(&s_dash, "/test/bump", bump, NULL);
  l = mg_http_listen(&s_mgr, argv[1], mg_dash_ev_handler, &s_dash);
  if (l.h == 0) return 1;
  printf("listening on %s\n", argv[1]);
  fflush(stdout);
  while (!s_stop) {
    struct mg_stats st;
    int i, n;
    mg_mgr_poll(&s_mgr, 20);
    n = snprintf(now, sizeof(now), "%d %d %s %s", s_speed, s_enabled, s_device, s_extra);
    for (i = 0; i < s_nusers; i++) {
      n += snprintf(now + n, sizeof(now) - (size_t) n, " %s:%d", s_users[i].name, s_users[i].level);
    }
    if (strcmp(now, last) != 0) {
      print_state();
      memcpy(last, now, sizeof(last));
    }
    if (mg_mgr_stats(&s_mgr, &st) == 0 && st.live_conns != live) {
      live = st.live_conns;
      printf("live %u\n", (unsigned) live);
      fflush(stdout);
    }
  }
  mg_mgr_free(&s_mgr);
  printf("bye\n");
  return 0;
}
