"""Raster charts for documents that cannot embed SVG (DOCX): matplotlib, CJK labels, byte-identical PNGs.

The same data always gives the same bytes (no timestamps or software tags in the PNG), so reports that
embed these charts regenerate identically.
"""

from __future__ import annotations

import io
from collections.abc import Sequence


def stacked_bars_png(
    labels: Sequence[str],
    segments: Sequence[tuple[str, str, Sequence[float]]],
    *,
    notes: Sequence[str] | None = None,
    width_mm: float = 160,
    dpi: int = 150,
) -> bytes:
    """Horizontal stacked bars, one per label; ``segments`` are (legend label, colour, values per label)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    from subsidence.render.fonts import cjk_font_file

    prop = font_manager.FontProperties(fname=str(cjk_font_file()), size=8)
    n = len(labels)
    fig_w = width_mm / 25.4
    fig_h = max(1.2, 0.26 * n + 0.7)
    fig, ax = plt.subplots(figsize=(fig_w, fig_h), dpi=dpi)
    try:
        left = [0.0] * n
        for name, colour, values in segments:
            ax.barh(range(n), values, left=left, color=colour, label=name, height=0.7)
            left = [a + b for a, b in zip(left, values)]
        ax.set_yticks(range(n))
        ax.set_yticklabels([lbl if len(lbl) <= 17 else lbl[:16] + "…" for lbl in labels], fontproperties=prop)
        ax.invert_yaxis()
        top = max(left, default=0) or 1
        ax.set_xlim(0, top * 1.18)
        for i, text in enumerate(notes or []):
            ax.text(left[i] + top * 0.01, i, text, va="center", fontproperties=prop)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="x", labelsize=7)
        ax.legend(prop=prop, ncol=len(segments), loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
        return buf.getvalue()
    finally:
        plt.close(fig)


def grouped_bars_png(
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float]]],
    *,
    unit: str = "",
    width_mm: float = 160,
    dpi: int = 150,
) -> bytes:
    """Horizontal grouped bars (e.g. planned against achieved per mine); ``series`` = (legend, colour, values)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    from subsidence.render.fonts import cjk_font_file

    prop = font_manager.FontProperties(fname=str(cjk_font_file()), size=8)
    n, k = len(labels), max(len(series), 1)
    fig, ax = plt.subplots(figsize=(width_mm / 25.4, max(1.4, 0.32 * n + 0.8)), dpi=dpi)
    try:
        h = 0.8 / k
        for s, (name, colour, values) in enumerate(series):
            ax.barh([i - 0.4 + h * (s + 0.5) for i in range(n)], values, height=h, color=colour, label=name)
        ax.set_yticks(range(n))
        ax.set_yticklabels([lbl if len(lbl) <= 14 else lbl[:13] + "…" for lbl in labels], fontproperties=prop)
        ax.invert_yaxis()
        if unit:
            ax.set_xlabel(unit, fontproperties=prop)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.tick_params(axis="x", labelsize=7)
        ax.legend(prop=prop, ncol=k, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", metadata={"Software": None})
        return buf.getvalue()
    finally:
        plt.close(fig)
