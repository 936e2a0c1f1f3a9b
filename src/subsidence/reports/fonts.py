"""Find a CJK font we may embed (SIL Open Font License) so Chinese documents never print boxes.

Preference: the system's Noto Sans CJK SC (Debian ``fonts-noto-cjk``), else the regular-weight
Noto Sans CJK collection shipped by the PyPI package ``noto-cjk-sans-otc`` (a pip dependency, so a
fresh machine without root still has a font). If neither is found, :class:`MissingFontError` says so.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

SYSTEM_FAMILY = "Noto Sans CJK SC"


class MissingFontError(RuntimeError):
    pass


@dataclass(frozen=True)
class CJKFont:
    family: str  #: CSS font-family name to use
    path: Path | None  #: file to declare with @font-face (None: installed system font)

    def css(self) -> str:
        """CSS that makes ``self.family`` available (an @font-face when the font is a file)."""
        if self.path is None:
            return ""
        return f"@font-face {{ font-family: '{self.family}'; src: url('{self.path.as_uri()}'); }}\n"


def _system_font_file() -> Path | None:
    if shutil.which("fc-match") is None:
        return None
    try:
        out = subprocess.run(["fc-match", "-f", "%{family}|%{file}", f"{SYSTEM_FAMILY}:lang=zh-cn"],
                             capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    family, _, file = out.partition("|")
    if SYSTEM_FAMILY in family and file:
        return Path(file)
    return None


def cjk_font_file() -> Path:
    """A font file with CJK glyphs (for renderers that need a file, such as matplotlib)."""
    font = cjk_font()
    if font.path is not None:
        return font.path
    path = _system_font_file()
    if path is None:
        raise MissingFontError("the system CJK font disappeared; reinstall fonts-noto-cjk")
    return path


@lru_cache(maxsize=1)
def cjk_font() -> CJKFont:
    """The CJK font documents use (cached)."""
    if _system_font_file() is not None:
        return CJKFont(SYSTEM_FAMILY, None)
    try:
        import noto_cjk_sans_otc

        ttc = Path(noto_cjk_sans_otc.__file__).with_name("NotoSansCJK-Regular.ttc")
        if ttc.exists():
            return CJKFont("SubsidenceCJK", ttc)
    except ImportError:
        pass
    raise MissingFontError(
        "no CJK font found: install Debian fonts-noto-cjk or `pip install noto-cjk-sans-otc`; "
        "refusing to render Chinese documents with missing glyphs"
    )
