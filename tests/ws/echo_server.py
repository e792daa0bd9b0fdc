"""A python `websockets` echo server for meerkat's client.

    python echo_server.py PORT

Prints "listening on ws://127.0.0.1:PORT" and serves until killed. Every message is echoed;
a text message "close" makes the server close with code 4001 "server says bye".
"""
import sys

from websockets.sync.server import serve


def echo(ws):
    for msg in ws:
        if msg == "close":
            ws.close(code=4001, reason="server says bye")
            return
        ws.send(msg)


port = int(sys.argv[1])
with serve(echo, "127.0.0.1", port, compression="deflate", max_size=4 << 20) as server:
    print(f"listening on ws://127.0.0.1:{port}", flush=True)
    server.serve_forever()
