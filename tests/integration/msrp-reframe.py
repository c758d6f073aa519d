#!/usr/bin/env python3
"""Rewrite the MSRP byte streams of a capture with one frame per TCP segment.

tshark 4.0's MSRP dissector decodes only the first MSRP frame of a TCP
segment; the frames after it in the same segment are not shown at all.  TCP
may put several frames in one segment whenever it likes (the kernel
coalesces writes that queue up behind one not yet sent, which a loaded
machine does often), so counting the frames tshark shows in a raw capture
counts segments, not frames.

This script reads the segments tshark prints for a capture (stdin: lines of
"stream<TAB>srcport<TAB>dstport<TAB>relative seq<TAB>payload hex", from
`tshark -o tcp.desegment_tcp_streams:FALSE -T fields -e tcp.stream
-e tcp.srcport -e tcp.dstport -e tcp.seq -e tcp.payload`), rebuilds each
direction's byte stream from the sequence numbers, cuts it into MSRP frames
by RFC 4975 section 7.1 framing alone (the start line's transaction id, and
the end-line "-------" id flag CRLF that closes it), and writes a pcap in
which every frame has a TCP segment of its own.  tshark then dissects each
frame whole.  Everything else about the frames -- methods, status codes,
headers, bodies -- is left to tshark to decode.

It fails (exit 1, with the reason) when a stream has a hole, when bytes do
not start with an MSRP start line, or when a frame has no end-line: every
byte a peer wrote must belong to a frame.

Usage: msrp-reframe.py OUT.pcap < segments.tsv
"""
import re
import struct
import sys

START = re.compile(rb"MSRP ([A-Za-z0-9][A-Za-z0-9.+%=-]{3,31}) "
                   rb"(?:[A-Z]+|[0-9]{3}(?: [^\r\n]*)?)\r\n")
MAX_SEGMENT = 65535 - 40   # IPv4 total length bounds one packet


def die(msg):
    print("msrp-reframe: " + msg, file=sys.stderr)
    sys.exit(1)


def streams(lines):
    """(stream, src, dst) -> bytes, rebuilt from relative sequence numbers;
    retransmitted bytes must agree with the first copy."""
    parts = {}
    for n, line in enumerate(lines, 1):
        fields = line.rstrip("\n").split("\t")
        if len(fields) != 5:
            die("line %d: %d fields, not 5" % (n, len(fields)))
        stream, src, dst, seq, payload = fields
        if not payload:
            continue
        key = (int(stream), int(src), int(dst))
        parts.setdefault(key, []).append((int(seq) - 1, bytes.fromhex(
            payload.replace(":", ""))))
    out = {}
    for key, segs in parts.items():
        data = bytearray()
        for off, chunk in sorted(segs, key=lambda s: s[0]):
            if off > len(data):
                die("stream %d %d->%d: %d bytes missing at offset %d" %
                    (key[0], key[1], key[2], off - len(data), len(data)))
            overlap = min(len(data) - off, len(chunk))
            if data[off:off + overlap] != chunk[:overlap]:
                die("stream %d %d->%d: a retransmission differs at offset %d"
                    % (key[0], key[1], key[2], off))
            data += chunk[overlap:]
        out[key] = bytes(data)
    return out


def frames(key, data):
    pos = 0
    while pos < len(data):
        m = START.match(data, pos)
        if m is None:
            die("stream %d %d->%d: offset %d is not an MSRP start line: %r" %
                (key[0], key[1], key[2], pos, data[pos:pos + 40]))
        tid = m.group(1)
        # The end-line follows a CRLF: the last header's, or the body's.
        end = data.find(b"\r\n-------" + tid, m.end() - 2)
        flag_at = end + 9 + len(tid)
        if end < 0 or data[flag_at:flag_at + 3] not in (b"$\r\n", b"+\r\n",
                                                         b"#\r\n"):
            die("stream %d %d->%d: the frame at offset %d (%r) has no "
                "end-line" % (key[0], key[1], key[2], pos, m.group(0)))
        yield data[pos:flag_at + 3]
        pos = flag_at + 3


def packet(src, dst, seq, payload):
    if len(payload) > MAX_SEGMENT:
        die("a frame of %d bytes does not fit one segment" % len(payload))
    lo = b"\x7f\x00\x00\x01"
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + len(payload), 0, 0x4000,
                     64, 6, 0, lo, lo)
    tcp = struct.pack("!HHIIBBHHH", src, dst, seq & 0xffffffff, 0, 5 << 4,
                      0x18, 65535, 0, 0)
    return ip + tcp + payload


def main():
    if len(sys.argv) != 2:
        die("usage: msrp-reframe.py OUT.pcap < segments.tsv")
    by_stream = streams(sys.stdin)
    count = 0
    with open(sys.argv[1], "wb") as out:
        # pcap, LINKTYPE_RAW (101): each record is an IPv4 packet.
        out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
        for key in sorted(by_stream):
            seq = 1
            for frame in frames(key, by_stream[key]):
                pkt = packet(key[1], key[2], seq, frame)
                out.write(struct.pack("<IIII", count, 0, len(pkt), len(pkt)))
                out.write(pkt)
                seq += len(frame)
                count += 1
    print("%d frames in %d streams" % (count, len(by_stream)))


main()
