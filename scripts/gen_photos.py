#!/usr/bin/env python3
"""Writes N synthetic photos (valid JPEG/PNG headers, EXIF DateTimeOriginal on the JPEGs,
random bytes as image data) for benchmarks and manual tests. Not decodable images: Holdfast
never decodes, it reads headers.
usage: scripts/gen_photos.py OUT_DIR [-n 1000] [--size 300000] [--seed 1]"""
import argparse, os, random, struct, zlib

def exif_app1(when: str) -> bytes:
    # TIFF little endian: IFD0 with an ExifIFD pointer, Exif IFD with DateTimeOriginal.
    dt = when.encode() + b"\0"  # 20 bytes
    ifd0_off = 8
    ifd0 = struct.pack("<H", 1) + struct.pack("<HHII", 0x8769, 4, 1, 0) + struct.pack("<I", 0)
    exif_off = ifd0_off + len(ifd0)
    exif = struct.pack("<H", 1) + struct.pack("<HHII", 0x9003, 2, len(dt), 0) + struct.pack("<I", 0)
    data_off = exif_off + len(exif)
    ifd0 = struct.pack("<H", 1) + struct.pack("<HHII", 0x8769, 4, 1, exif_off) + struct.pack("<I", 0)
    exif = struct.pack("<H", 1) + struct.pack("<HHII", 0x9003, 2, len(dt), data_off) + struct.pack("<I", 0)
    tiff = b"II*\0" + struct.pack("<I", ifd0_off) + ifd0 + exif + dt
    body = b"Exif\0\0" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body

def jpeg(w, h, payload, when):
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, h, w, 1) + b"\x01\x11\x00"
    sos = b"\xff\xda" + struct.pack(">H", 8) + b"\x01\x01\x00\x00\x3f\x00"
    data = payload.replace(b"\xff", b"\xfe")
    return b"\xff\xd8" + exif_app1(when) + sof + sos + data + b"\xff\xd9"

def png(w, h, payload):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", payload) + chunk(b"IEND", b"")

ap = argparse.ArgumentParser()
ap.add_argument("out"); ap.add_argument("-n", type=int, default=1000)
ap.add_argument("--size", type=int, default=300_000); ap.add_argument("--seed", type=int, default=1)
a = ap.parse_args()
rnd = random.Random(a.seed)
os.makedirs(a.out, exist_ok=True)
for i in range(a.n):
    payload = rnd.randbytes(a.size)
    w, h = 4000 + i % 100, 3000 + i % 50
    if i % 4 == 3:
        name, data = f"IMG_{i:05d}.png", png(w, h, payload)
    else:
        when = f"2025:{1 + i % 12:02d}:{1 + i % 28:02d} {i % 24:02d}:{i % 60:02d}:00"
        name, data = f"IMG_{i:05d}.jpg", jpeg(w, h, payload, when)
    with open(os.path.join(a.out, name), "wb") as f:
        f.write(data)
