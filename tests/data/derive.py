#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Derives the bundled sample captures from ../shared/data (see CREDITS.md).

Usage: derive.py SHARED_DATA_DIR OUT_DIR

Only a classic-pcap reader/writer is needed, so this uses the standard library alone:
it copies records verbatim, cutting each record's captured bytes to a snap length while
keeping its original (wire) length, exactly as `tcpdump -s N -w` would have recorded.
"""
import struct
import sys


def snap(src, dst, snaplen):
    with open(src, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise SystemExit(f"{src}: not a classic pcap")
    hdr = bytearray(data[:24])
    struct.pack_into(end + "I", hdr, 16, snaplen)
    out = [bytes(hdr)]
    pos = 24
    while pos + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack_from(end + "IIII", data, pos)
        pos += 16
        body = data[pos:pos + incl]
        pos += incl
        keep = min(incl, snaplen)
        out.append(struct.pack(end + "IIII", sec, frac, keep, orig) + body[:keep])
    with open(dst, "wb") as f:
        f.write(b"".join(out))


def main():
    shared, out = sys.argv[1], sys.argv[2]
    snap(f"{shared}/mercury/quic-crypto-packets.pcap", f"{out}/quic-vlan-snap128.pcap", 128)


if __name__ == "__main__":
    main()
