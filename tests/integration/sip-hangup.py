#!/usr/bin/env python3
"""sip-hangup.py KAMAILIO UAC CALL-ID...: tell a SIPp UAC running
tests/integration/sipp-uac-msrp.xml to hang these calls up.

For each Call-ID an INFO to the UAC (sip:alice@UAC), with a Route header
naming KAMAILIO (HOST:PORT) and sent there, so that it goes the way of any
in-dialog request; SIPp matches it to its call by the Call-ID, answers 200
and says BYE.  The INFOs go out together; those not answered yet are sent
again every second (a lost datagram), for up to 15 seconds.

Exit status 0 when every INFO got a 200; otherwise a message saying which
did not, or what they got.
"""
import socket
import sys
import time


def info(kam, uac, me, n, call_id):
    return ("INFO sip:alice@%s SIP/2.0\r\n"
            "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-hangup-%d-%d\r\n"
            "Route: <sip:%s;lr>\r\n"
            "From: <sip:bob@127.0.0.3>;tag=hangup\r\n"
            "To: <sip:alice@127.0.0.2>;tag=hangup\r\n"
            "Call-ID: %s\r\nCSeq: 1 INFO\r\nMax-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n"
            % (uac, me, me, n, kam, call_id)).encode()


def status_and_call_id(data):
    lines = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    lines = lines.split("\r\n")
    call_id = None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() in ("call-id", "i"):
            call_id = value.strip()
    if not lines[0].startswith("SIP/2.0 "):
        return None, call_id, lines[0]
    return lines[0].split()[1], call_id, lines[0]


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    kam, uac, call_ids = argv[0], argv[1], argv[2:]
    host, port = kam.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    me = s.getsockname()[1]
    pending = {cid: info(kam, uac, me, n, cid)
               for n, cid in enumerate(call_ids)}
    s.settimeout(0.1)
    deadline = time.monotonic() + 15
    resend = 0.0
    while pending and time.monotonic() < deadline:
        if time.monotonic() >= resend:
            for msg in pending.values():
                s.sendto(msg, (host, int(port)))
            resend = time.monotonic() + 1.0
        try:
            data = s.recv(65535)
        except socket.timeout:
            continue
        code, cid, first = status_and_call_id(data)
        if code is None or cid not in pending or code.startswith("1"):
            continue
        if code != "200":
            sys.exit("the hang-up INFO of %s got %s" % (cid, first))
        del pending[cid]
    if pending:
        sys.exit("no answer to the hang-up INFO of "
                 + " ".join(sorted(pending)))


if __name__ == "__main__":
    main(sys.argv[1:])
