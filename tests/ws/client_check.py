"""A python `websockets` client against a meerkat WebSocket echo server.

    python client_check.py ws://127.0.0.1:PORT/ws

Prints one JSON object: what was negotiated and what came back. Exits non-zero on failure.
"""
import json
import sys

from websockets.sync.client import connect

url = sys.argv[1]
out = {}
with connect(url, compression="deflate", max_size=4 << 20, open_timeout=10, close_timeout=10) as ws:
    out["extensions"] = ws.response.headers.get("Sec-WebSocket-Extensions", "")
    ws.send("hello, meerkat \u00e9\u20ac")
    out["text"] = ws.recv(timeout=10)
    ws.send(bytes(range(256)))
    out["binary_ok"] = ws.recv(timeout=10) == bytes(range(256))
    big = bytes((i * 7 + i // 251) & 0xFF for i in range(1 << 20))
    ws.send(big)
    got = ws.recv(timeout=30)
    out["big_ok"] = got == big
    out["big_len"] = len(got)
    # Many small messages in a row, text and binary, and one fragmented message.
    for i in range(100):
        ws.send(f"m{i}")
    out["burst_ok"] = all(ws.recv(timeout=10) == f"m{i}" for i in range(100))
    ws.send(["frag", "mented ", "message"])
    out["fragmented"] = ws.recv(timeout=10)
    pong = ws.ping(b"are you there")
    out["pong"] = pong.wait(10)
    ws.close(code=4000, reason="bye")
    rcvd = ws.protocol.close_rcvd
    out["close_code"] = rcvd.code if rcvd else None
    out["close_reason"] = rcvd.reason if rcvd else None
print(json.dumps(out))
