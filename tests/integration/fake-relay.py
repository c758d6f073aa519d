#!/usr/bin/env python3
"""A stand-in RFC 4976 relay for msrpcat's AUTH tests: just enough of a relay
to challenge, check Digest credentials (MD5 and SHA-256, RFC 7616) the way
RFC 4976 section 9.1 says, hand out a Use-Path, and answer the SENDs sent
through it (200 and a success REPORT), logging the paths it saw.

  fake-relay.py PORT-FILE LOG-FILE

Users: alice/secret (allowed), carol/secret (its rspauth is wrong on
purpose), bob/secret (403).  A second relay, msrp://relay2.test:9;tcp, is
"behind" this one: AUTH to it through our session URI is answered as if it
had been forwarded, with a Use-Path of its own URI only.
"""
import hashlib
import os
import re
import socket
import sys
import threading

port_file, log_file = sys.argv[1], sys.argv[2]
REALMS = {"R1": "fake.test", "R2": "relay2.test"}
R2 = "msrp://relay2.test:9;tcp"
PASSWORDS = {"alice": "secret", "carol": "secret", "bob": "secret"}
log_lock = threading.Lock()


def log(line):
    with log_lock, open(log_file, "a") as f:
        f.write(line + "\n")


def H(alg, text):
    f = hashlib.sha256 if alg == "SHA-256" else hashlib.md5
    return f(text.encode()).hexdigest()


def parse_params(value):
    assert value.startswith("Digest ")
    out = {}
    for m in re.finditer(r'(\w+)=("([^"]*)"|[^,\s]+)', value[7:]):
        out[m.group(1).lower()] = m.group(3) if m.group(3) is not None \
            else m.group(2)
    return out


class Conn(threading.Thread):
    def __init__(self, sock, me):
        super().__init__(daemon=True)
        self.sock, self.me, self.buf = sock, me, b""
        self.session = "msrp://127.0.0.1:%d/r1sess%d;tcp" % (
            sock.getsockname()[1], id(self) % 100000)
        self.r2session = "msrp://relay2.test:9/r2sess;tcp"

    def read_frame(self):
        while True:
            m = re.match(rb"MSRP (\S+) ", self.buf)
            if m:
                tid = m.group(1)
                end = re.search(rb"-------" + re.escape(tid) + rb"([$+#])\r\n",
                                self.buf)
                if end:
                    frame = self.buf[:end.end()]
                    self.buf = self.buf[end.end():]
                    return frame.decode("utf-8", "replace")
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buf += data

    def send(self, text):
        self.sock.sendall(text.encode())

    def respond(self, tid, code, reason, to, frm, extra=""):
        self.send("MSRP %s %d %s\r\nTo-Path: %s\r\nFrom-Path: %s\r\n%s"
                  "-------%s$\r\n" % (tid, code, reason, to, frm, extra, tid))

    def challenge(self, realm):
        nonce = os.urandom(12).hex()
        return ("WWW-Authenticate: Digest realm=\"%s\", nonce=\"%s\", "
                "qop=\"auth\", algorithm=SHA-256\r\n"
                "WWW-Authenticate: Digest realm=\"%s\", nonce=\"%s\", "
                "qop=\"auth\", algorithm=MD5\r\n" % (realm, nonce, realm,
                                                       nonce))

    def auth(self, tid, headers, to, frm):
        target = "R2" if len(to) == 2 else "R1"
        realm = REALMS[target]
        back = " ".join(frm)
        me = to[-1]
        if "authorization" not in headers:
            self.respond(tid, 401, "Unauthorized", back, me,
                         self.challenge(realm))
            return
        p = parse_params(headers["authorization"])
        alg = p.get("algorithm", "MD5")
        user = p["username"]
        ha1 = H(alg, "%s:%s:%s" % (user, realm, PASSWORDS.get(user, "")))
        a2 = H(alg, "AUTH:" + p["uri"])
        want = H(alg, ":".join([ha1, p["nonce"], p["nc"], p["cnonce"],
                                p["qop"], a2]))
        ok = (user in PASSWORDS and p["response"] == want and
              p["uri"] == to[-1] and p["realm"] == realm)
        log("AUTH %s user=%s alg=%s uri=%s ok=%s" % (target, user, alg,
                                                     p["uri"], ok))
        if not ok:
            self.respond(tid, 401, "Unauthorized", back, me,
                         self.challenge(realm))
            return
        if user == "bob":
            self.respond(tid, 403, "Forbidden", back, me)
            return
        rspauth = H(alg, ":".join([ha1, p["nonce"], p["nc"], p["cnonce"],
                                   p["qop"], H(alg, ":" + p["uri"])]))
        if user == "carol":
            rspauth = "0" * len(rspauth)
        use_path = self.session if target == "R1" else self.r2session
        info = ("Authentication-Info: rspauth=\"%s\", cnonce=\"%s\", "
                "nc=%s, qop=auth\r\n" % (rspauth, p["cnonce"], p["nc"]))
        self.respond(tid, 200, "OK", back, me,
                     "Use-Path: %s\r\nExpires: 600\r\n%s" % (use_path, info))

    def run(self):
        while True:
            frame = self.read_frame()
            if frame is None:
                self.sock.close()
                return
            head = frame.split("\r\n\r\n", 1)[0]
            lines = head.split("\r\n")
            start = lines[0].split(" ")
            headers = {}
            for line in lines[1:]:
                if ": " in line:
                    k, v = line.split(": ", 1)
                    headers[k.lower()] = v
            if len(start) < 3 or not start[2].isalpha():
                continue    # a response: nothing to do
            tid, method = start[1], start[2]
            to = headers.get("to-path", "").split(" ")
            frm = headers.get("from-path", "").split(" ")
            if method == "AUTH":
                self.auth(tid, headers, to, frm)
            elif method == "SEND":
                log("SEND to=%s from=%s" % (" ".join(to), " ".join(frm)))
                self.respond(tid, 200, "OK", frm[0], to[0])
                if headers.get("success-report") == "yes" and \
                        frame.rstrip().endswith("$"):
                    br = headers.get("byte-range", "1-*/*")
                    total = br.split("/")[1]
                    self.send("MSRP rep%s REPORT\r\nTo-Path: %s\r\n"
                              "From-Path: %s\r\nMessage-ID: %s\r\n"
                              "Byte-Range: 1-%s/%s\r\nStatus: 000 200 OK\r\n"
                              "-------rep%s$\r\n" % (
                                  tid, " ".join(frm), to[-1],
                                  headers["message-id"], total, total, tid))


def main():
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(port_file + ".tmp", port_file)
    while True:
        sock, _ = srv.accept()
        Conn(sock, None).start()


main()
