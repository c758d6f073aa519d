#!/usr/bin/env python3
"""Hostile MSRP peers for the hostile-*.sh integration tests: each
subcommand is one attack on a relay, bounded in count and time, on
127.0.0.0/8 only.  Each prints one JSON line of figures on stdout and exits
0 when what it checked held, 1 (with the reason on stderr) otherwise.

  hostile.py guess HOST PORT USER --secs S [--max N] [--source IP]
      Guess USER's password as fast as possible for S seconds (at most N
      guesses), a new connection for each guess: AUTH, 401, AUTH with a
      wrong MD5 Digest answer.  Counts the guesses judged (401) and refused
      unjudged (403), per second of the run.
  hostile.py login HOST PORT USER PASSWORD [--source IP] [--want CODE]
      One AUTH with the right password; the code of the answer must be
      CODE (default 200).
  hostile.py replay HOST PORT USER PASSWORD [--times N]
      AUTH with the right password, then the same Authorization header
      again on N new connections and on the first: each must get 401.
  hostile.py hijack HOST PORT USER PASSWORD PEER-URI [--wait S]
      The stolen-messages attempt (issue 13, finding 1): USER AUTHs; a
      connection without AUTH sends a SEND toward USER's session with
      From-Path PEER-URI, claiming it; then USER sends a message to
      PEER-URI through her session.  Fails when the claiming connection
      receives anything within S seconds.
  hostile.py frame HOST PORT CASE [--to URI]
      One malformed frame (CASE: path33, from380, header-bomb, header-1mb,
      headers-10000, bad-utf8, nul) on a new connection; the relay must
      answer as the case says (a 400, then the connection closed or not).
  hostile.py sink HOST PORT USER PASSWORD --mode read|stall --path-file F
      AUTH, write the a=path to reach us (session URI, then our URI) to F,
      then read everything and discard it (read) or never read (stall),
      until killed.
  hostile.py stream HOST PORT USER PASSWORD TO-PATH --secs S --max-mb M
      AUTH, then one SEND chunk to TO-PATH whose body never ends: bytes as
      fast as the relay takes them for S seconds or M MiB, no end-line,
      then close.
  hostile.py silent HOST PORT --count N --secs S [--sources A-B]
      Hold N connections that never send a byte, reopening those the relay
      closes, for S seconds; sources 127.x.y.A to .B in turn.
  hostile.py slowloris HOST PORT --count N --secs S [--sources A-B]
      N connections sending one byte a second of a header that never ends,
      reopening those the relay closes, for S seconds.
"""
import argparse
import hashlib
import importlib.util
import json
import os
import random
import re
import select
import socket
import string
import sys
import time

# The frame reader of msrp-raw.py, whose name is no module name; no
# __pycache__ is left in the source tree for it.
sys.dont_write_bytecode = True
_spec = importlib.util.spec_from_file_location(
    "msrp_raw", os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             "msrp-raw.py"))
msrp_raw = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(msrp_raw)


def die(msg):
    print("hostile.py: " + msg, file=sys.stderr, flush=True)
    sys.exit(1)


def tid():
    return "".join(random.choice(string.ascii_letters) for _ in range(12))


class Conn(msrp_raw.Peer):
    """A connection from @source (nullable), read frame by frame."""

    def __init__(self, host, port, source=None, timeout=10):
        super().__init__(host, port, timeout, source=source, echo=False)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def frame(self, secs=None):
        """The next whole frame as text, None on EOF or timeout."""
        try:
            return super().frame(time.monotonic() + (secs or self.timeout))
        except (TimeoutError, AssertionError):
            return None

    def closed_within(self, secs):
        """True when the peer closes within SECS (what arrives is kept)."""
        deadline = time.monotonic() + secs
        while not self.eof:
            if self.fill(deadline) is None:
                return False
        return True

    def close(self):
        self.sock.close()


def status(frame):
    m = re.match(r"MSRP \S+ (\d{3})", frame or "")
    return int(m.group(1)) if m else None


