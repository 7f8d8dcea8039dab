"""A real browser for report tests: headless Chromium renders a page to a PNG and a PDF.

Skipped where no Chromium is installed (``apt-get install chromium``). The screenshot, the PDF
and the page are kept in ``tests/artifacts/`` for a person to look at.
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ACCENT = (0x0C, 0x6B, 0x66)
"""The reports' accent colour, used for chart bars."""


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


CHROMIUM = _chromium()


def _browser(*arguments: str, profile: Path) -> None:
    subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            *arguments,
        ],
        capture_output=True,
        timeout=90,
        check=True,
    )


def _png_rows(png: bytes, limit: int) -> tuple[int, int, list[bytes]]:
    """Width, height and the first ``limit`` rows of RGB(A) pixels of an 8-bit PNG.

    A tiny decoder, so the test needs no imaging library: it undoes PNG's row filters.
    """
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, data, header = 8, b"", b""
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        body = png[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            data += body
        position += 12 + length
    width, height, depth, colour = struct.unpack(">IIBB", header[:10])
    assert depth == 8
    assert colour in (2, 6)
    channels = 3 if colour == 2 else 4
    stride = width * channels
    raw = zlib.decompress(data)
    rows: list[bytes] = []
    previous = bytearray(stride)
    for index in range(min(limit, height)):
        start = index * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                corner = previous[i - channels] if i >= channels else 0
                guess = left + up - corner
                near = min(
                    (abs(guess - left), 0, left),
                    (abs(guess - up), 1, up),
                    (abs(guess - corner), 2, corner),
                )
                line[i] = (line[i] + near[2]) & 0xFF
        rows.append(bytes(line))
        previous = line
    return (
        width,
        height,
        [bytes(row[i] for i in range(len(row)) if i % channels < 3) for row in rows],
    )


needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium (chromium, chromium-browser or google-chrome) on PATH; "
    "install it with `apt-get install chromium` to see the HTML rendered",
)


@dataclass(frozen=True)
class Rendering:
    width: int
    height: int
    pixels: set[bytes]
    """The distinct colours in the first rows of the screenshot."""
    pdf_pages: int

    def shows_accent(self) -> bool:
        """The charts' bars are there, in the accent colour."""
        return any(all(abs(p[i] - ACCENT[i]) < 8 for i in range(3)) for p in self.pixels)


def render(page: Path, name: str, workdir: Path, *, rows: int) -> Rendering:
    """Screenshot (1200×1600) and print ``page``; keeps both as ``tests/artifacts/<name>.*``."""
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot, pdf = ARTIFACTS / f"{name}.png", ARTIFACTS / f"{name}.pdf"
    screenshot.unlink(missing_ok=True)
    pdf.unlink(missing_ok=True)
    shutil.copyfile(page, ARTIFACTS / f"{name}.html")
    _browser(
        f"--screenshot={screenshot}",
        "--window-size=1200,1600",
        page.as_uri(),
        profile=workdir / "profile",
    )
    _browser(
        f"--print-to-pdf={pdf}", "--no-pdf-header-footer", page.as_uri(), profile=workdir / "p2"
    )
    print(f"\nscreenshot: {screenshot}\nPDF: {pdf}")
    assert screenshot.stat().st_size > 20_000
    width, height, pixel_rows = _png_rows(screenshot.read_bytes(), limit=rows)
    document = pdf.read_bytes()
    assert document.startswith(b"%PDF-")
    return Rendering(
        width=width,
        height=height,
        pixels={row[i : i + 3] for row in pixel_rows for i in range(0, len(row), 3)},
        pdf_pages=len(re.findall(rb"/Type\s*/Page(?![s\w])", document)),
    )
