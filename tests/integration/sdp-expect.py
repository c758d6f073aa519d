#!/usr/bin/env python3
"""sdp-expect.py: SDP bodies out of SIPp message traces, and the check that
an SDP came through msrp-edge as the decision table of neg-spec.md says.

  sdp-expect.py body TRACE sent|received START OUT [TRACE ... OUT]...
      The body of the first message SIPp sent (or received) whose first
      line starts with START ("INVITE", "SIP/2.0 200"), from a sipp
      -trace_msg file, written byte for byte to OUT; as many as given.

  sdp-expect.py check SENT RECEIVED same
      RECEIVED is SENT byte for byte.

  sdp-expect.py check SENT RECEIVED setup VALUE
      RECEIVED is SENT with only the a=setup of the MSRP stream now VALUE.

  sdp-expect.py check SENT RECEIVED relay HOST PORT VALUE
      RECEIVED is SENT with the MSRP stream moved to the gateway: its m=
      port is PORT, its c= (right after m=, RFC 8866 section 5) is
      "IN IP4 HOST", its a=path starts with msrp://HOST:PORT/<id>;tcp
      followed by the path it had, its a=setup is VALUE; every other line
      (the session part, the other media sections, the other attributes
      of the stream) unchanged and in order.  Prints the gateway URI.

Exit status 0 when the check holds; 1 with the differences on stderr.
"""
import re
import sys


def trace_body(path, direction, start):
    data = open(path, "rb").read()
    # Blocks: a line of dashes and a time stamp, "UDP message sent (N
    # bytes):" or "UDP message received [N] bytes :", a blank line, the
    # message.
    blocks = re.split(rb"\n-{20,} [^\n]*\n", b"\n" + data)
    for block in blocks:
        head, _, msg = block.partition(b"\n\n")
        if (b"message " + direction.encode()) not in head:
            continue
        if not msg.startswith(start.encode()):
            continue
        hdrs, sep, body = msg.partition(b"\r\n\r\n")
        if not sep:
            continue
        m = re.search(rb"(?im)^(?:content-length|l)\s*:\s*(\d+)", hdrs)
        if m is None:
            sys.exit("sdp-expect: no Content-Length in the message")
        n = int(m.group(1))
        if len(body) < n:
            sys.exit("sdp-expect: the body is shorter than its Content-Length")
        return body[:n]
    sys.exit("sdp-expect: no %s message starting with %r in %s"
             % (direction, start, path))


def lines_of(data):
    text = data.decode("utf-8")
    if not text.endswith("\r\n"):
        raise SystemExit("sdp-expect: the SDP does not end with CRLF")
    return text[:-2].split("\r\n")


def sections(lines):
    """[session lines, media section lines...]"""
    out = [[]]
    for line in lines:
        if line.startswith("m="):
            out.append([])
        out[-1].append(line)
    return out


def is_msrp(section):
    return bool(re.match(r"m=message \d+ TCP(/TLS)?/MSRP ", section[0]))


def expected(sent, mode, args):
    """The expected lines; a regular expression where a line may vary."""
    secs = sections(lines_of(sent))
    out = list(secs[0])
    msrp_seen = False
    for sec in secs[1:]:
        if not is_msrp(sec):
            out += sec
            continue
        msrp_seen = True
        if mode == "setup":
            value = args[0]
            new = [("a=setup:" + value) if l.startswith("a=setup:") else l
                   for l in sec]
            if not any(l.startswith("a=setup:") for l in sec):
                new.append("a=setup:" + value)
            out += new
        elif mode == "relay":
            host, port, value = args
            m = sec[0].split(" ")
            m[1] = port
            out.append(" ".join(m))
            out.append("c=IN IP4 " + host)
            for l in sec[1:]:
                if l.startswith("c="):
                    continue
                if l.startswith("a=path:"):
                    out.append(re.compile(
                        re.escape("a=path:msrp://%s:%s/" % (host, port)) +
                        r"[A-Za-z0-9._~+=%-]+;tcp " +
                        re.escape(l[len("a=path:"):])))
                elif l.startswith("a=setup:"):
                    out.append("a=setup:" + value)
                elif l.startswith(("a=candidate:", "a=ice-")):
                    continue
                else:
                    out.append(l)
    if not msrp_seen:
        raise SystemExit("sdp-expect: the sent SDP has no MSRP stream")
    return out


def check(sent_path, recv_path, mode, args):
    sent = open(sent_path, "rb").read()
    recv = open(recv_path, "rb").read()
    if mode == "same":
        if sent == recv:
            return 0
        want = lines_of(sent)
    else:
        want = expected(sent, mode, args)
    got = lines_of(recv)
    problems = []
    for i in range(max(len(want), len(got))):
        w = want[i] if i < len(want) else None
        g = got[i] if i < len(got) else None
        if isinstance(w, re.Pattern):
            ok = g is not None and w.fullmatch(g) is not None
            shown = "/" + w.pattern + "/"
        else:
            ok = w == g
            shown = w
        if not ok:
            problems.append("line %d: want %r, got %r" % (i + 1, shown, g))
    if mode == "same" and not problems:
        problems.append("the same lines, but not the same bytes")
    if problems:
        print("sdp-expect: %s differs from %s (%s %s):"
              % (recv_path, sent_path, mode, " ".join(args)), file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        print("--- received:\n" + recv.decode("utf-8", "replace"),
              file=sys.stderr)
        return 1
    if mode == "relay":
        for l in got:
            if l.startswith("a=path:"):
                print(l[len("a=path:"):].split(" ")[0])
    return 0


def main(argv):
    if len(argv) >= 6 and argv[1] == "body" and (len(argv) - 2) % 4 == 0:
        for i in range(2, len(argv), 4):
            body = trace_body(argv[i], argv[i + 1], argv[i + 2])
            with open(argv[i + 3], "wb") as f:
                f.write(body)
        return 0
    if len(argv) >= 5 and argv[1] == "check":
        mode, args = argv[4], argv[5:]
        if (mode, len(args)) in (("same", 0), ("setup", 1), ("relay", 3)):
            return check(argv[2], argv[3], mode, args)
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
