#!/usr/bin/env python3
"""ng-bench.py: a pipelining rtpengine ng client, the control-plane load of
tests/bench/bench-scale.sh (prints figures; not a test).

    ng-bench.py --server HOST:PORT [--calls N] [--window W] [--pid PID]
                [--relay-uri URI] [--timeout S] [--retries R] [--json]

Sends N offers (call-ids distinct, each with one m=message TCP/MSRP stream
from an offerer behind NAT: c= 10.0.0.5, actpass, `received from`
127.0.0.2), then N answers (the answerer behind NAT too, a=setup:active:
decision table row 14, a relay plan in which the gateway connects to
nobody), then N deletes.  Each phase keeps up to W requests in flight on one
UDP socket and matches the replies by cookie; a request unanswered after
--timeout seconds is sent again with the same cookie (the server answers a
retransmission from its cache), up to --retries times, then counted as
lost.  A phase starts when the previous one has had every reply.

Per phase it reports requests, ok replies, error replies (result error, with
the first reason), lost requests, retransmissions, the elapsed time, the
rate (requests answered per second) and the reply latency p50/p99; with
--relay-uri, how many offer and answer replies carry that URI (the stream
is relayed); with --pid, the server process's CPU time (utime+stime from
/proc/PID/stat) per request.  --json prints one JSON object instead of the
text lines.  Exit status 0 when every request got an ok reply.
"""

import argparse
import importlib.util
import json
import os
import random
import select
import socket
import string
import sys
import time

_here = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "ng_client", os.path.join(_here, "..", "integration", "ng-client.py"))
ng_client = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ng_client)
bencode, bdecode = ng_client.bencode, ng_client.bdecode

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_us(pid):
    if pid is None:
        return None
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) * 1e6 / CLK_TCK


def offer_sdp(i):
    port = 20000 + i % 40000
    return ("v=0\r\no=alice %d 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\n"
            "t=0 0\r\nm=message %d TCP/MSRP *\r\na=accept-types:text/plain\r\n"
            "a=path:msrp://10.0.0.5:%d/a%07d;tcp\r\na=setup:actpass\r\n"
            % (i, port, port, i))


def answer_sdp(i):
    return ("v=0\r\no=bob %d 1 IN IP4 10.0.0.6\r\ns=-\r\nc=IN IP4 10.0.0.6\r\n"
            "t=0 0\r\nm=message 9 TCP/MSRP *\r\na=accept-types:text/plain\r\n"
            "a=path:msrp://10.0.0.6:9/b%07d;tcp\r\na=setup:active\r\n" % (i, i))


def request(phase, i, tag):
    call_id = "ngbench-%s-%d@127.0.0.2" % (tag, i)
    if phase == "offer":
        return {"command": "offer", "call-id": call_id, "from-tag": "a%d" % i,
                "received from": ["IP4", "127.0.0.2"], "sdp": offer_sdp(i)}
    if phase == "answer":
        return {"command": "answer", "call-id": call_id, "from-tag": "a%d" % i,
                "to-tag": "b%d" % i, "received from": ["IP4", "127.0.0.3"],
                "sdp": answer_sdp(i)}
    return {"command": "delete", "call-id": call_id, "from-tag": "a%d" % i}


def percentile(sorted_values, p):
    if not sorted_values:
        return None
    k = min(len(sorted_values) - 1, int(round(p / 100.0 * (len(sorted_values) - 1))))
    return sorted_values[k]


