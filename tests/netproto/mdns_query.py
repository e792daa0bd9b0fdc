"""Ask an mDNS responder at 127.0.0.1:argv[1] for the A record of argv[2] (a legacy
unicast query from an ephemeral port, RFC 6762 6.7). Prints "answer NAME IP TTL" for an
answer with our id and question, or "no answer" after 1 s."""
import random
import socket
import struct
import sys

port, name = int(sys.argv[1]), sys.argv[2]
txid = random.randrange(1, 65536)
q = struct.pack("!HHHHHH", txid, 0, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0" + struct.pack("!HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
s.sendto(q, ("127.0.0.1", port))
try:
    r, _ = s.recvfrom(2048)
except socket.timeout:
    print("no answer", flush=True)
    sys.exit(0)
rid, flags, qd, an = struct.unpack("!HHHH", r[:8])
assert rid == txid and flags & 0x8000 and qd == 1 and an == 1, (rid, txid, flags, qd, an)
assert r[12:12 + len(q) - 12] == q[12:], "question not echoed"
i = len(q)
labels = []
while r[i]:
    labels.append(r[i + 1:i + 1 + r[i]].decode())
    i += 1 + r[i]
rtype, rclass, ttl, rdlen = struct.unpack("!HHIH", r[i + 1:i + 11])
assert (rtype, rclass, rdlen) == (1, 1, 4), (rtype, rclass, rdlen)
print("answer", ".".join(labels), socket.inet_ntoa(r[i + 11:i + 15]), ttl, flush=True)
