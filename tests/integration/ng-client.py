#!/usr/bin/env python3
"""ng-client.py: a small rtpengine ng control client for the test scripts.

    ng-client.py [--server HOST:PORT] COMMAND [OPTIONS]

COMMAND is ping, offer, answer, delete, query, list or statistics.  The
request is a cookie, a space and a bencoded dictionary sent over UDP
(rtpengine's ng protocol); the reply must repeat the cookie.  Without a
reply the same datagram (same cookie) is sent again after --retry-after
seconds (default 1), up to --retries times (default 3), so a server that
caches replies by cookie answers a retransmission without executing the
request twice.

The reply dictionary is printed as one line of JSON on stdout (byte strings
decoded as UTF-8, undecodable bytes escaped as U+DCxx); with --out FILE the
reply's `sdp` is also written to FILE, byte for byte.

Options (rtpengine's keys):
  --call-id X, --from-tag F, --to-tag T, --via-branch B
  --received-from ADDR       sent as ["IP4"|"IP6", ADDR] (rtpengine's form);
                             --received-from-bare sends the bare address
  --flag NAME                one entry of `flags` (repeatable)
  --sdp-file FILE | --sdp TEXT
  --set KEY=VALUE            any other string key (repeatable)
  --cookie C                 the cookie (default: random)
  --source HOST:PORT         send from there (the server's reply cache is
                             keyed by sender address and cookie)

Exit status: 0 result ok or pong; 1 result error (or anything else); 2
usage; 3 no reply after the retries, or a reply that cannot be read.

`ng-client.py selftest [NG-STUB]` checks the bencode codec and the
retransmission logic against a local fake server, and with NG-STUB
(tests/integration/ng-stub) every command against the real ng server,
including a request repeated with its cookie being answered from the cache.
"""

import argparse
import json
import os
import random
import socket
import string
import sys
import threading
import time


# --- bencode ------------------------------------------------------------------

class BencodeError(ValueError):
    pass


def bencode(value):
    """Encode str (as UTF-8), bytes, int, list/tuple and dict (keys sorted
    as raw byte strings, as the format requires)."""
    out = []
    _encode(value, out)
    return b"".join(out)


def _encode(v, out):
    if isinstance(v, bool):
        raise BencodeError("booleans have no bencode form")
    if isinstance(v, int):
        out.append(b"i%de" % v)
    elif isinstance(v, str):
        b = v.encode("utf-8", "surrogateescape")
        out.append(b"%d:" % len(b))
        out.append(b)
    elif isinstance(v, (bytes, bytearray)):
        out.append(b"%d:" % len(v))
        out.append(bytes(v))
    elif isinstance(v, (list, tuple)):
        out.append(b"l")
        for x in v:
            _encode(x, out)
        out.append(b"e")
    elif isinstance(v, dict):
        items = []
        for k, x in v.items():
            kb = k.encode("utf-8", "surrogateescape") if isinstance(k, str) else bytes(k)
            items.append((kb, x))
        items.sort(key=lambda kv: kv[0])
        for i in range(1, len(items)):
            if items[i][0] == items[i - 1][0]:
                raise BencodeError("duplicate key %r" % items[i][0])
        out.append(b"d")
        for kb, x in items:
            out.append(b"%d:" % len(kb))
            out.append(kb)
            _encode(x, out)
        out.append(b"e")
    else:
        raise BencodeError("cannot encode %r" % type(v).__name__)


def bdecode(data):
    """Decode one bencoded value that fills @data exactly.  Strings come
    back as bytes, dictionary keys too."""
    if not isinstance(data, (bytes, bytearray)):
        raise BencodeError("bdecode wants bytes")
    value, pos = _decode(bytes(data), 0, 0)
    if pos != len(data):
        raise BencodeError("%d bytes after the value" % (len(data) - pos))
    return value


def _int_at(data, pos, end_char):
    end = data.find(end_char, pos)
    if end < 0:
        raise BencodeError("unterminated number at %d" % pos)
    text = data[pos:end]
    if not text or not (text.isdigit() or (text[:1] == b"-" and text[1:].isdigit())):
        raise BencodeError("bad number %r at %d" % (text, pos))
    if text == b"-0" or (len(text) > 1 and text[:1] == b"0") or text[:2] == b"-0":
        raise BencodeError("non-canonical number %r at %d" % (text, pos))
    return int(text), end + 1


