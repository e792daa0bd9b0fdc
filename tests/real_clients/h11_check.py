#!/usr/bin/env python3
"""Strict HTTP/1.1 checks of the c-examples/http-server program, with h11 as the parser.

    h11_check.py HOST PORT WEB_ROOT [SCENARIO ...]

Each scenario opens one TCP connection to HOST:PORT, sends a list of requests (one at a
time, all pipelined in one write, or dribbled a few bytes at a time) and parses every
response with h11 (h11.Connection(h11.CLIENT)): any h11.RemoteProtocolError fails the
scenario. The request bytes are written here (h11 always writes "HTTP/1.1" in a request
line, and some requests are malformed on purpose); h11 is told about each request through
a parse-side Connection so that it frames the response as the request demands (HEAD: no
body; HTTP/1.0: the connection ends after the response).

Checked for every response: the status code, the body (files under WEB_ROOT byte for byte,
ranges, JSON answers), Content-Type, that a HEAD response has no body and the Content-Length
a GET would have, and when the connection closes: right after a response that must end it
(HTTP/1.0 without keep-alive, "Connection: close", a 400 for a malformed request) with
nothing after it, and never otherwise (the connection must still be open, silent, at the
end of a scenario that does not close it).

Prints one line per scenario, then "h11_check: S scenarios, R responses, F failed". Exits 1
when anything failed, with the exact bytes sent and received for each failure.
"""

import json
import os
import socket
import sys
import time
import urllib.parse

import h11

TIMEOUT = 5.0  # seconds for any single wait on the server
QUIET = 0.3  # seconds of silence that count as "the connection stays open and says nothing"

HOST = "127.0.0.1"
PORT = 0
WEB_ROOT = "."


class Fail(Exception):
    pass


def file_bytes(name):
    with open(os.path.join(WEB_ROOT, name), "rb") as f:
        return f.read()


MIME = {
    ".html": ("text/html",),
    ".css": ("text/css",),
    ".js": ("text/javascript", "application/javascript"),
    ".png": ("image/png",),
}


def chunked(body, size=7):
    out = b""
    for i in range(0, len(body), size):
        part = body[i : i + size]
        out += b"%x\r\n%s\r\n" % (len(part), part)
    return out + b"0\r\n\r\n"


class Req:
    """One request, its exact bytes, and what its response must be.

    closes: True when the server must close the connection after answering (and answer
    nothing after it); False when it must keep it open. Derived from the version and the
    Connection header unless given.
    """

    def __init__(self, method, target, headers=(), body=b"", version="1.1", status=200,
                 check=None, closes=None, te_chunked=False, raw=None, expect_continue=False,
                 headers_fn=None, label=None):
        self.method = method
        self.target = target
        self.version = version
        self.status = status
        self.check = check
        self.body = body
        self.te_chunked = te_chunked
        self.raw = raw
        self.expect_continue = expect_continue
        self.headers_fn = headers_fn
        self.label = label or ("%s %s HTTP/%s" % (method, target, version))
        hs = list(headers)
        if not any(k.lower() == "host" for k, _ in hs):
            hs.insert(0, ("Host", "%s:%d" % (HOST, PORT)))
        if te_chunked:
            hs.append(("Transfer-Encoding", "chunked"))
        elif body or method in ("POST", "PUT"):
            hs.append(("Content-Length", str(len(body))))
        if expect_continue:
            hs.append(("Expect", "100-continue"))
        self.headers = hs
        if closes is None:
            conn = ",".join(v.lower() for k, v in hs if k.lower() == "connection")
            if version == "1.0":
                closes = "keep-alive" not in conn
            else:
                closes = "close" in conn
        self.closes = closes

    def head_bytes(self, state):
        hs = list(self.headers)
        if self.headers_fn:
            hs += self.headers_fn(state)
        out = b"%s %s HTTP/%s\r\n" % (self.method.encode(), self.target.encode(), self.version.encode())
        for k, v in hs:
            out += b"%s: %s\r\n" % (k.encode(), v.encode())
        return out + b"\r\n", hs

    def wire(self, state):
        if self.raw is not None:
            return self.raw
        head, _ = self.head_bytes(state)
        return head + (chunked(self.body) if self.te_chunked else self.body)

    def tell_h11(self, conn, state):
        """Make the parse-side h11 connection expect this request's response."""
        if self.raw is not None:
            # A malformed request: the response is framed as for a bodiless GET.
            conn.send(h11.Request(method="GET", target="/", headers=[("Host", "x")], http_version="1.1"))
            conn.send(h11.EndOfMessage())
            return
        _, hs = self.head_bytes(state)
        if self.version == "1.0":
            # h11 only sends HTTP/1.1. The framing it expects for the response is the same
            # as for a 1.1 request with "Connection: close" (1.0 without keep-alive) or
            # without it (1.0 keep-alive: check_response demands "Connection: keep-alive").
            hs = [(k, v) for k, v in hs if k.lower() not in ("transfer-encoding", "expect", "connection")]
            if self.closes:
                hs.append(("Connection", "close"))
        conn.send(h11.Request(method=self.method, target=self.target, headers=hs))
        if self.body:
            conn.send(h11.Data(data=self.body))
        conn.send(h11.EndOfMessage())


