"""The pixels of a PNG (a browser's screenshot) as RGB counts: Pillow when it is installed, else
a small stdlib decoder (8-bit greyscale, RGB or RGBA, not interlaced: what Chromium writes)."""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from pathlib import Path

RGB = tuple[int, int, int]
_CHANNELS = {0: 1, 2: 3, 6: 4}  # PNG colour type: bytes per pixel at 8 bits


def colour_counts(path: Path) -> Counter[RGB]:
    try:
        from PIL import Image
    except ImportError:
        return _decoded(path.read_bytes())
    with Image.open(path) as img:
        found = img.convert("RGB").getcolors(maxcolors=1 << 24) or []
    return Counter({(rgb[0], rgb[1], rgb[2]): n for n, rgb in found if isinstance(rgb, tuple)})


def _decoded(data: bytes) -> Counter[RGB]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n"), "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos : pos + 4]), data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        header = body if kind == b"IHDR" else header
        idat += body if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in _CHANNELS and not interlace, "PNG kind not read here"
    bpp = _CHANNELS[colour]
    raw, stride = zlib.decompress(idat), width * bpp
    counts: Counter[RGB] = Counter()
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        row = _unfiltered(raw[start], bytearray(raw[start + 1 : start + 1 + stride]), prev, bpp)
        pixels = zip(*(row[c::bpp] for c in range(bpp)), strict=True)
        counts.update((p[0], p[0], p[0]) if bpp == 1 else (p[0], p[1], p[2]) for p in pixels)
        prev = row
    return counts


def _unfiltered(kind: int, row: bytearray, prev: bytearray, bpp: int) -> bytearray:
    if kind == 0:
        return row
    for i in range(len(row)):
        left = row[i - bpp] if i >= bpp else 0
        up, corner = prev[i], prev[i - bpp] if i >= bpp else 0
        if kind == 1:
            row[i] = (row[i] + left) & 0xFF
        elif kind == 2:
            row[i] = (row[i] + up) & 0xFF
        elif kind == 3:
            row[i] = (row[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            near = left if pa <= pb and pa <= pc else up if pb <= pc else corner
            row[i] = (row[i] + near) & 0xFF
    return row