def _decode(data, pos, depth):
    if depth > 64:
        raise BencodeError("nested too deep")
    if pos >= len(data):
        raise BencodeError("truncated at %d" % pos)
    c = data[pos:pos + 1]
    if c == b"i":
        return _int_at(data, pos + 1, b"e")
    if c.isdigit():
        n, start = _int_at(data, pos, b":")
        if n < 0:
            raise BencodeError("negative length at %d" % pos)
        if start + n > len(data):
            raise BencodeError("string of %d bytes at %d runs past the end" % (n, pos))
        return data[start:start + n], start + n
    if c == b"l":
        pos += 1
        items = []
        while data[pos:pos + 1] != b"e":
            v, pos = _decode(data, pos, depth + 1)
            items.append(v)
        return items, pos + 1
    if c == b"d":
        pos += 1
        d = {}
        while data[pos:pos + 1] != b"e":
            if not data[pos:pos + 1].isdigit():
                raise BencodeError("dictionary key at %d is not a string" % pos)
            k, pos = _decode(data, pos, depth + 1)
            # Encoders should sort the keys; unsorted ones are read, but a
            # duplicate is an error.
            if k in d:
                raise BencodeError("duplicate key %r" % k)
            v, pos = _decode(data, pos, depth + 1)
            d[k] = v
        return d, pos + 1
    raise BencodeError("unexpected byte %r at %d" % (c, pos))


def to_text(v):
    """The decoded reply with bytes made str (UTF-8, surrogateescape)."""
    if isinstance(v, bytes):
        return v.decode("utf-8", "surrogateescape")
    if isinstance(v, list):
        return [to_text(x) for x in v]
    if isinstance(v, dict):
        return {to_text(k): to_text(x) for k, x in v.items()}
    return v


# --- the exchange ---------------------------------------------------------------

class NoReply(Exception):
    pass


def new_cookie():
    return "".join(random.choice(string.ascii_lowercase + string.digits)
                   for _ in range(12))


def exchange(server, request, cookie, retry_after=1.0, retries=3, log=None,
             source=None):
    """Send @request (a dict) to @server ((host, port)) with @cookie and
    return the decoded reply dictionary.  Retransmits the same datagram
    after @retry_after seconds, at most @retries times."""
    datagram = cookie.encode("ascii") + b" " + bencode(request)
    family = socket.AF_INET6 if ":" in server[0] else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    try:
        if source is not None:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(source)
        s.connect(server)
        for attempt in range(retries + 1):
            if attempt and log:
                log("ng-client: no reply after %.1f s, retransmission %d"
                    % (retry_after, attempt))
            try:
                s.send(datagram)
            except ConnectionRefusedError:
                pass   # an ICMP error from an earlier try; go on
            deadline = time.monotonic() + retry_after
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                s.settimeout(left)
                try:
                    data = s.recv(65536)
                except socket.timeout:
                    break
                except ConnectionRefusedError:
                    # Nobody listens (yet): the port-unreachable of this
                    # or an earlier try; wait out the period and retry.
                    time.sleep(max(0.0, deadline - time.monotonic()))
                    break
                sp = data.find(b" ")
                if sp < 0 or data[:sp] != cookie.encode("ascii"):
                    if log:
                        log("ng-client: a datagram with another cookie ignored")
                    continue
                reply = bdecode(data[sp + 1:])
                if not isinstance(reply, dict):
                    raise BencodeError("the reply is not a dictionary")
                return reply
        raise NoReply("no reply from %s:%d after %d tries"
                      % (server[0], server[1], retries + 1))
    finally:
        s.close()


def parse_server(text):
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
    else:
        host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("HOST:PORT, not %r" % text)
    return host, int(port)


def build_request(args):
    req = {"command": args.command}
    for opt, key in (("call_id", "call-id"), ("from_tag", "from-tag"),
                     ("to_tag", "to-tag"), ("via_branch", "via-branch")):
        v = getattr(args, opt)
        if v is not None:
            req[key] = v
    if args.received_from is not None:
        if args.received_from_bare:
            req["received-from"] = args.received_from
        else:
            fam = "IP6" if ":" in args.received_from else "IP4"
            req["received-from"] = [fam, args.received_from]
    if args.flag:
        req["flags"] = list(args.flag)
    if args.sdp_file is not None:
        with open(args.sdp_file, "rb") as f:
            req["sdp"] = f.read()
    elif args.sdp is not None:
        req["sdp"] = args.sdp
    for kv in args.set or []:
        k, sep, v = kv.partition("=")
        if not sep:
            raise SystemExit("ng-client: --set wants KEY=VALUE, not %r" % kv)
        req[k] = v
    return req