def header(frame, name):
    m = re.search(r"^" + re.escape(name) + r": (.*?)\r$", frame,
                  re.MULTILINE | re.IGNORECASE)
    return m.group(1) if m else None


def relay_uri(host, port):
    return "msrp://%s:%d;tcp" % (host, port)


def own_uri(conn):
    h, p = conn.sock.getsockname()
    return "msrp://%s:%d/%s;tcp" % (h, p, tid()[:8])


def auth_frame(t, to, frm, extra=""):
    return ("MSRP %s AUTH\r\nTo-Path: %s\r\nFrom-Path: %s\r\n%s-------%s$\r\n"
            % (t, to, frm, extra, t))


def md5_challenge(frame):
    """The MD5 challenge among the 401's WWW-Authenticate headers."""
    for v in re.findall(r"^WWW-Authenticate: (.*?)\r$", frame or "",
                        re.MULTILINE):
        params = {k: q or t for k, q, t in
                  re.findall(r'(\w+)=(?:"([^"]*)"|([^,\s]*))', v)}
        if params.get("algorithm", "MD5").upper() == "MD5":
            return params
    return None


def authorization(ch, user, password, uri, nc=1):
    def h(s):
        return hashlib.md5(s.encode()).hexdigest()

    cnonce = tid()
    ha1 = h("%s:%s:%s" % (user, ch["realm"], password))
    ha2 = h("AUTH:%s" % uri)
    ncs = "%08x" % nc
    resp = h("%s:%s:%s:%s:auth:%s" % (ha1, ch["nonce"], ncs, cnonce, ha2))
    v = ('Digest username="%s", realm="%s", nonce="%s", uri="%s", '
         'response="%s", algorithm=MD5, qop=auth, nc=%s, cnonce="%s"'
         % (user, ch["realm"], ch["nonce"], uri, resp, ncs, cnonce))
    if "opaque" in ch:
        v += ', opaque="%s"' % ch["opaque"]
    return v


def do_auth(conn, host, port, user, password, me):
    """AUTH USER on CONN.  Returns (code of the answer to the credentials,
    the answer, the Authorization sent)."""
    to = relay_uri(host, port)
    t = tid()
    conn.send(auth_frame(t, to, me))
    f = conn.frame()
    if status(f) != 401:
        die("AUTH without credentials: %r" % (f or "no answer")[:200])
    ch = md5_challenge(f)
    if ch is None:
        die("no MD5 challenge in %r" % f[:300])
    cred = authorization(ch, user, password, to)
    t2 = tid()
    conn.send(auth_frame(t2, to, me, "Authorization: %s\r\n" % cred))
    f2 = conn.frame()
    return status(f2), f2, cred


def authed(a, what):
    """A new connection on which a.user AUTHed with a.password.  Returns
    (the connection, our URI, the 200, the Authorization sent)."""
    c = Conn(a.host, a.port, timeout=30)
    me = own_uri(c)
    code, f, cred = do_auth(c, a.host, a.port, a.user, a.password, me)
    if code != 200:
        die("%s: AUTH of %s got %s" % (what, a.user, code))
    return c, me, f, cred


# --- subcommands ----------------------------------------------------------

def cmd_guess(a):
    start = time.monotonic()
    judged, refused, other, n = [], [], 0, 0
    while time.monotonic() - start < a.secs and n < a.max:
        n += 1
        try:
            c = Conn(a.host, a.port, a.source)
            code, _, _ = do_auth(c, a.host, a.port, a.user,
                                 "wrong-%d" % n, own_uri(c))
            c.close()
        except OSError:
            code = None
        at = time.monotonic() - start
        if code == 401:
            judged.append(at)
        elif code == 403:
            refused.append(at)
        else:
            other += 1
    secs = time.monotonic() - start
    per_s = [0] * (int(secs) + 1)
    for at in judged:
        per_s[int(at)] += 1
    out = dict(attempts=n, judged=len(judged), refused=len(refused),
               other=other, secs=round(secs, 2),
               attempts_per_s=round(n / secs, 1),
               judged_per_s=per_s, max_judged_per_s=max(per_s))
    print(json.dumps(out), flush=True)