# ---- what responses must look like ----------------------------------------------------------


def header(resp, name):
    vals = [v.decode("latin-1") for k, v in resp.headers if k.decode("latin-1").lower() == name.lower()]
    return ", ".join(vals) if vals else None


def check_type(resp, allowed):
    ct = (header(resp, "Content-Type") or "").split(";")[0].strip().lower()
    if ct not in allowed:
        raise Fail("Content-Type %r, expected one of %r" % (ct, allowed))


def is_file(name):
    data = file_bytes(name)

    def check(req, resp, body, state):
        if req.method == "HEAD":
            if header(resp, "Content-Length") != str(len(data)):
                raise Fail("HEAD Content-Length %r, the file has %d bytes" % (header(resp, "Content-Length"), len(data)))
        elif body != data:
            raise Fail("body (%d bytes) differs from %s (%d bytes), it starts %r" % (len(body), name, len(data), body[:80]))
        check_type(resp, MIME[os.path.splitext(name)[1]])
        state.setdefault("etag", {})[name] = header(resp, "ETag")

    return check


def is_range(name, first, last):
    data = file_bytes(name)

    def check(req, resp, body, state):
        want = data[first : last + 1]
        if body != want:
            raise Fail("range %d-%d of %s: got %d bytes %r..." % (first, last, name, len(body), body[:40]))
        cr = header(resp, "Content-Range")
        if cr != "bytes %d-%d/%d" % (first, last, len(data)):
            raise Fail("Content-Range %r" % cr)
        check_type(resp, MIME[os.path.splitext(name)[1]])

    return check


def is_unsatisfiable(name):
    size = len(file_bytes(name))

    def check(req, resp, body, state):
        cr = header(resp, "Content-Range")
        if cr != "bytes */%d" % size:
            raise Fail("416 Content-Range %r, expected 'bytes */%d'" % (cr, size))

    return check


def is_json(pred=None):
    def check(req, resp, body, state):
        check_type(resp, ("application/json",))
        if req.method == "HEAD":
            return
        try:
            obj = json.loads(body)
        except ValueError as e:
            raise Fail("body is not JSON (%s): %r" % (e, body[:200]))
        if pred is not None:
            why = pred(obj)
            if why:
                raise Fail("JSON %r: %s" % (obj, why))

    return check


def stats_json():
    return is_json(lambda o: None if {"uptime_ms", "requests", "live_conns"} <= set(o) else "missing stats keys")


def slow_json(ident):
    return is_json(lambda o: None if o.get("id") == ident and 50 <= o.get("delay_ms", 0) <= 200
                   else "expected id %r and 50 <= delay_ms <= 200" % ident)