def main(argv):
    p = argparse.ArgumentParser(
        prog="ng-client.py", description="rtpengine ng control client")
    p.add_argument("--server", type=parse_server,
                   default=parse_server("127.0.0.1:2223"))
    p.add_argument("--retry-after", type=float, default=1.0)
    p.add_argument("--retries", type=int, default=3)
    p.add_argument("--cookie")
    p.add_argument("--source", type=parse_server,
                   help="send from this HOST:PORT (a retransmission by a "
                   "later run must come from the same address)")
    p.add_argument("--quiet", action="store_true",
                   help="no retransmission notes on stderr")
    p.add_argument("command", choices=["ping", "offer", "answer", "delete",
                                        "query", "list", "statistics",
                                        "selftest"])
    p.add_argument("--call-id")
    p.add_argument("--from-tag")
    p.add_argument("--to-tag")
    p.add_argument("--via-branch")
    p.add_argument("--received-from")
    p.add_argument("--received-from-bare", action="store_true")
    p.add_argument("--flag", action="append")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--sdp-file")
    g.add_argument("--sdp")
    p.add_argument("--set", action="append", metavar="KEY=VALUE")
    p.add_argument("--out", help="write the reply's sdp to this file")
    p.add_argument("stub", nargs="?",
                   help="selftest: also drive this ng-stub binary")
    args = p.parse_args(argv)

    if args.command == "selftest":
        return selftest(args.stub)
    if args.command in ("offer", "answer") and args.sdp_file is None and args.sdp is None:
        p.error("%s needs --sdp-file or --sdp" % args.command)
    log = None if args.quiet else (lambda m: print(m, file=sys.stderr))
    try:
        reply = exchange(args.server, build_request(args),
                         args.cookie or new_cookie(),
                         args.retry_after, args.retries, log, args.source)
    except NoReply as e:
        print("ng-client: %s" % e, file=sys.stderr)
        return 3
    except BencodeError as e:
        print("ng-client: the reply cannot be read: %s" % e, file=sys.stderr)
        return 3
    if args.out is not None and b"sdp" in reply:
        with open(args.out, "wb") as f:
            f.write(reply[b"sdp"] if isinstance(reply[b"sdp"], bytes) else b"")
    text = to_text(reply)
    print(json.dumps(text, sort_keys=True))
    result = text.get("result")
    if result in ("ok", "pong"):
        return 0
    if result == "error":
        print("ng-client: error: %s" % text.get("error-reason", "(no reason)"),
              file=sys.stderr)
    return 1


# --- self test -------------------------------------------------------------------

def selftest(stub=None):
    # Codec.
    cases = [
        (0, b"i0e"), (-42, b"i-42e"), ("", b"0:"), ("spam", b"4:spam"),
        ([], b"le"), ({}, b"de"),
        ({"b": 1, "a": ["x", {"c": b"\x00\xff"}]},
         b"d1:al1:xd1:c2:\x00\xffee1:bi1ee"),
        ("h\u00e9", b"3:h\xc3\xa9"),
    ]
    for v, want in cases:
        got = bencode(v)
        assert got == want, (v, got, want)
        back = bdecode(got)
        assert to_text(back) == to_text(v), (v, back)
    for bad in [b"", b"i e", b"i01e", b"i-0e", b"5:abc", b"l", b"d1:ai1e",
                b"di1ei2ee", b"x", b"i1ei2e", b"d1:ai1e1:ai2ee", b"-1:a"]:
        try:
            bdecode(bad)
        except BencodeError:
            continue
        raise AssertionError("accepted %r" % bad)

    # Retransmission: a fake server that ignores the first two datagrams,
    # checks every retry carries the same cookie and bytes, and answers the
    # third; one that never answers makes exchange() give up after
    # retries + 1 tries.
    def fake(sock, drop, seen, reply_dict):
        while True:
            try:
                data, peer = sock.recvfrom(65536)
            except OSError:
                return
            seen.append(data)
            if len(seen) <= drop:
                continue
            cookie = data.split(b" ", 1)[0]
            sock.sendto(b"wrong " + bencode({"result": "error"}), peer)
            sock.sendto(cookie + b" " + bencode(reply_dict), peer)

    for drop, expect_ok in ((2, True), (99, False)):
        srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        srv.bind(("127.0.0.1", 0))
        seen = []
        t = threading.Thread(target=fake, args=(srv, drop, seen,
                                                {"result": "pong"}), daemon=True)
        t.start()
        start = time.monotonic()
        try:
            r = exchange(srv.getsockname(), {"command": "ping"}, "ck1",
                         retry_after=0.2, retries=3)
            assert expect_ok and to_text(r) == {"result": "pong"}, r
            assert len(seen) == 3 and len(set(seen)) == 1, seen
        except NoReply:
            assert not expect_ok
            assert len(seen) == 4 and len(set(seen)) == 1, seen
            assert time.monotonic() - start < 2, "gave up too late"
        srv.close()
    print("selftest: bencode codec and retransmission ok")
    if stub is not None:
        selftest_stub(stub)
    return 0


