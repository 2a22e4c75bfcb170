"""How long image intake and renditions take: refusing a decompression bomb, and rendering big
uploads for each placement (the work `schedule` does once per image, placement and network).

Usage:

    python bench/imaging.py [--runs 5]

Prints one line per figure (median of the runs). No figure here is asserted anywhere.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import struct
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tertulia.settings")


def bomb_png(side: int) -> bytes:
    """A PNG header that declares side by side RGB pixels, with almost no data."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def median_ms(func: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    import django

    django.setup()
    from PIL import Image

    from tertulia.publishing.imaging.intake import ImageRefused, inspect_upload
    from tertulia.publishing.imaging.renditions import render
    from tertulia.publishing.rules.placements import Placement

    print(
        f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    for side in (10_000, 65_535):
        data = bomb_png(side)

        def refuse(data: bytes = data) -> None:
            try:
                inspect_upload(data)
            except ImageRefused:
                return
            raise AssertionError("a bomb was accepted")

        print(f"refuse a {side}x{side} PNG bomb ({len(data)} bytes): {median_ms(refuse, args.runs):.3f} ms")

    for fmt, megapixels in (("JPEG", 12), ("JPEG", 48), ("PNG", 12), ("PNG", 48)):
        width = int((megapixels * 1_000_000 * 4 / 3) ** 0.5)
        height = megapixels * 1_000_000 // width
        gradient = Image.linear_gradient("L").resize((width, height)).convert("RGB")
        buffer = io.BytesIO()
        gradient.save(buffer, fmt)
        data = buffer.getvalue()
        took = median_ms(lambda data=data: inspect_upload(data), args.runs)
        print(f"{fmt} {width}x{height} ({len(data) / 1e6:.1f} MB): intake {took:.0f} ms")
        for placement in Placement:

            def rendition(data: bytes = data, placement: Placement = placement) -> None:
                render(data, placement, 0.4, 0.5, max_bytes=976_560)

            took = median_ms(rendition, args.runs)
            print(f"  {placement.value} rendition within 976,560 bytes: {took:.0f} ms")


if __name__ == "__main__":
    main()
