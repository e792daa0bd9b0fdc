/*
 * json-rpc: a JSON-RPC 2.0 service over HTTP, written with Mongoose 7.22's names through
 * mongoose.h (mg_rpc_*, mg_json_*, mg_iobuf, mg_pfn_iobuf, MG_ESC), plus a signed-token
 * login with mg_jwt_*.
 *
 *   ./json-rpc [URL]        default URL: http://0.0.0.0:8002
 *
 * POST /rpc with one JSON-RPC frame as the body; the reply is the response frame
 * (application/json), or 204 with no body for a notification (a frame without "id").
 *
 *   sum          [a, b]              a + b
 *   counter.inc  [n] (optional)      the counter after adding n (default 1)
 *   counter.get                      the counter
 *   login        {"user":U,"pass":P} {"token":JWT} for admin/secret, else error 401
 *   whoami       {"token":JWT}       the token's user, or error 401
 *   rpc.list                         the method names
 *
 * Unknown methods get -32601, frames that are not JSON -32700, bad params -32602, as the
 * JSON-RPC layer answers them. On SIGINT/SIGTERM it prints "calls=N" and "bye" and exits 0.
 */
#include "mongoose.h"

static volatile sig_atomic_t s_signo;
static struct mg_rpc *s_rpc_head = NULL; /* the method table, as Mongoose's tutorial keeps it */
static long s_counter, s_calls;
static const char *s_jwt_secret = "json-rpc example secret"; /* a real device keeps it in flash */

static void on_signal(int signo) {
  s_signo = signo;
}

static void rpc_sum(struct mg_rpc_req *r) {
  double a, b;
  if (!mg_json_get_num(r->frame, "$.params[0]", &a) ||
      !mg_json_get_num(r->frame, "$.params[1]", &b)) {
    mg_rpc_err(r, -32602, "%m", MG_ESC("expected [number, number]"));
  } else {
    mg_rpc_ok(r, "%g", a + b);
  }
}

static void rpc_counter_inc(struct mg_rpc_req *r) {
  s_counter += mg_json_get_long(r->frame, "$.params[0]", 1);
  mg_rpc_ok(r, "%ld", s_counter);
}

static void rpc_counter_get(struct mg_rpc_req *r) {
  mg_rpc_ok(r, "%ld", s_counter);
}

static void rpc_login(struct mg_rpc_req *r) {
  char *user = mg_json_get_str(r->frame, "$.params.user");
  char *pass = mg_json_get_str(r->frame, "$.params.pass");
  if (user != NULL && pass != NULL && strcmp(user, "admin") == 0 &&
      mg_memeq(pass, "secret", 7)) {
    char claims[100], token[300];
    struct mg_jwt_opts opts;
    memset(&opts, 0, sizeof(opts));
    mg_snprintf(claims, sizeof(claims), "{%m:%m}", MG_ESC("user"), MG_ESC(user));
    opts.claims = mg_str(claims);
    opts.secret = mg_str(s_jwt_secret);
    if (mg_jwt_sign_hs256(&opts, token, sizeof(token)) > 0) {
      mg_rpc_ok(r, "{%m:%m}", MG_ESC("token"), MG_ESC(token));
    } else {
      mg_rpc_err(r, -32603, "%m", MG_ESC("cannot sign"));
    }
  } else {
    mg_rpc_err(r, 401, "%m", MG_ESC("bad credentials"));
  }
  mg_free(user);
  mg_free(pass);
}

static void rpc_whoami(struct mg_rpc_req *r) {
  char *token = mg_json_get_str(r->frame, "$.params.token");
  char claims[200];
  struct mg_jwt_opts opts;
  memset(&opts, 0, sizeof(opts));
  opts.secret = mg_str(s_jwt_secret);
  if (token != NULL &&
      mg_jwt_verify_hs256(mg_str(token), &opts, claims, sizeof(claims)) > 0) {
    char *user = mg_json_get_str(mg_str(claims), "$.user");
    mg_rpc_ok(r, "%m", MG_ESC(user == NULL ? "" : user));
    mg_free(user);
  } else {
    mg_rpc_err(r, 401, "%m", MG_ESC("invalid token"));
  }
  mg_free(token);
}

static void fn(struct mg_conn c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_MSG) {
    struct mg_http_message *hm = (struct mg_http_message *) ev_data;
    if (mg_match(hm->uri, mg_str("/rpc"), NULL) && mg_strcmp(hm->method, mg_str("POST")) == 0) {
      struct mg_iobuf io = {NULL, 0, 0, 256};
      struct mg_rpc_req req;
      memset(&req, 0, sizeof(req));
      req.head = &s_rpc_head;
      req.pfn = mg_pfn_iobuf;
      req.pfn_data = &io;
      req.frame = hm->body;
      s_calls++;
      mg_rpc_process(&req);
      if (io.len > 0) {
        mg_http_reply(c, 200, "Content-Type: application/json\r\n", "%.*s", (int) io.len,
                      (char *) io.buf);
      } else {
        mg_http_reply(c, 204, "", "");
      }
      mg_iobuf_free(&io);
    } else {
      mg_http_reply(c, 404, "", "POST your JSON-RPC frames to /rpc\n");
    }
  }
}

int main(int argc, char *argv[]) {
  const char *url = argc > 1 ? argv[1] : "http://0.0.0.0:8002";
  struct mg_mgr mgr;
  struct sigaction sa;

  mg_rpc_add(&s_rpc_head, mg_str("sum"), rpc_sum, NULL);
  mg_rpc_add(&s_rpc_head, mg_str("counter.inc"), rpc_counter_inc, NULL);
  mg_rpc_add(&s_rpc_head, mg_str("counter.get"), rpc_counter_get, NULL);
  mg_rpc_add(&s_rpc_head, mg_str("login"), rpc_login, NULL);
  mg_rpc_add(&s_rpc_head, mg_str("whoami"), rpc_whoami, NULL);
  mg_rpc_add(&s_rpc_head, mg_str("rpc.list"), mg_rpc_list, NULL);

  mg_mgr_init(&mgr);
  if (mg_http_listen(&mgr, url, fn, NULL).h == 0) {
    fprintf(stderr, "cannot listen on %s: %s\n", url, mg_strerror(mg_last_error()));
    return 1;
  }
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  printf("listening on %s\n", url);
  fflush(stdout);
  while (s_signo == 0) mg_mgr_poll(&mgr, 1000);
  mg_mgr_free(&mgr);
  mg_rpc_del(&s_rpc_head, NULL);
  printf("calls=%ld\nbye\n", s_calls);
  return 0;
}