def sum_json(total):
    return is_json(lambda o: None if o.get("sum") == total else "expected sum %r" % total)


def echo_json(text):
    return is_json(lambda o: None if o.get("text") == text else "expected text %r" % text)


def err_json():
    return is_json(lambda o: None if "error" in o else "expected an error field")


def if_none_match(name):
    return lambda state: [("If-None-Match", state["etag"][name])]


# ---- running one scenario --------------------------------------------------------------------


class Wire:
    """The socket, and every byte that crossed it (for failure reports)."""

    def __init__(self):
        self.sock = socket.create_connection((HOST, PORT), timeout=TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sent = b""
        self.received = b""
        self.eof = False

    def send(self, data, dribble=0):
        if dribble:
            for i in range(0, len(data), dribble):
                self.sock.sendall(data[i : i + dribble])
                time.sleep(0.002)
        else:
            self.sock.sendall(data)
        self.sent += data

    def recv(self, timeout=TIMEOUT):
        self.sock.settimeout(timeout)
        data = self.sock.recv(65536)
        self.received += data
        if not data:
            self.eof = True
        return data


def next_response(conn, wire, req, n):
    """Parse the response to request n: (Response, body bytes, informational responses)."""
    resp, body, info = None, b"", []
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            ev = conn.next_event()
        except h11.RemoteProtocolError as e:
            raise Fail("h11 RemoteProtocolError in response %d (%s): %s" % (n, req.label, e))
        if ev is h11.NEED_DATA:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail("no complete response %d (%s) within %.0f s" % (n, req.label, TIMEOUT))
            try:
                conn.receive_data(wire.recv(left))
            except socket.timeout:
                raise Fail("no complete response %d (%s) within %.0f s" % (n, req.label, TIMEOUT))
            except ConnectionResetError:
                raise Fail("connection reset before response %d (%s) was complete" % (n, req.label))
        elif isinstance(ev, h11.InformationalResponse):
            info.append(ev)
        elif isinstance(ev, h11.Response):
            resp = ev
        elif isinstance(ev, h11.Data):
            body += ev.data
        elif isinstance(ev, h11.EndOfMessage):
            return resp, body, info
        elif isinstance(ev, h11.ConnectionClosed):
            raise Fail("server closed the connection instead of answering request %d (%s)" % (n, req.label))
        else:
            raise Fail("unexpected h11 event %r" % (ev,))


def expect_closed(wire, conn, after):
    """After a response that ends the connection: EOF, and not one more byte."""
    tail, _ = conn.trailing_data
    if tail:
        raise Fail("bytes after the response that closes the connection (%s): %r" % (after, tail[:200]))
    deadline = time.monotonic() + TIMEOUT
    while not wire.eof:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Fail("connection still open %.0f s after the response that closes it (%s)" % (TIMEOUT, after))
        try:
            data = wire.recv(left)
        except socket.timeout:
            continue
        except ConnectionResetError:
            # A reset after the complete response (unread pipelined requests) still ends it.
            return
        if data:
            raise Fail("bytes after the response that closes the connection (%s): %r" % (after, data[:200]))


def expect_open(wire, conn, after):
    """At the end of a scenario that keeps the connection: open, idle, no stray bytes."""
    tail, closed = conn.trailing_data
    if tail:
        raise Fail("stray bytes after the last response (%s): %r" % (after, tail[:200]))
    if closed or conn.their_state is h11.MUST_CLOSE:
        raise Fail("the server ends the connection after %s, which asked for keep-alive" % after)
    try:
        data = wire.recv(QUIET)
    except socket.timeout:
        return
    except ConnectionResetError:
        raise Fail("connection reset after %s, which asked for keep-alive" % after)
    if data:
        raise Fail("stray bytes after the last response (%s): %r" % (after, data[:200]))
    raise Fail("the server closed the connection after %s, which asked for keep-alive" % after)


def check_response(req, resp, body, info, state):
    if resp.status_code != req.status:
        raise Fail("status %d, expected %d; body %r" % (resp.status_code, req.status, body[:200]))
    if req.method == "HEAD" and body:
        raise Fail("HEAD response with a body: %r" % body[:80])
    if resp.status_code in (204, 304) and body:
        raise Fail("%d response with a body" % resp.status_code)
    if info and not (req.expect_continue and req.version == "1.1"):
        raise Fail("interim responses %r to a request without Expect: 100-continue" % info)
    conn_hdr = (header(resp, "Connection") or "").lower()
    if req.closes and req.version == "1.1" and "close" not in conn_hdr:
        raise Fail("the response that ends the connection has no 'Connection: close' (Connection: %r)" % conn_hdr)
    if not req.closes and "close" in conn_hdr:
        raise Fail("'Connection: close' on a response to a keep-alive request")
    if not req.closes and req.version == "1.0" and "keep-alive" not in conn_hdr:
        raise Fail("HTTP/1.0 keep-alive request, but the response lacks 'Connection: keep-alive'")
    if req.check:
        req.check(req, resp, body, state)


def clip(b, n=900):
    if len(b) <= n:
        return repr(b)
    return "%r ... (%d bytes in all) ... %r" % (b[: n - 200], len(b), b[-200:])


def run(mode, reqs, dribble=0):
    """mode: 'seq' (send one, read its response), 'pipe' (send all at once, then read)."""
    wire = Wire()
    conn = h11.Connection(h11.CLIENT)
    state = {}
    answered = 0
    try:
        if mode == "pipe":
            wire.send(b"".join(r.wire(state) for r in reqs), dribble)
        for n, req in enumerate(reqs):
            if n > 0:
                if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
                    conn.start_next_cycle()
                else:
                    # After an HTTP/1.0 keep-alive exchange h11 wants to close; carry what
                    # is left over into a fresh parser for the next response.
                    tail, closed = conn.trailing_data
                    conn = h11.Connection(h11.CLIENT)
                    conn.receive_data(tail)
                    if closed:
                        conn.receive_data(b"")
            if mode == "seq":
                if req.expect_continue:
                    head, _ = req.head_bytes(state)
                    wire.send(head)
                    req.tell_h11(conn, state)
                    got_100 = False
                    while not got_100:
                        ev = conn.next_event()
                        if ev is h11.NEED_DATA:
                            try:
                                conn.receive_data(wire.recv())
                            except socket.timeout:
                                raise Fail("no 100 Continue within %.0f s after the head of %s" % (TIMEOUT, req.label))
                        elif isinstance(ev, h11.InformationalResponse) and ev.status_code == 100:
                            got_100 = True
                        else:
                            raise Fail("expected 100 Continue, got %r" % (ev,))
                    wire.send(req.body)
                    resp, body, info = next_response(conn, wire, req, n)
                    info = [h11.InformationalResponse(status_code=100, headers=[])] + info
                else:
                    wire.send(req.wire(state), dribble)
                    req.tell_h11(conn, state)
                    resp, body, info = next_response(conn, wire, req, n)
            else:
                req.tell_h11(conn, state)
                resp, body, info = next_response(conn, wire, req, n)
            try:
                check_response(req, resp, body, info, state)
            except Fail as e:
                raise Fail("response %d (%s): %s" % (n, req.label, e))
            answered += 1
            if req.closes:
                expect_closed(wire, conn, req.label)
                break
        else:
            expect_open(wire, conn, reqs[-1].label)
        return answered, None
    except (Fail, h11.ProtocolError) as e:
        # Gather what else the server sends, for the report.
        try:
            while not wire.eof and wire.recv(0.2):
                pass
        except (socket.timeout, OSError):
            pass
        return answered, "%s\n    sent:     %s\n    received: %s" % (e, clip(wire.sent), clip(wire.received))
    finally:
        wire.sock.close()


# ---- the scenarios -----------------------------------------------------------------------------

FILES = ["index.html", "style.css", "app.js", "logo.png"]


def mixed(ident):
    """A bit of everything the example serves, all answerable on a kept-alive connection."""
    return [
        Req("GET", "/", check=is_file("index.html")),
        Req("GET", "/style.css", check=is_file("style.css")),
        Req("HEAD", "/app.js", check=is_file("app.js")),
        Req("GET", "/app.js", check=is_file("app.js")),
        Req("GET", "/logo.png", check=is_file("logo.png")),
        Req("HEAD", "/logo.png", check=is_file("logo.png")),
        Req("GET", "/api/stats", check=stats_json()),
        Req("HEAD", "/api/stats", check=is_json()),
        Req("GET", "/api/echo?text=" + urllib.parse.quote("hi \"there\" & <you>"),
            check=echo_json("hi \"there\" & <you>")),
        Req("POST", "/api/sum", [("Content-Type", "application/json")], b'{"a":1,"b":2}', check=sum_json(3)),
        Req("POST", "/api/sum", [("Content-Type", "application/x-www-form-urlencoded")], b"a=40&b=2",
            check=sum_json(42)),
        Req("POST", "/api/sum", [("Content-Type", "application/json")], b'{"a":2.5,"b":-1}', te_chunked=True,
            check=sum_json(1.5)),
        Req("GET", "/api/slow?id=" + ident, check=slow_json(ident)),
        Req("GET", "/index.html", check=is_file("index.html")),
        Req("GET", "/nope.txt", status=404),
        Req("GET", "/api/nope", status=404, check=err_json()),
        Req("PUT", "/api/sum", body=b"12345", status=405, check=err_json()),
        Req("GET", "/api/sum", status=405, check=err_json()),
        Req("POST", "/style.css", body=b"x=1", status=405),
        Req("POST", "/api/sum", body=b"a=1", status=400, check=err_json()),
        Req("GET", "/app.js", [("Range", "bytes=0-99")], status=206, check=is_range("app.js", 0, 99)),
        Req("GET", "/logo.png", [("Range", "bytes=100-199")], status=206, check=is_range("logo.png", 100, 199)),
        Req("GET", "/style.css", [("Range", "bytes=99999999-")], status=416, check=is_unsatisfiable("style.css")),
        Req("HEAD", "/style.css", [("Range", "bytes=0-9")], check=is_file("style.css")),  # ranges: GET only
        Req("GET", "/logo.png", check=is_file("logo.png")),
    ]


def scenarios():
    css, js, png = file_bytes("style.css"), file_bytes("app.js"), file_bytes("logo.png")
    s = {}
    s["sequential_keepalive"] = ("seq", mixed("seq-1") + [
        Req("GET", "/style.css", status=304, headers_fn=if_none_match("style.css"), label="GET /style.css If-None-Match"),
        Req("HEAD", "/style.css", status=304, headers_fn=if_none_match("style.css"), label="HEAD /style.css If-None-Match"),
        Req("GET", "/api/stats", check=stats_json()),
    ], 0)
    s["pipelined_keepalive"] = ("pipe", mixed("pipe-1"), 0)
    s["dribbled_pipeline"] = ("pipe", mixed("drib-1")[:12], 5)
    s["pipelined_slow_replies_in_order"] = ("pipe", [
        Req("GET", "/api/slow?id=p1", check=slow_json("p1")),
        Req("GET", "/style.css", check=is_file("style.css")),
        Req("GET", "/api/slow?id=p2", check=slow_json("p2")),
        Req("HEAD", "/app.js", check=is_file("app.js")),
        Req("GET", "/api/slow?id=p3", check=slow_json("p3")),
        Req("GET", "/api/slow?id=p4", check=slow_json("p4")),
        Req("GET", "/logo.png", check=is_file("logo.png")),
        Req("GET", "/api/stats", check=stats_json()),
    ], 0)
    s["pipelined_close_in_the_middle"] = ("pipe", [
        Req("GET", "/style.css", check=is_file("style.css")),
        Req("GET", "/app.js", [("Connection", "close")], check=is_file("app.js")),
        Req("GET", "/logo.png", check=is_file("logo.png")),
        Req("GET", "/api/stats", check=stats_json()),
    ], 0)
    s["pipelined_close_after_slow_reply"] = ("pipe", [
        Req("GET", "/api/slow?id=c1", [("Connection", "close")], check=slow_json("c1")),
        Req("GET", "/style.css", check=is_file("style.css")),
    ], 0)
    s["close_on_head"] = ("seq", [
        Req("GET", "/logo.png", check=is_file("logo.png")),
        Req("HEAD", "/style.css", [("Connection", "close")], check=is_file("style.css")),
    ], 0)
    s["close_on_post"] = ("seq", [
        Req("POST", "/api/sum", [("Connection", "close")], b'{"a":1,"b":1}', check=sum_json(2)),
    ], 0)
    s["close_on_404"] = ("pipe", [
        Req("GET", "/missing", [("Connection", "close")], status=404),
        Req("GET", "/style.css", check=is_file("style.css")),
    ], 0)
    s["http10_get_closes"] = ("seq", [Req("GET", "/style.css", version="1.0", check=is_file("style.css"))], 0)
    s["http10_head_closes"] = ("seq", [Req("HEAD", "/logo.png", version="1.0", check=is_file("logo.png"))], 0)
    s["http10_api_closes"] = ("seq", [Req("GET", "/api/stats", version="1.0", check=stats_json())], 0)
    s["http10_post_closes"] = ("seq", [
        Req("POST", "/api/sum", body=b"a=1&b=2", version="1.0", check=sum_json(3)),
    ], 0)
    s["http10_pipelined_closes_after_first"] = ("pipe", [
        Req("GET", "/app.js", version="1.0", check=is_file("app.js")),
        Req("GET", "/style.css", version="1.0", check=is_file("style.css")),
    ], 0)
    s["http10_keepalive"] = ("seq", [
        Req("GET", "/style.css", [("Connection", "keep-alive")], version="1.0", check=is_file("style.css")),
        Req("GET", "/api/stats", [("Connection", "keep-alive")], version="1.0", check=stats_json()),
        Req("HEAD", "/logo.png", [("Connection", "Keep-Alive")], version="1.0", check=is_file("logo.png")),
        Req("GET", "/api/slow?id=k10", [("Connection", "keep-alive")], version="1.0", check=slow_json("k10")),
        Req("GET", "/app.js", version="1.0", check=is_file("app.js")),
    ], 0)
    s["http10_keepalive_pipelined"] = ("pipe", [
        Req("GET", "/logo.png", [("Connection", "keep-alive")], version="1.0", check=is_file("logo.png")),
        Req("GET", "/api/echo?text=ten", [("Connection", "keep-alive")], version="1.0", check=echo_json("ten")),
        Req("GET", "/style.css", [("Connection", "keep-alive")], version="1.0", check=is_file("style.css")),
    ], 0)
    s["expect_100_continue"] = ("seq", [
        Req("POST", "/api/sum", [("Content-Type", "application/json")], b'{"a":10,"b":20}', expect_continue=True,
            check=sum_json(30)),
        Req("GET", "/api/stats", check=stats_json()),
    ], 0)
    # G4's seed bug: a pipelined "Connection: close" request followed by a malformed one.
    s["close_then_garbage"] = ("pipe", [
        Req("GET", "/style.css", [("Connection", "close")], check=is_file("style.css")),
        Req("GET", "/", raw=b"\x16\x03\x01 not http at all\r\n\r\n", status=400),
    ], 0)
    s["good_then_malformed"] = ("pipe", [
        Req("GET", "/style.css", check=is_file("style.css")),
        Req("GET", "/api/slow?id=m1", check=slow_json("m1")),
        Req("GET", "/", raw=b"GET / HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n", status=400, closes=True,
            label="header line without a colon"),
        Req("GET", "/logo.png", check=is_file("logo.png")),
    ], 0)
    s["smuggling_cl_te"] = ("pipe", [
        Req("GET", "/", raw=b"POST /api/sum HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status=400, closes=True, label="CL + TE"),
        Req("GET", "/style.css", check=is_file("style.css")),
    ], 0)
    s["smuggling_two_lengths"] = ("pipe", [
        Req("GET", "/", raw=b"POST /api/sum HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
            b"Content-Length: 13\r\n\r\na=1&b=2&c=333", status=400, closes=True, label="two Content-Lengths"),
    ], 0)
    s["bad_chunk_size"] = ("pipe", [
        Req("GET", "/logo.png", check=is_file("logo.png")),
        Req("GET", "/", raw=b"POST /api/sum HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"zz\r\nabc\r\n0\r\n\r\n", status=400, closes=True, label="bad chunk size"),
    ], 0)
    s["space_before_colon"] = ("pipe", [
        Req("GET", "/", raw=b"GET /style.css HTTP/1.1\r\nHost : x\r\n\r\n", status=400, closes=True,
            label="whitespace before colon"),
    ], 0)
    s["obs_fold"] = ("pipe", [
        Req("GET", "/", raw=b"GET /style.css HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n", status=400,
            closes=True, label="obs-fold"),
    ], 0)
    # An error answer or an interim 100 must queue behind a file body still being sent.
    s["file_then_malformed"] = ("pipe", [
        Req("GET", "/style.css", check=is_file("style.css")),
        Req("GET", "/", raw=b"GET / HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n", status=400, closes=True,
            label="header line without a colon"),
    ], 0)
    s["file_then_body_too_large"] = ("pipe", [
        Req("GET", "/logo.png", check=is_file("logo.png")),
        Req("GET", "/", raw=b"POST /api/sum HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\n", status=413,
            closes=True, label="Content-Length: 999999999"),
    ], 0)
    s["file_then_huge_header"] = ("pipe", [
        Req("GET", "/app.js", check=is_file("app.js")),
        Req("GET", "/", raw=b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n", status=431,
            closes=True, label="a 20000-byte header field"),
    ], 0)
    s["file_then_expect_100"] = ("pipe", [
        Req("GET", "/logo.png", check=is_file("logo.png")),
        Req("POST", "/api/sum", [("Content-Type", "application/json")], b'{"a":5,"b":6}', expect_continue=True,
            check=sum_json(11)),
        Req("GET", "/style.css", check=is_file("style.css")),
    ], 0)
    many = []
    for i in range(60):
        many += [
            Req("GET", "/api/stats", check=stats_json()),
            Req("HEAD", "/style.css", check=is_file("style.css")),
            Req("GET", "/logo.png", check=is_file("logo.png")),
        ]
    many.append(Req("GET", "/app.js", [("Connection", "close")], check=is_file("app.js")))
    many.append(Req("GET", "/style.css", check=is_file("style.css")))
    s["long_pipeline_then_close"] = ("pipe", many, 0)
    assert css and js and png
    return s


def main():
    global HOST, PORT, WEB_ROOT
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    HOST, PORT, WEB_ROOT = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    chosen = sys.argv[4:]
    all_s = scenarios()
    unknown = [c for c in chosen if c not in all_s]
    if unknown:
        sys.exit("unknown scenarios: %s (known: %s)" % (unknown, ", ".join(all_s)))
    failed, responses = 0, 0
    for name, (mode, reqs, dribble) in all_s.items():
        if chosen and name not in chosen:
            continue
        t0 = time.monotonic()
        n, err = run(mode, reqs, dribble)
        responses += n
        ms = (time.monotonic() - t0) * 1000
        if err:
            failed += 1
            print("FAIL %s after %d responses (%.0f ms): %s" % (name, n, ms, err), flush=True)
        else:
            print("ok   %s: %d responses (%.0f ms)" % (name, n, ms), flush=True)
    total = len(chosen) if chosen else len(all_s)
    print("h11_check: %d scenarios, %d responses, %d failed (h11 %s)" % (total, responses, failed, h11.__version__))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