def selftest_stub(stub):
    """Every command against tests/integration/ng-stub (the real ng server
    of gw-ng.c with a stub handler), through main() as the shell uses it."""
    import contextlib
    import io
    import subprocess
    import tempfile

    p = subprocess.Popen([stub, "127.0.0.1"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    try:
        addr = p.stdout.readline().strip()
        assert p.stdout.readline().strip() == "ready", "ng-stub did not start"

        def run(*argv):
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                rc = main(["--server", addr, "--quiet"] + list(argv))
            text = out.getvalue()
            return rc, (json.loads(text) if text.strip() else None)

        sdp = b"v=0\r\nc=IN IP4 10.0.1.2\r\nm=message 7 TCP/MSRP *\r\na=path:msrp://10.0.1.2:7/s;tcp\r\n"
        with tempfile.TemporaryDirectory() as d:
            inp, outp = os.path.join(d, "in.sdp"), os.path.join(d, "out.sdp")
            with open(inp, "wb") as f:
                f.write(sdp)
            assert run("ping") == (0, {"result": "pong"})
            probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            probe.bind(("127.0.0.1", 0))
            src = "127.0.0.1:%d" % probe.getsockname()[1]
            probe.close()
            rc, r = run("offer", "--call-id", "X", "--from-tag", "F",
                        "--received-from", "203.0.113.20", "--flag",
                        "callee-reachable", "--flag", "trust-address",
                        "--sdp-file", inp, "--out", outp, "--cookie", "same1",
                        "--source", src)
            assert rc == 0 and r["result"] == "ok", r
            assert r["warning"] == "stub: flags [callee-reachable,trust-address], received from 203.0.113.20", r
            with open(outp, "rb") as f:
                assert f.read() == sdp, "--out did not write the sdp byte for byte"
            rc, st1 = run("statistics")
            # The same cookie from the same address again (a retransmission
            # whose first reply was lost): answered from the cache, not
            # executed (the request differs, yet the reply is the first).
            rc, r2 = run("offer", "--call-id", "X", "--from-tag", "F",
                         "--sdp-file", inp, "--cookie", "same1",
                         "--source", src)
            assert rc == 0 and r2 == r, (r2, r)
            rc, st2 = run("statistics")
            assert st2["statistics"]["requests"] == st1["statistics"]["requests"] + 1, (st1, st2)
            rc, r = run("answer", "--call-id", "X", "--from-tag", "F",
                        "--to-tag", "T", "--received-from", "::1", "--sdp",
                        "v=0\r\n")
            assert rc == 0 and "received from ::1" in r["warning"], r
            for cmd in ("query", "delete"):
                assert run(cmd, "--call-id", "X") == (0, {"result": "ok"}), cmd
            rc, r = run("list")
            assert rc == 0 and r["calls"] == ["X"], r
            rc, r = run("answer", "--call-id", "X", "--from-tag", "F",
                        "--sdp", "v=0\r\n")
            assert rc == 1 and r["result"] == "error" and "to-tag" in r["error-reason"], r
    finally:
        p.terminate()
        p.wait()
    print("selftest: every command against %s ok" % stub)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