def cmd_login(a):
    c = Conn(a.host, a.port, a.source)
    code, f, _ = do_auth(c, a.host, a.port, a.user, a.password, own_uri(c))
    print(json.dumps(dict(code=code, comment=(f or "").split("\r\n")[0])),
          flush=True)
    if code != a.want:
        die("AUTH of %s answered %s, not %d" % (a.user, code, a.want))


def cmd_replay(a):
    c, me, _, cred = authed(a, "replay")
    codes = []
    for i in range(a.times + 1):
        x = c if i == a.times else Conn(a.host, a.port)
        t = tid()
        x.send(auth_frame(t, relay_uri(a.host, a.port), me,
                          "Authorization: %s\r\n" % cred))
        codes.append(status(x.frame()))
    print(json.dumps(dict(replays=codes)), flush=True)
    if any(code != 401 for code in codes):
        die("a replayed Authorization got %s" % codes)


def cmd_hijack(a):
    alice, me, f, _ = authed(a, "hijack")
    session = header(f, "Use-Path")
    # The claim: a SEND toward USER herself through her session (anyone may
    # send to a session), From-Path the peer's URI.  It is relayed to her,
    # and she answers it as an endpoint does.
    thief = Conn(a.host, a.port)
    t = tid()
    thief.send("MSRP %s SEND\r\nTo-Path: %s %s\r\nFrom-Path: %s\r\n"
               "Message-ID: claim%s\r\nByte-Range: 1-8/8\r\n"
               "Content-Type: text/plain\r\n\r\nI am Bob\r\n-------%s$\r\n"
               % (t, session, me, a.peer, t, t))
    claim = thief.frame(5)
    got = alice.frame(5)
    if got is None or not got.startswith("MSRP ") or " SEND\r\n" not in got:
        die("the claim did not reach %s: %r" % (a.user, (got or "")[:200]))
    gt = got.split(" ", 2)[1]
    alice.send("MSRP %s 200 OK\r\nTo-Path: %s\r\nFrom-Path: %s\r\n"
               "-------%s$\r\n"
               % (gt, header(got, "From-Path").split(" ")[0], me, gt))
    t = tid()
    body = "for the peer only"
    alice.send("MSRP %s SEND\r\nTo-Path: %s %s\r\nFrom-Path: %s\r\n"
               "Message-ID: real%s\r\nByte-Range: 1-%d/%d\r\n"
               "Content-Type: text/plain\r\n\r\n%s\r\n-------%s$\r\n"
               % (t, session, a.peer, me, t, len(body), len(body), body, t))
    ok = alice.frame()
    while ok is not None and not ok.startswith("MSRP %s " % t):
        ok = alice.frame()
    stolen = thief.frame(a.wait)
    print(json.dumps(dict(claim=(claim or "").split("\r\n")[0],
                          send=status(ok),
                          stolen=(stolen or "").split("\r\n")[0])),
          flush=True)
    if stolen is not None:
        die("the claiming connection received: %r" % stolen[:200])
    if status(ok) != 200:
        die("the real SEND got %s" % status(ok))


def long_path(n):
    return " ".join("msrp://h%d.invalid:2855/s;tcp" % i for i in range(n))


