#!/usr/bin/env python3
"""ng-hostile.py: hostile ng traffic for tests/integration/ng-hostile.sh.

    ng-hostile.py garbage HOST:PORT
    ng-hostile.py flood HOST:PORT SECONDS
    ng-hostile.py offers HOST:PORT COUNT SDP-FILE

garbage: datagrams that are not ng requests (no cookie, binary, bencode
    cut short, lists nested 32,000 deep, dictionaries 12,000 deep, a list of
    30,000 empty strings, a 65,000-byte datagram, wrong types), each sent once; every one
    that has a cookie must get an error reply with that cookie, the others
    nothing; then a ping must get pong.  Prints one JSON line.
flood: for SECONDS, one socket sends as fast as it can (pings, garbage
    and malformed offers with fresh cookies, replies never read) while
    another sends one honest ping every 50 ms, sent again every 250 ms
    without a reply (up to 2 s) as Kamailio's module does, and times its
    pong from the first send; then one more ping once the flood is over.
    Prints sent, honest pings answered, their p50/p99 latency in ms and
    the latency of the ping after the flood (null: not answered).
offers: COUNT offers with distinct call-ids (supports "load limit", as
    Kamailio's module sends), one at a time; prints how many got ok,
    load limit and anything else.
Bounded in count and time; only the address given is addressed.
"""

import importlib.util
import json
import os
import random
import socket
import sys
import time

_spec = importlib.util.spec_from_file_location(
    "ngclient", os.path.join(os.path.dirname(__file__), "ng-client.py"))
ngc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ngc)


def server_of(text):
    host, port = text.rsplit(":", 1)
    return (host, int(port))


