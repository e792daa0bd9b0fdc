"""An SNTP responder for tests, on 127.0.0.1 (UDP). argv[1]: "good" (bad replies first,
then a good one) or "bad" (only bad replies). The good reply's transmit time is
T = 1700000000123 ms (Unix). Prints "port N" when ready and "request" per request."""
import socket
import struct
import sys

T_MS = 1700000000123
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print("port", s.getsockname()[1], flush=True)


def ntp(ms):
    secs = ms // 1000 + 2208988800
    frac = ((ms % 1000) << 32) // 1000 + 1
    return struct.pack("!II", secs, frac)


def packet(first, stratum, origin, ms=T_MS):
    return bytes([first, stratum, 6, 0xEC]) + b"\0" * 8 + b"GPS\0" + ntp(ms) + origin + ntp(ms) + ntp(ms)


while True:
    req, peer = s.recvfrom(512)
    print("request", len(req), flush=True)
    origin = req[40:48]
    wrong = bytes(b ^ 0xFF for b in origin)
    # Wrong mode (3: a client), stratum 0 (kiss-o'-death), origin not echoed, leap 3.
    for p in (packet(0x23, 1, origin, 1), packet(0x24, 0, origin, 2), packet(0x24, 1, wrong, 3),
              packet(0xE4, 1, origin, 4)):
        s.sendto(p, peer)
    if sys.argv[1] == "good":
        s.sendto(packet(0x24, 1, origin), peer)
