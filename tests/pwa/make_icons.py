"""Draw the app's PNG icons (no image library): a white house with a warm hearth on NHS blue.

Run: .venv/bin/python tests/pwa/make_icons.py  (writes pwa/icons/*.png)
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

BLUE = (0, 94, 184)
WHITE = (255, 255, 255)
WARM = (255, 184, 28)
OUT = Path(__file__).resolve().parents[2] / "pwa" / "icons"


def png(width: int, height: int, rows: list[bytes]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + r for r in rows)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def inside_triangle(x: float, y: float, a, b, c) -> bool:
    def sign(p, q, r):
        return (p[0] - r[0]) * (q[1] - r[1]) - (q[0] - r[0]) * (p[1] - r[1])

    d1, d2, d3 = sign((x, y), a, b), sign((x, y), b, c), sign((x, y), c, a)
    neg = d1 < 0 or d2 < 0 or d3 < 0
    pos = d1 > 0 or d2 > 0 or d3 > 0
    return not (neg and pos)


def colour_at(u: float, v: float, scale: float) -> tuple[int, int, int]:
    """u, v in [0, 1]; the house drawn in the centre at ``scale`` of the icon."""
    x = (u - 0.5) / scale + 0.5
    y = (v - 0.5) / scale + 0.5
    roof = inside_triangle(x, y, (0.5, 0.08), (0.06, 0.48), (0.94, 0.48))
    body = 0.16 <= x <= 0.84 and 0.46 <= y <= 0.92
    if roof or body:
        # The hearth: a warm flame-like arch in the doorway.
        dx, dy = (x - 0.5) / 0.16, (y - 0.92) / 0.3
        if 0.34 <= x <= 0.66 and 0.62 <= y <= 0.92 and dx * dx + dy * dy <= 1.0:
            return WARM
        return WHITE
    return BLUE


def draw(size: int, scale: float) -> bytes:
    rows = []
    for j in range(size):
        row = bytearray()
        for i in range(size):
            # 2×2 supersampling for smooth edges.
            acc = [0, 0, 0]
            for sj in (0.25, 0.75):
                for si in (0.25, 0.75):
                    c = colour_at((i + si) / size, (j + sj) / size, scale)
                    acc = [acc[k] + c[k] for k in range(3)]
            row += bytes(v // 4 for v in acc)
        rows.append(bytes(row))
    return png(size, size, rows)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        (OUT / f"icon-{size}.png").write_bytes(draw(size, 0.72))
        # Maskable: the house inside the central safe zone (a circle of 80% diameter).
        (OUT / f"maskable-{size}.png").write_bytes(draw(size, 0.5))


if __name__ == "__main__":
    main()