def run_phase(sock, phase, n, window, timeout, retries, tag, relay_uri, pid):
    prefix = "%s%s" % (phase[0], "".join(random.choice(string.ascii_lowercase)
                                          for _ in range(6)))
    pending = {}          # cookie -> [datagram, first_sent, last_sent, tries, i]
    nxt = 0
    ok = err = lost = retrans = relayed = 0
    first_error = None
    lat = []
    cpu0 = cpu_us(pid)
    t0 = time.monotonic()
    while nxt < n or pending:
        now = time.monotonic()
        while nxt < n and len(pending) < window:
            cookie = "%s%d" % (prefix, nxt)
            dgram = cookie.encode() + b" " + bencode(request(phase, nxt, tag))
            try:
                sock.send(dgram)
            except (BlockingIOError, ConnectionRefusedError):
                pass      # sent again after the timeout
            pending[cookie.encode()] = [dgram, now, now, 0, nxt]
            nxt += 1
        # The oldest deadline (dicts keep insertion order; retransmitted
        # entries are moved to the end).
        wait = 0.05
        if pending:
            oldest = next(iter(pending.values()))
            wait = max(0.0, oldest[2] + timeout - now)
        r, _, _ = select.select([sock], [], [], wait)
        if r:
            while True:
                try:
                    data = sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    break
                except ConnectionRefusedError:
                    continue
                sp = data.find(b" ")
                entry = pending.pop(data[:sp], None) if sp > 0 else None
                if entry is None:
                    continue      # a late duplicate
                lat.append(time.monotonic() - entry[1])
                try:
                    reply = bdecode(data[sp + 1:])
                except ng_client.BencodeError as e:
                    err += 1
                    first_error = first_error or "unreadable reply: %s" % e
                    continue
                if reply.get(b"result") == b"ok":
                    ok += 1
                    if relay_uri and relay_uri.encode() in reply.get(b"sdp", b""):
                        relayed += 1
                else:
                    err += 1
                    if first_error is None:
                        first_error = ng_client.to_text(
                            reply.get(b"error-reason", reply.get(b"result", b"?")))
        now = time.monotonic()
        for cookie in list(pending):
            entry = pending[cookie]
            if now - entry[2] < timeout:
                break
            del pending[cookie]
            if entry[3] >= retries:
                lost += 1
                continue
            entry[3] += 1
            entry[2] = now
            retrans += 1
            try:
                sock.send(entry[0])
            except (BlockingIOError, ConnectionRefusedError):
                pass
            pending[cookie] = entry
    elapsed = time.monotonic() - t0
    cpu1 = cpu_us(pid)
    lat.sort()
    res = {"phase": phase, "requests": n, "ok": ok, "errors": err, "lost": lost,
           "retransmissions": retrans, "elapsed_s": elapsed,
           "per_s": (ok + err) / elapsed if elapsed > 0 else None,
           "latency_ms": {"p50": percentile(lat, 50) * 1e3 if lat else None,
                          "p99": percentile(lat, 99) * 1e3 if lat else None},
           "first_error": first_error}
    if relay_uri and phase != "delete":
        res["relayed"] = relayed
    if pid is not None:
        res["server_cpu_us_per_request"] = (cpu1 - cpu0) / n if n else None
    return res


def main(argv):
    p = argparse.ArgumentParser(prog="ng-bench.py")
    p.add_argument("--server", type=ng_client.parse_server, required=True)
    p.add_argument("--calls", type=int, default=10000)
    p.add_argument("--window", type=int, default=64)
    p.add_argument("--timeout", type=float, default=2.0)
    p.add_argument("--retries", type=int, default=3)
    p.add_argument("--pid", type=int)
    p.add_argument("--relay-uri")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if args.calls < 1 or args.window < 1:
        p.error("--calls and --window must be at least 1")

    family = socket.AF_INET6 if ":" in args.server[0] else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    sock.connect(args.server)
    sock.setblocking(False)
    tag = "%d-%d" % (os.getpid(), int(time.time()))
    results = []
    for phase in ("offer", "answer", "delete"):
        results.append(run_phase(sock, phase, args.calls, args.window,
                                 args.timeout, args.retries, tag,
                                 args.relay_uri, args.pid))
    sock.close()
    if args.json:
        print(json.dumps({"calls": args.calls, "window": args.window,
                          "phases": results}))
    else:
        for r in results:
            print("%-6s %d requests: %d ok, %d errors, %d lost, %d retransmitted, "
                  "%.2f s, %.0f/s, p50 %.2f ms, p99 %.2f ms%s%s%s" % (
                      r["phase"], r["requests"], r["ok"], r["errors"], r["lost"],
                      r["retransmissions"], r["elapsed_s"], r["per_s"] or 0,
                      r["latency_ms"]["p50"] or 0, r["latency_ms"]["p99"] or 0,
                      ", relayed %d" % r["relayed"] if "relayed" in r else "",
                      ", server CPU %.1f us/request" % r["server_cpu_us_per_request"]
                      if r.get("server_cpu_us_per_request") is not None else "",
                      ", first error: %s" % r["first_error"]
                      if r["first_error"] else ""))
    return 0 if all(r["ok"] == r["requests"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
