#!/usr/bin/env python3
"""Frame-level MSRP for the integration tests: what msrpcat will not send
(bad credentials on purpose, requests for nobody, garbage), and a proxy that
tampers with a real relay's answers.

  msrp-raw.py [--timeout S] HOST PORT STEP...
      Connect and run the steps in order; exit 0 when all hold, 1 with the
      reason otherwise.  Every frame received is printed as "< START-LINE".
        send=TEXT     send TEXT: a bare "\\n" becomes CRLF, "\\n" written as
                      the two characters \\ n too, and a CRLF is added at
                      the end when missing; @NAME@ is replaced by what an
                      expect captured as (?P<NAME>...)
        raw=TEXT      send TEXT as is after Python escape decoding (\\x00)
        expect=REGEX  read the next whole frame (start line to end-line);
                      REGEX must match in it (re.search, DOTALL|MULTILINE)
        closed        the peer closes the connection (EOF or reset) before
                      sending anything more
        closed=REGEX  the peer closes the connection; every frame before it
                      must match REGEX ("400, or nothing, then close")
        quiet=SECS    nothing arrives for SECS seconds and the connection
                      stays open

  msrp-raw.py proxy LISTEN-HOST PORT TARGET-HOST READY-FILE
      Listen on LISTEN-HOST:PORT, write READY-FILE once listening, and pass
      every connection on to TARGET-HOST:PORT, changing each rspauth the
      relay sends into zeros (a relay impostor that cannot know HA1).
"""
import re
import select
import socket
import sys
import threading
import time

FRAME_START = re.compile(rb"MSRP ([A-Za-z0-9.\-+%=]{3,32}) ")


class Peer:
    """A connection read frame by frame (hostile.py reuses it: @source binds
    the local address, @echo prints each frame's start line)."""

    def __init__(self, host, port, timeout, source=None, echo=True):
        self.sock = socket.create_connection(
            (host, port), timeout=timeout,
            source_address=(source, 0) if source else None)
        self.timeout = timeout
        self.buf = b""
        self.eof = False
        self.echo = echo

    def fill(self, deadline):
        """Read more bytes; False on EOF or reset, None on timeout."""
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([self.sock], [], [], left)
        if not ready:
            return None
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def frame(self, deadline):
        """The next whole frame as text; None on EOF, raises on timeout."""
        while True:
            m = FRAME_START.match(self.buf)
            if m:
                end = re.compile(rb"\r\n-------" + re.escape(m.group(1)) +
                                 rb"[$+#]\r\n")
                e = end.search(self.buf)
                if e:
                    text = self.buf[:e.end()]
                    self.buf = self.buf[e.end():]
                    out = text.decode("utf-8", "replace")
                    if self.echo:
                        print("< " + out.split("\r\n", 1)[0], flush=True)
                    return out
            elif len(self.buf) >= 5 and not self.buf.startswith(b"MSRP "):
                raise AssertionError("not an MSRP frame: %r" % self.buf[:80])
            if self.eof:
                if self.buf:
                    raise AssertionError("connection closed inside a frame: "
                                         "%r" % self.buf[:80])
                return None
            got = self.fill(deadline)
            if got is None:
                raise TimeoutError("no whole frame within %g s (have %r)" %
                                   (self.timeout, self.buf[:80]))


def crlf(text):
    text = text.replace("\\n", "\n")
    if not text.endswith("\n"):
        text += "\n"
    return re.sub(r"(?<!\r)\n", "\r\n", text)


def run_steps(host, port, steps, timeout):
    peer = Peer(host, port, timeout)
    captured = {}
    for step in steps:
        kind, _, arg = step.partition("=")
        deadline = time.monotonic() + timeout
        if kind in ("send", "raw"):
            for k, v in captured.items():
                arg = arg.replace("@%s@" % k, v)
            data = crlf(arg).encode() if kind == "send" else \
                arg.encode("latin-1").decode("unicode_escape").encode("latin-1")
            try:
                peer.sock.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                pass    # a closed connection is for the next step to judge
        elif kind == "expect":
            frame = peer.frame(deadline)
            if frame is None:
                raise AssertionError("closed while expecting /%s/" % arg)
            m = re.search(arg, frame, re.S | re.M)
            if not m:
                raise AssertionError("frame does not match /%s/:\n%s" %
                                     (arg, frame))
            captured.update({k: v for k, v in m.groupdict().items()
                             if v is not None})
        elif kind == "closed":
            while True:
                frame = peer.frame(deadline)
                if frame is None:
                    print("closed", flush=True)
                    break
                if not arg or not re.search(arg, frame, re.S | re.M):
                    raise AssertionError("got a frame instead of the close:"
                                         "\n%s" % frame)
        elif kind == "quiet":
            deadline = time.monotonic() + float(arg)
            while time.monotonic() < deadline:
                got = peer.fill(deadline)
                if got is False:
                    raise AssertionError("closed during quiet=%s" % arg)
                if got:
                    raise AssertionError("got %r during quiet=%s" %
                                         (peer.buf[:80], arg))
        else:
            raise SystemExit("unknown step %r" % step)
    peer.sock.close()


def tamper(data):
    return re.sub(rb'rspauth="([0-9a-fA-F]+)"',
                  lambda m: b'rspauth="' + b"0" * len(m.group(1)) + b'"', data)


def pump(src, dst, change):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(change(data) if change else data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def proxy(listen_host, port, target_host, ready_file):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((listen_host, port))
    srv.listen(16)
    with open(ready_file, "w") as f:
        f.write("listening\n")
    while True:
        client, _ = srv.accept()
        upstream = socket.create_connection((target_host, port))
        threading.Thread(target=pump, args=(client, upstream, None),
                         daemon=True).start()
        threading.Thread(target=pump, args=(upstream, client, tamper),
                         daemon=True).start()


def main(argv):
    timeout = 10.0
    if len(argv) > 2 and argv[1] == "--timeout":
        timeout = float(argv[2])
        argv = argv[:1] + argv[3:]
    if len(argv) == 6 and argv[1] == "proxy":
        proxy(argv[2], int(argv[3]), argv[4], argv[5])
        return 0
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        run_steps(argv[1], int(argv[2]), argv[3:], timeout)
    except (AssertionError, TimeoutError, OSError) as e:
        print("msrp-raw: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