FRAME_CASES = {
    # name: (frame text with @TO@, answer wanted, closed after)
    "path33": ("MSRP pl33 SEND\r\nTo-Path: @TO@ " + long_path(32) +
               "\r\nFrom-Path: msrp://127.0.0.1:9/x;tcp\r\n"
               "Message-ID: m1\r\n-------pl33$\r\n", 400, False),
    "from380": ("MSRP pl38 SEND\r\nTo-Path: @TO@\r\nFrom-Path: " +
                long_path(380) + "\r\nMessage-ID: m1\r\n-------pl38$\r\n",
                400, False),
    "header-bomb": ("MSRP hb01 SEND\r\nTo-Path: @TO@\r\n"
                    "From-Path: msrp://127.0.0.1:9/x;tcp\r\n" +
                    "".join("X-Bomb-%d: %s\r\n" % (i, "b" * 200)
                            for i in range(70)) + "\r\n", 400, True),
    "header-1mb": ("MSRP hm01 SEND\r\nTo-Path: @TO@\r\n"
                   "From-Path: msrp://127.0.0.1:9/x;tcp\r\nX-Big: " +
                   "y" * (1024 * 1024) + "\r\n-------hm01$\r\n", 400, True),
    "headers-10000": ("MSRP ht01 SEND\r\nTo-Path: @TO@\r\n"
                      "From-Path: msrp://127.0.0.1:9/x;tcp\r\n" +
                      "X-H: 1\r\n" * 10000 + "-------ht01$\r\n", 400, True),
    "bad-utf8": ("MSRP bu01 SEND\r\nTo-Path: @TO@\r\n"
                 "From-Path: msrp://127.0.0.1:9/x;tcp\r\n"
                 "X-Bad: \xc3\x28\xff\xfe\r\n-------bu01$\r\n", 400, True),
    "nul": ("MSRP nu01 SEND\r\nTo-Path: @TO@\r\n"
            "From-Path: msrp://127.0.0.1:9/x;tcp\r\n"
            "X-Nul: a\x00b\r\n-------nu01$\r\n", 400, True),
}


