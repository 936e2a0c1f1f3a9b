"""Looking at rendered documents the way a clerk would: text boxes, fonts, rasterised pages, LibreOffice.

Uses poppler-utils (pdftotext -bbox, pdffonts, pdftoppm) and LibreOffice (soffice, Debian
libreoffice-writer-nogui / -calc-nogui), both installed by .ci/run; tests skip with the reason where missing.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

MM = 72 / 25.4  # points per millimetre


@dataclass(frozen=True)
class Word:
    x0: float
    y0: float
    x1: float
    y1: float
    text: str


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed (poppler-utils / libreoffice, see .ci/run)")
    return path


def words(pdf: Path, page: int = 1) -> tuple[tuple[float, float], list[Word]]:
    """Page size (pt) and the words of one page with their boxes (pt, origin top-left)."""
    need("pdftotext")
    out = subprocess.run(
        ["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    m = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', out)
    assert m, f"no page {page} in {pdf}"
    ws = [
        Word(float(a), float(b), float(c), float(d), html.unescape(t))
        for a, b, c, d, t in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', out
        )
    ]
    return (float(m.group(1)), float(m.group(2))), ws


def text(pdf: Path, *, layout: bool = False) -> str:
    need("pdftotext")
    args = ["pdftotext"] + (["-layout"] if layout else []) + [str(pdf), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def flat(pdf: Path) -> str:
    """The text without spaces and line breaks (CJK lines break anywhere)."""
    return re.sub(r"\s+", "", text(pdf))


def pages(pdf: Path) -> int:
    need("pdfinfo")
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", out).group(1))


def fonts(pdf: Path) -> list[tuple[str, bool]]:
    """(font name without the subset prefix, embedded) per font of the PDF."""
    need("pdffonts")
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines()[2:]:
        if not line.strip():
            continue
        parts = line.split()
        rows.append((parts[0].split("+", 1)[-1], parts[-5] == "yes"))
    return rows


def png(pdf: Path, out: Path, page: int = 1, dpi: int = 72) -> Path:
    """Rasterise one page (pdftoppm) to ``out`` (.png)."""
    need("pdftoppm")
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-f",
            str(page),
            "-l",
            str(page),
            "-png",
            "-singlefile",
            str(pdf),
            str(out.with_suffix("")),
        ],
        check=True,
    )
    return out


def red_rows(png_path: Path, dpi: int = 72) -> list[tuple[float, float, float]]:
    """Horizontal red runs of the page: (y, x_start, x_end) in mm, one per pixel row with a red run of ≥ 20 mm."""
    from PIL import Image

    img = Image.open(png_path).convert("RGB")
    w, h = img.size
    px = img.load()
    out = []
    for y in range(h):
        xs = [x for x in range(w) if (lambda p: p[0] > 180 and p[1] < 90 and p[2] < 90)(px[x, y])]
        if xs and (xs[-1] - xs[0]) / dpi * 25.4 >= 20 and len(xs) > 0.9 * (xs[-1] - xs[0]):
            out.append((y / dpi * 25.4, xs[0] / dpi * 25.4, (xs[-1] + 1) / dpi * 25.4))
    return out


def libreoffice_pdf(src: Path, out_dir: Path) -> Path:
    """Convert a DOCX / XLSX with LibreOffice headless (with the GB/T 9704 font aliases) and return the PDF."""
    soffice = need("soffice")
    program = Path(soffice).resolve().parent
    module = {".xlsx": "libsclo.so", ".docx": "libswlo.so"}.get(src.suffix)
    if module and program.is_dir() and not (program / module).exists():
        pytest.skip(
            f"LibreOffice has no {'Calc' if src.suffix == '.xlsx' else 'Writer'} "
            "(libreoffice-calc-nogui / libreoffice-writer-nogui, see .ci/run)"
        )
    from subsidence.render.fonts import fontconfig_aliases

    work = out_dir / "lo"
    work.mkdir(parents=True, exist_ok=True)
    (work / "65-gbt9704.conf").write_text(fontconfig_aliases(), encoding="utf-8")
    (work / "fonts.conf").write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        '<include ignore_missing="yes">/etc/fonts/fonts.conf</include>'
        f"<include>{work / '65-gbt9704.conf'}</include></fontconfig>",
        encoding="utf-8",
    )
    env = {**os.environ, "FONTCONFIG_FILE": str(work / "fonts.conf"), "HOME": str(work)}
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{work / 'profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out_dir),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=240,
        env=env,
    )
    pdf = out_dir / (src.stem + ".pdf")
    assert pdf.exists(), f"LibreOffice wrote no PDF for {src}"
    return pdf


def in_type_area(
    ws: list[Word], *, left: float = 28, top: float = 37, width: float = 156, height: float = 225, tol: float = 1.0
) -> list[Word]:
    """Words (page number excluded: it sits below the type area by design) outside the type area (mm)."""
    bottom = (top + height) * MM
    body = [w for w in ws if not re.fullmatch(r"[—\-–]?\d+[—\-–]?|[—\-–]", w.text.strip())]
    return [
        w
        for w in body
        if w.x0 < (left - tol) * MM
        or w.x1 > (left + width + tol) * MM
        or w.y0 < (top - tol) * MM
        or w.y1 > bottom + tol * MM
    ]


def red_pixels(png_path: Path, y_from_mm: float, y_to_mm: float, dpi: int = 72) -> int:
    """How many red pixels lie between two heights of the page (mm from the top)."""
    from PIL import Image

    img = Image.open(png_path).convert("RGB")
    px = img.load()
    w, h = img.size
    lo, hi = int(y_from_mm / 25.4 * dpi), min(int(y_to_mm / 25.4 * dpi), h)
    return sum(
        1 for y in range(lo, hi) for x in range(w) if px[x, y][0] > 180 and px[x, y][1] < 90 and px[x, y][2] < 90
    )
