"""HTML → PDF with WeasyPrint, Chinese-first, with the CJK font embedded.

Templates are plain HTML strings (Jinja2 in the callers); :func:`html_to_pdf` adds the base style
(A4, margins, the CJK font) so every document of the product looks alike.
"""

from __future__ import annotations

import logging
from pathlib import Path

from subsidence.render.fonts import cjk_font

log = logging.getLogger(__name__)

BASE_CSS = """
@page { size: A4; margin: 20mm 18mm 20mm 18mm;
        @bottom-center { content: counter(page) " / " counter(pages); font-size: 9pt; } }
html { font-family: '%(family)s', sans-serif; font-size: 11pt; line-height: 1.55; }
h1 { font-size: 18pt; text-align: center; margin: 0 0 8mm 0; }
h2 { font-size: 13pt; margin: 6mm 0 2mm 0; }
table { border-collapse: collapse; width: 100%%; margin: 2mm 0 4mm 0; }
th, td { border: 0.6pt solid #333; padding: 1.5mm 2mm; font-size: 10pt; vertical-align: top; }
th { background: #eee; }
.doc-no { text-align: right; margin-bottom: 4mm; }
.illustrative { color: #a00; font-size: 9pt; text-align: center; }
.sign { margin-top: 12mm; text-align: right; }
"""


def base_css() -> str:
    font = cjk_font()
    return font.css() + BASE_CSS % {"family": font.family}


def html_to_pdf(html: str, out: Path | None = None) -> bytes:
    """Render an HTML document (should declare ``<html lang="zh-CN">``) to PDF bytes; write to ``out`` if given."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fc = FontConfiguration()  # an @font-face of a user stylesheet only loads with the same FontConfiguration
    pdf = HTML(string=html, base_url=str(Path.cwd())).write_pdf(
        stylesheets=[CSS(string=base_css(), font_config=fc)], font_config=fc
    )
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(pdf)
        log.info("wrote %s (%d bytes)", out, len(pdf))
    return pdf