def cmd_frame(a):
    text, want, closed = FRAME_CASES[a.case]
    c = Conn(a.host, a.port)
    data = text.replace("@TO@", a.to).encode("latin-1")
    try:
        c.send(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # closed while we wrote: the answer may still be there
    f = c.frame(10)
    got_closed = c.closed_within(3) if closed else c.closed_within(1)
    print(json.dumps(dict(case=a.case, answer=(f or "").split("\r\n")[0],
                          closed=got_closed)), flush=True)
    if status(f) != want:
        die("%s: answered %r, not %d" % (a.case, (f or "nothing")[:120], want))
    if got_closed != closed:
        die("%s: the connection was%s closed" %
            (a.case, "" if got_closed else " not"))


def cmd_sink(a):
    c, me, f, _ = authed(a, "sink")
    tmp = a.path_file + ".tmp"
    with open(tmp, "w") as out:
        out.write("%s %s\n" % (header(f, "Use-Path"), me))
    os.rename(tmp, a.path_file)
    if a.mode == "stall":
        # A zero window: never read again.
        while True:
            time.sleep(3600)
    c.sock.settimeout(None)
    while c.sock.recv(1 << 20):
        pass


def cmd_stream(a):
    c, me, f, _ = authed(a, "stream")
    to = "%s %s" % (header(f, "Use-Path"), a.to_path)
    t = tid()
    c.send("MSRP %s SEND\r\nTo-Path: %s\r\nFrom-Path: %s\r\n"
           "Message-ID: endless%s\r\nByte-Range: 1-*/*\r\n"
           "Content-Type: application/octet-stream\r\n\r\n" % (t, to, me, t))
    chunk = b"z" * 65536
    sent, start = 0, time.monotonic()
    c.sock.setblocking(False)
    limit = a.max_mb * 1024 * 1024
    while time.monotonic() - start < a.secs and sent < limit:
        _, w, _ = select.select([], [c.sock], [], 0.2)
        if not w:
            continue
        try:
            sent += c.sock.send(chunk)
        except BlockingIOError:
            continue
        except OSError as e:
            die("stream: %s after %d bytes" % (e, sent))
    print(json.dumps(dict(sent=sent, secs=round(time.monotonic() - start, 2))),
          flush=True)
    c.close()


def sources(spec):
    """127.0.X.LO to 127.0.X.HI, X picked at random: another run's
    addresses are not this one's."""
    lo, hi = (int(x) for x in spec.split("-"))
    base = "127.0.%d." % random.randint(2, 250)
    return [base + str(i) for i in range(lo, hi + 1)]


def hold(a, trickle):
    """Keep a.count connections open for a.secs, each sending one byte a
    second (trickle) or nothing; reopen those the relay closes."""
    srcs = sources(a.sources)
    conns = {}
    opened = closed = refused = sent = 0
    nxt = 0
    header = b"MSRP slow0001 SEND\r\nTo-Path: msrp://127.0.0.1:9/" + b"s" * 60

    def open_one():
        nonlocal opened, refused, nxt
        s = socket.socket()
        s.setblocking(False)
        s.bind((srcs[nxt % len(srcs)], 0))
        nxt += 1
        try:
            s.connect((a.host, a.port))
        except BlockingIOError:
            pass
        except OSError:
            refused += 1
            s.close()
            return
        conns[s.fileno()] = [s, 0]
        opened += 1

    start = time.monotonic()
    for _ in range(a.count):
        open_one()
    poller = select.epoll()
    for fd in conns:
        poller.register(fd, select.EPOLLIN | select.EPOLLRDHUP)
    next_tick = start
    while time.monotonic() - start < a.secs:
        for fd, ev in poller.poll(0.05):
            s = conns.get(fd, [None])[0]
            if s is None:
                continue
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                poller.unregister(fd)
                del conns[fd]
                s.close()
                closed += 1
        now = time.monotonic()
        while len(conns) < a.count and now - start < a.secs:
            before = set(conns)
            open_one()
            for fd in set(conns) - before:
                poller.register(fd, select.EPOLLIN | select.EPOLLRDHUP)
            if len(conns) == len(before):
                break
        if trickle and now >= next_tick:
            next_tick = now + 1.0
            for fd, ent in list(conns.items()):
                s, pos = ent
                try:
                    s.send(header[pos % len(header):pos % len(header) + 1])
                    ent[1] += 1
                    sent += 1
                except (BlockingIOError, OSError):
                    pass
    print(json.dumps(dict(held=len(conns), opened=opened, closed=closed,
                          refused=refused, bytes_sent=sent,
                          secs=round(time.monotonic() - start, 2))),
          flush=True)


# Each subcommand's arguments after HOST PORT: (name, argparse options).
USER_PW = [("user", {}), ("password", {})]
HOLD = [("--count", dict(type=int, default=100)),
        ("--secs", dict(type=float, default=5)),
        ("--sources", dict(default="1-20"))]
ARGS = {
    "guess": [("user", {}), ("--secs", dict(type=float, default=5)),
              ("--max", dict(type=int, default=20000)), ("--source", {})],
    "login": USER_PW + [("--source", {}),
                        ("--want", dict(type=int, default=200))],
    "replay": USER_PW + [("--times", dict(type=int, default=3))],
    "hijack": USER_PW + [("peer", {}),
                         ("--wait", dict(type=float, default=2))],
    "frame": [("case", dict(choices=sorted(FRAME_CASES))),
              ("--to", dict(required=True))],
    "sink": USER_PW + [("--mode", dict(choices=["read", "stall"],
                                       default="read")),
                       ("--path-file", dict(required=True))],
    "stream": USER_PW + [("to_path", {}),
                         ("--secs", dict(type=float, default=3)),
                         ("--max-mb", dict(type=int, default=512))],
    "silent": HOLD,
    "slowloris": HOLD,
}


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    for name, args in ARGS.items():
        q = sub.add_parser(name)
        q.add_argument("host")
        q.add_argument("port", type=int)
        for arg, opts in args:
            q.add_argument(arg, **opts)
    a = p.parse_args()
    if a.cmd in ("silent", "slowloris"):
        hold(a, a.cmd == "slowloris")
    else:
        globals()["cmd_" + a.cmd](a)


if __name__ == "__main__":
    main()
