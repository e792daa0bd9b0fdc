#!/usr/bin/env python3
"""TLS clients that reset the connection (SO_LINGER 0, then close: the kernel sends a TCP
RST) at chosen points, against a running https-server, watching the server from outside.

    rst_clients.py PORT CA.pem SERVER_PID BIG_PATH [REPEAT [MODE...]]

Modes (all by default):
  tcp            TCP connect, then RST (no TLS byte sent)
  handshake      send the ClientHello bytes, then RST before the handshake completes
  after_hs       complete the handshake, then RST
  mid_request    handshake, send half a request, RST
  mid_response   handshake, request BIG_PATH (a large file), do not read while the server
                 is blocked writing it, RST
  idle_keepalive one full keep-alive request and response, then RST while idle

After every reset the number of sockets the server holds (/proc/PID/fd entries that are
sockets) must come back to the baseline within 2 s, and a new client must get a full 200
reply to /api/hello. Prints one line per mode "MODE ok N" or "MODE FAIL reason", and a last
line "RESULT ok" or "RESULT FAIL"; exits 0 only if everything passed.
"""

import os
import socket
import ssl
import struct
import sys
import time

HOST = "127.0.0.1"
NAME = "localhost"
SETTLE_S = 2.0


def sockets_of(pid):
    n = 0
    d = f"/proc/{pid}/fd"
    for fd in os.listdir(d):
        try:
            if os.readlink(os.path.join(d, fd)).startswith("socket:"):
                n += 1
        except OSError:
            pass  # closed between listdir and readlink
    return n


def wait_baseline(pid, baseline, limit=SETTLE_S):
    """Seconds until the server's socket count is <= baseline, or None after `limit`."""
    t0 = time.monotonic()
    while True:
        n = sockets_of(pid)
        if n <= baseline:
            return time.monotonic() - t0
        if time.monotonic() - t0 > limit:
            return None
        time.sleep(0.005)


def rst_close(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def tcp_connect(port, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf is not None:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(5)
    s.connect((HOST, port))
    return s


def read_response(tls):
    """Read one HTTP/1.1 response with Content-Length; returns (status, body)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = tls.recv(65536)
        if not chunk:
            raise RuntimeError(f"EOF in response head: {buf!r}")
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = None
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
    if length is None:
        raise RuntimeError(f"no Content-Length in {head!r}")
    while len(body) < length:
        chunk = tls.recv(65536)
        if not chunk:
            raise RuntimeError("EOF in response body")
        body += chunk
    return status, body[:length]


def server_send_queue(server_port, client_port):
    """tx_queue of the server's end of the connection (from /proc/net/tcp), or -1."""
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            loc, rem = fields[1], fields[2]
            if (int(loc.split(":")[1], 16) == server_port
                    and int(rem.split(":")[1], 16) == client_port):
                return int(fields[4].split(":")[0], 16)
    return -1


class Client:
    def __init__(self, port, ca, pid):
        self.port = port
        self.pid = pid
        self.baseline = 0
        self.max_queued = 0
        self.ctx = ssl.create_default_context(cafile=ca)

    def tls(self, rcvbuf=None):
        raw = tcp_connect(self.port, rcvbuf)
        return self.ctx.wrap_socket(raw, server_hostname=NAME)

    def healthy(self):
        """A fresh client gets 200 from /api/hello (Connection: close)."""
        with self.tls() as t:
            t.sendall(b"GET /api/hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            status, body = read_response(t)
            if status != 200 or b"hello" not in body:
                raise RuntimeError(f"health check: {status} {body!r}")

    # ---- the reset points ---------------------------------------------------------------

    def tcp(self, big):
        s = tcp_connect(self.port)
        # Reset only once the server holds the connection (else nothing is tested).
        t0 = time.monotonic()
        while sockets_of(self.pid) <= self.baseline:
            if time.monotonic() - t0 > SETTLE_S:
                raise RuntimeError("the server did not accept the connection")
            time.sleep(0.002)
        rst_close(s)

    def handshake(self, big):
        raw = tcp_connect(self.port)
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = self.ctx.wrap_bio(inc, out, server_hostname=NAME)
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        hello = out.read()
        assert hello and hello[0] == 0x16, "a ClientHello record"
        raw.sendall(hello)
        # Let the server read it and answer (ServerHello...), then reset mid-handshake.
        raw.recv(1)
        rst_close(raw)

    def after_hs(self, big):
        t = self.tls()
        rst_close(t)

    def mid_request(self, big):
        t = self.tls()
        t.sendall(b"GET /api/hello HTTP/1.1\r\nHost: loc")
        time.sleep(0.01)
        rst_close(t)

    def mid_response(self, big):
        t = self.tls(rcvbuf=4096)
        t.sendall(f"GET {big} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        # Read the first bytes (the response started), then stop reading: the server fills
        # the socket buffers and blocks on the rest of the 20 MiB.
        t.recv(1)
        time.sleep(0.15)
        queued = server_send_queue(self.port, t.getsockname()[1])
        if queued <= 0:
            raise RuntimeError("the server's send queue is empty: it is not write-blocked")
        self.max_queued = max(self.max_queued, queued)
        rst_close(t)

    def idle_keepalive(self, big):
        t = self.tls()
        t.sendall(b"GET /api/hello HTTP/1.1\r\nHost: localhost\r\n\r\n")
        status, _ = read_response(t)
        if status != 200:
            raise RuntimeError(f"keep-alive request: {status}")
        time.sleep(0.02)
        rst_close(t)


MODES = ["tcp", "handshake", "after_hs", "mid_request", "mid_response", "idle_keepalive"]


def main():
    port, ca, pid, big = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
    repeat = int(sys.argv[5]) if len(sys.argv) > 5 else 20
    modes = sys.argv[6:] or MODES
    c = Client(port, ca, pid)
    # Before any client: the listener (and whatever else the server keeps for itself).
    baseline = sockets_of(pid)
    c.baseline = baseline
    c.healthy()
    if wait_baseline(pid, baseline) is None:
        raise SystemExit(f"the first health check's socket is still held (baseline {baseline})")
    print(f"baseline sockets {baseline}", flush=True)
    all_ok = True
    for mode in modes:
        worst = 0.0
        failure = None
        for i in range(repeat):
            try:
                getattr(c, mode)(big)
            except Exception as e:  # the client side of the scenario itself failed
                failure = f"iteration {i}: client error {type(e).__name__}: {e}"
                break
            took = wait_baseline(pid, baseline)
            if took is None:
                failure = (f"iteration {i}: server holds {sockets_of(pid)} sockets "
                           f"{SETTLE_S} s after the reset (baseline {baseline})")
                break
            worst = max(worst, took)
            try:
                c.healthy()
            except Exception as e:
                failure = f"iteration {i}: server stopped serving: {type(e).__name__}: {e}"
                break
            if wait_baseline(pid, baseline) is None:
                failure = f"iteration {i}: socket not released after the health check"
                break
        if failure:
            all_ok = False
            print(f"{mode} FAIL {failure}", flush=True)
        else:
            extra = f" max server send queue {c.max_queued} B" if mode == "mid_response" else ""
            print(f"{mode} ok {repeat} worst {worst * 1000:.0f} ms{extra}", flush=True)
    print("RESULT ok" if all_ok else "RESULT FAIL", flush=True)
    sys.exit(0 if all_ok else 1)


if __name__ == "__main__":
    main()
