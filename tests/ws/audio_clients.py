"""Hundreds of "browsers" for tests/c/ws_audio_server.c (python `websockets`, asyncio).

    python audio_clients.py ws://127.0.0.1:PORT CLIENTS SECONDS SEED

Each client i opens ws://.../ws?id=i (with permessage-deflate) at a random moment in the
first second and behaves according to its mode:
  hello       says "hello i", reads everything until "end ...", then closes normally;
  silent      never says hello, reads until "end", closes normally;
  hello_fin / hello_rst / silent_fin / silent_rst
              vanish mid-stream at a random time: FIN without a close frame, or RST
              (SO_LINGER 0), with or without having said hello;
  stall       says hello with a 4 KiB receive buffer and no compression, never reads, then
              vanishes with RST near the end.
Every chunk is checked: "to=N" must name this client (and only greeted clients get any),
"seq" must increase, the length and every pattern byte must match (nothing torn). A client
that stays checks that "end id=i accepted=A undelivered=U" names it and that it received
exactly A - U chunks. Prints one JSON object; exits 1 if any check failed.
"""
import asyncio
import json
import random
import socket
import struct
import sys

from websockets.asyncio.client import connect

url, clients, seconds, seed = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
# An optional fifth argument gives every client that one mode (e.g. "stall").
only_mode = sys.argv[5] if len(sys.argv) > 5 else None
rng = random.Random(seed)
errors = []
out = {"chunks": 0, "bcasts": 0, "ends": 0, "stayers": 0, "vanished": 0, "modes": {}}
MODES = ["hello"] * 5 + ["silent"] * 3 + ["hello_fin", "hello_rst"] * 3 + ["silent_fin", "silent_rst"] * 1 + ["stall"] * 3


def pattern(ident, seq, n):
    base = (ident * 31 + seq * 7) & 0xFF
    return bytes((base + j) & 0xFF for j in range(n))


def check_chunk(i, greeted, msg, last):
    """Check one binary chunk; returns ("to"|"all", seq)."""
    if not isinstance(msg, bytes):
        raise AssertionError(f"client {i}: unexpected text {msg[:80]!r}")
    nl = msg.index(b"\n")
    who, seq, ln = msg[:nl].decode().split(" ")
    seq, ln = int(seq[4:]), int(ln[4:])
    body = msg[nl + 1:]
    if len(body) != ln:
        raise AssertionError(f"client {i}: torn chunk {who} seq={seq}: {len(body)} of {ln} bytes")
    if who == "all":
        kind, ident = "all", 0
    elif who == f"to={i}":
        if not greeted:
            raise AssertionError(f"client {i}: a chunk before hello")
        kind, ident = "to", i
    else:
        raise AssertionError(f"client {i}: chunk for {who} (wrong peer)")
    if body != pattern(ident, seq, ln):
        raise AssertionError(f"client {i}: corrupt chunk {who} seq={seq}")
    if seq <= last.get(kind, 0):
        raise AssertionError(f"client {i}: {who} seq={seq} after {last.get(kind)} (out of order)")
    last[kind] = seq
    return kind


def vanish(ws, rst):
    sock = ws.transport.get_extra_info("socket")
    if rst:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        ws.transport.abort()
    else:
        ws.transport.close()


async def client(i, mode):
    loop = asyncio.get_running_loop()
    await asyncio.sleep(rng.uniform(0, 1.0))
    uri = f"{url}/ws?id={i}"
    greeted = mode.startswith("hello") or mode == "stall"
    leave_at = None
    if mode.endswith("_fin") or mode.endswith("_rst"):
        leave_at = loop.time() + rng.uniform(0.2, seconds - 0.3)
    sock = None
    if mode == "stall":
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        # Small segments: the server's kernel sizes its send buffer by segment size (64 KiB
        # on loopback, which let it soak up megabytes for a reader that never reads).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
        sock.setblocking(False)
        host, port = url.split("//")[1].split(":")
        await loop.sock_connect(sock, (host, int(port)))
    # A staller offers no compression: the chunks' filler deflates to almost nothing, and its
    # point is to fill the server's send buffer with what it never reads.
    ws = await connect(uri, sock=sock, compression=None if mode == "stall" else "deflate",
                       max_size=1 << 20, max_queue=4,
                       open_timeout=15, close_timeout=5, ping_interval=None)
    if greeted:
        await ws.send(f"hello {i}")
    if mode == "stall":
        # Stalled for most of the run, so that what is sent to it overflows the kernel's
        # buffers and the server's max_send even when a loaded machine sends slowly.
        await asyncio.sleep(rng.uniform(seconds * 0.8, seconds - 0.3))
        vanish(ws, True)
        out["vanished"] += 1
        return
    last, chunks = {}, 0
    while True:
        timeout = 30 if leave_at is None else max(0.0, leave_at - loop.time())
        try:
            msg = await asyncio.wait_for(ws.recv(), timeout)
        except asyncio.TimeoutError:
            if leave_at is None:
                raise AssertionError(f"client {i} ({mode}): no end after 30 s ({chunks} chunks)")
            vanish(ws, mode.endswith("_rst"))
            out["vanished"] += 1
            return
        if isinstance(msg, str) and msg.startswith("end "):
            f = dict(kv.split("=") for kv in msg.split(" ")[1:])
            if int(f["id"]) != i:
                raise AssertionError(f"client {i}: {msg!r} (wrong peer)")
            want = int(f["accepted"]) - int(f["undelivered"])
            if chunks != want:
                raise AssertionError(f"client {i} ({mode}): {chunks} chunks, server says {msg!r}")
            out["ends"] += 1
            await ws.close()
            return
        kind = check_chunk(i, greeted, msg, last)
        if kind == "to":
            chunks += 1
            out["chunks"] += 1
        else:
            out["bcasts"] += 1


async def guarded(i, mode):
    try:
        await client(i, mode)
    except Exception as e:  # noqa: BLE001 - every failure is reported
        errors.append(f"client {i} ({mode}): {type(e).__name__}: {e}")


async def main():
    modes = [only_mode or MODES[rng.randrange(len(MODES))] for _ in range(clients)]
    for m in modes:
        out["modes"][m] = out["modes"].get(m, 0) + 1
    out["stayers"] = sum(1 for m in modes if m in ("hello", "silent"))
    await asyncio.wait_for(asyncio.gather(*(guarded(i, m) for i, m in enumerate(modes))), seconds + 40)


asyncio.run(main())
out["errors"] = errors[:20]
out["error_count"] = len(errors)
print(json.dumps(out))
sys.exit(1 if errors else 0)
