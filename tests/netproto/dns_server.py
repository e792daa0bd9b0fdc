"""A small authoritative DNS server for tests/netproto.rs, on 127.0.0.1 (UDP).

Prints "port N" when ready, then one "query NAME TYPE #K" line per query on stdout.
Names (under .test):
  host      A 127.0.0.1
  cname     CNAME host.test (compressed), then A 127.0.0.1
  slow      no answer to the first query; the retry gets A 127.0.0.1
  spoof     first three forged replies (wrong id; right id but another question; right id
            and question from another source port), all with A 127.0.0.66, then the real
            A 127.0.0.1
  none      NXDOMAIN
  trunc     TC set, no answer
  silent    never answered
  hold      never answered (the lookup the test cancels)
"""
import socket
import struct
import sys

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
other.bind(("127.0.0.1", 0))
print("port", s.getsockname()[1], flush=True)
seen = {}


def qname(msg):
    labels, i = [], 12
    while msg[i]:
        n = msg[i]
        labels.append(msg[i + 1:i + 1 + n].decode())
        i += 1 + n
    return ".".join(labels).lower(), i + 1


def wire(name):
    return b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"


def a(ip, owner=b"\xc0\x0c"):
    return owner + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(ip)


def reply(txid, question, answers, flags=0x8180):
    return struct.pack("!HHHHHH", txid, flags, 1, len(answers), 0, 0) + question + b"".join(answers)


while True:
    msg, peer = s.recvfrom(2048)
    txid = struct.unpack("!H", msg[:2])[0]
    name, end = qname(msg)
    qtype = struct.unpack("!H", msg[end:end + 2])[0]
    question = msg[12:end + 4]
    seen[name] = seen.get(name, 0) + 1
    print("query", name, qtype, "#%d" % seen[name], flush=True)
    host = name.split(".")[0]
    if host == "host":
        s.sendto(reply(txid, question, [a("127.0.0.1")]), peer)
    elif host == "cname":
        target = b"\x04host" + bytes([0xC0, 12 + 6])  # "host" + pointer to "test" in the question
        cname = b"\xc0\x0c" + struct.pack("!HHIH", 5, 1, 60, len(target)) + target
        s.sendto(reply(txid, question, [cname, a("127.0.0.1", b"\xc0" + bytes([12 + len(question) + 12]))]), peer)
    elif host == "slow":
        if seen[name] >= 2:
            s.sendto(reply(txid, question, [a("127.0.0.1")]), peer)
    elif host == "spoof":
        s.sendto(reply(txid ^ 0x5A5A, question, [a("127.0.0.66")]), peer)
        evil = wire("evil.test") + question[-4:]
        s.sendto(reply(txid, evil, [a("127.0.0.66")]), peer)
        other.sendto(reply(txid, question, [a("127.0.0.66")]), peer)
        s.sendto(reply(txid, question, [a("127.0.0.1")]), peer)
    elif host == "none":
        s.sendto(reply(txid, question, [], 0x8183), peer)
    elif host == "trunc":
        s.sendto(reply(txid, question, [], 0x8380), peer)