def recv_reply(sock, cookie, timeout):
    """The decoded reply to @cookie, or None after @timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        sock.settimeout(left)
        try:
            data = sock.recv(70000)
        except socket.timeout:
            return None
        c, _, body = data.partition(b" ")
        if c == cookie:
            return ngc.bdecode(body)


def garbage(server):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # As deep as a datagram allows (65,507 bytes of UDP payload).
    deep = b"d1:a" * 12000 + b"i1e" + b"e" * 12000
    cases = [
        (None, b"no-cookie-at-all"),
        (None, b" leading space"),
        (None, b"\x00\x01\x02\xff" * 64),
        (b"g1", b"\xff\xfe\xfd"),
        (b"g2", b"d7:command4:ping"),                 # cut short
        (b"g3", b"l" * 32000 + b"e" * 32000),         # deep list
        (b"g4", deep),                                 # deep dictionary
        (b"g5", b"l" + b"0:" * 30000 + b"e"),         # many values
        (b"g6", b"d7:commandi5ee"),                   # wrong type
        (b"g7", b"d7:command5:offer7:call-id1:xe"),   # missing keys
        (b"g8", b"d7:command9:frobnicatee"),          # unknown command
        (b"g9", b'{"command":"ping"}'),               # JSON
        (b"g10", b"x" * 65000),                       # long datagram
        (b"g11", b"d7:command5:offer7:call-idi3e8:from-tag1:a3:sdp1:xe"),
        (b"g12", b"d7:command5:offer7:call-id1:x8:from-tag1:a3:sdp3:\x00\x01\x02e"),
    ]
    errors = 0
    silent = 0
    for cookie, body in cases:
        datagram = body if cookie is None else cookie + b" " + body
        s.sendto(datagram, server)
        if cookie is None:
            silent += 1
            continue
        reply = recv_reply(s, cookie, 5)
        if reply is None or reply.get(b"result") != b"error":
            print(json.dumps({"case": cookie.decode(), "reply": ngc.to_text(reply)}))
            return 1
        errors += 1
    s.sendto(b"p1 " + ngc.bencode({"command": "ping"}), server)
    reply = recv_reply(s, b"p1", 5)
    ok = reply is not None and reply.get(b"result") == b"pong"
    print(json.dumps({"error_replies": errors, "dropped": silent,
                      "ping_after": ok}))
    return 0 if ok else 1


def flood(server, seconds):
    stop = time.monotonic() + seconds
    sent = [0]

    def attacker():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        kinds = [ngc.bencode({"command": "ping"}), b"garbage" * 10,
                 ngc.bencode({"command": "offer", "call-id": "x",
                              "from-tag": "f", "sdp": "not sdp"}),
                 b"d1:a" * 200 + b"e" * 200]
        n = 0
        while time.monotonic() < stop:
            body = kinds[n % len(kinds)]
            try:
                s.sendto(b"f%d " % n + body, server)
                n += 1
            except BlockingIOError:
                time.sleep(0.0005)
            except OSError:
                time.sleep(0.001)
            # Replies are never read: the socket's buffer fills and the
            # kernel drops them, as a spoofing attacker would.
        sent[0] = n

    # The attacker in a process of its own: in a thread it would hold the
    # interpreter lock, and the honest pings would measure that.
    rfd, wfd = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(rfd)
        attacker()
        os.write(wfd, str(sent[0]).encode())
        os._exit(0)
    os.close(wfd)
    h = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    lat = []
    asked = 0
    i = 0
    while time.monotonic() < stop:
        i += 1
        cookie = b"h%d" % i
        t0 = time.monotonic()
        asked += 1
        # As Kamailio's module does (rtpengine_tout_ms, rtpengine_retr):
        # the same cookie again after a silence; the server's reply cache
        # makes that safe.  A flood from the same host fills the socket's
        # receive buffer, and the kernel drops what does not fit, honest
        # datagrams among them.
        for _ in range(8):
            h.sendto(cookie + b" " + ngc.bencode({"command": "ping"}), server)
            reply = recv_reply(h, cookie, 0.25)
            if reply is not None:
                break
        if reply is not None and reply.get(b"result") == b"pong":
            lat.append((time.monotonic() - t0) * 1000)
        time.sleep(0.05)
    sent[0] = int(os.read(rfd, 64) or b"0")
    os.close(rfd)
    os.waitpid(child, 0)
    lat.sort()
    # Once the flood stops, the queue it left is read within moments and
    # the next ping is answered at once.
    t0 = time.monotonic()
    after = None
    for _ in range(8):
        h.sendto(b"after " + ngc.bencode({"command": "ping"}), server)
        reply = recv_reply(h, b"after", 0.25)
        if reply is not None and reply.get(b"result") == b"pong":
            after = round((time.monotonic() - t0) * 1000, 2)
            break

    def pct(p):
        return round(lat[min(len(lat) - 1, int(len(lat) * p))], 2) if lat else None
    print(json.dumps({"sent": sent[0], "seconds": seconds,
                      "rate": round(sent[0] / seconds),
                      "honest_asked": asked, "honest_answered": len(lat),
                      "p50_ms": pct(0.5), "p99_ms": pct(0.99),
                      "after_ms": after}))
    return 0


def offers(server, count, sdp_file):
    sdp = open(sdp_file, "rb").read()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    tally = {}
    t0 = time.monotonic()
    for i in range(count):
        cookie = b"o%d" % i
        req = {"command": "offer", "call-id": "flood-%d" % i,
               "from-tag": "ft", "sdp": sdp, "supports": ["load limit"]}
        s.sendto(cookie + b" " + ngc.bencode(req), server)
        reply = recv_reply(s, cookie, 5)
        key = "none" if reply is None else reply.get(b"result", b"?").decode()
        tally[key] = tally.get(key, 0) + 1
    print(json.dumps({"offers": count, "results": tally,
                      "seconds": round(time.monotonic() - t0, 2)}))
    return 0


def main(argv):
    if len(argv) >= 2 and argv[0] == "garbage":
        return garbage(server_of(argv[1]))
    if len(argv) >= 3 and argv[0] == "flood":
        return flood(server_of(argv[1]), float(argv[2]))
    if len(argv) >= 4 and argv[0] == "offers":
        return offers(server_of(argv[1]), int(argv[2]), argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
