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
        out = subprocess.run(
            ["fc-match", "-f", "%{family}|%{file}", f"{SYSTEM_FAMILY}:lang=zh-cn"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
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


# ------------------------------------------------------------------------------------------ GB/T 9704 faces
#
# GB/T 9704-2012 names four faces: 小标宋 (title, 发文机关标志), 仿宋_GB2312 (body, 3号), 黑体 (first-level
# headings, 附件 label), 楷体_GB2312 (second-level headings, 签发人 name). Their owners' faces are not free to ship,
# so PDFs embed free equivalents and DOCX files name the standard faces (what WPS / Word on an office PC has),
# with a fontconfig alias file (:func:`fontconfig_aliases`) that maps the standard names onto the free faces for
# LibreOffice on Linux:
#
# ==========  ==================  ===============================================  =========================
# role        standard name       free face (first found wins)                     why
# ==========  ==================  ===============================================  =========================
# title       方正小标宋简体        Noto Serif CJK SC Bold (fonts-noto-cjk, OFL)     heavy song: closest shape
# body        仿宋_GB2312          FandolFang (texlive-lang-chinese, GPL+font exc.)  the only free fang-song
#                                   → Noto Serif CJK SC                              on Debian/PyPI
# hei         黑体                 Noto Sans CJK SC (fonts-noto-cjk, OFL)            standard gothic
# kai         楷体_GB2312          FandolKai (texlive) → AR PL UKai CN               free kai faces
# ==========  ==================  ===============================================  =========================
#
# Every CSS stack ends in the generic CJK font of :func:`cjk_font`, so a machine with only the PyPI font still
# prints every glyph (in a sans face); :func:`official_faces` reports what was found.

FANDOL_DIRS = (
    Path("/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol"),
    Path("/usr/share/fonts/opentype/fandol"),
    Path("/usr/local/share/fonts/fandol"),
)

STANDARD_NAMES = {"title": "方正小标宋简体", "body": "仿宋_GB2312", "hei": "黑体", "kai": "楷体_GB2312"}

#: candidates per role: (family, weight, Fandol file name or None for a fontconfig family)
_CANDIDATES: dict[str, tuple[tuple[str, int, str | None], ...]] = {
    "title": (("Noto Serif CJK SC", 700, None), ("FandolSong", 700, "FandolSong-Bold.otf")),
    "body": (
        ("FandolFang", 400, "FandolFang-Regular.otf"),
        ("Noto Serif CJK SC", 400, None),
        ("FandolSong", 400, "FandolSong-Regular.otf"),
    ),
    "hei": (("Noto Sans CJK SC", 400, None), ("FandolHei", 400, "FandolHei-Regular.otf")),
    "kai": (("FandolKai", 400, "FandolKai-Regular.otf"), ("AR PL UKai CN", 400, None)),
}


@dataclass(frozen=True)
class OfficialFace:
    role: str  #: title / body / hei / kai
    standard: str  #: the name GB/T 9704 uses (and DOCX files carry)
    family: str  #: the free family embedded in PDFs
    weight: int
    path: Path | None  #: a file declared with @font-face (None: a fontconfig family)

    @property
    def css_family(self) -> str:
        return self.family


def _fc_has(family: str) -> bool:
    if shutil.which("fc-list") is None:
        return False
    try:
        out = subprocess.run(
            ["fc-list", f"{family}", "family"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return any(family in line.split(",") or line.strip() == family for line in out.splitlines())


def _fandol_file(name: str) -> Path | None:
    for d in FANDOL_DIRS:
        if (d / name).is_file():
            return d / name
    return None


@lru_cache(maxsize=1)
def official_faces() -> dict[str, OfficialFace | None]:
    """The free face found for each GB/T 9704 role (None where no candidate is installed)."""
    found: dict[str, OfficialFace | None] = {}
    for role, candidates in _CANDIDATES.items():
        found[role] = None
        for family, weight, fname in candidates:
            path = _fandol_file(fname) if fname else None
            if (fname and path is not None) or (fname is None and _fc_has(family)):
                found[role] = OfficialFace(role, STANDARD_NAMES[role], family, weight, path)
                break
    return found


def official_css() -> str:
    """@font-face rules and the CSS variables-free stacks: ``.gw-title``, ``.gw-body``, ``.gw-hei``, ``.gw-kai``
    classes plus :data:`STACK` names usable in ``font-family``."""
    base = cjk_font()
    parts = [base.css()]
    for face in official_faces().values():
        if face is not None and face.path is not None:
            parts.append(
                f"@font-face {{ font-family: '{face.css_family}'; src: url('{face.path.as_uri()}'); "
                f"font-weight: {face.weight}; }}\n"
            )
    return "".join(parts)


def font_stack(role: str) -> str:
    """A CSS ``font-family`` value for ``role``: the free face, a serif CJK fallback, the generic CJK font."""
    face = official_faces().get(role)
    names = [face.css_family] if face is not None else []
    for extra in ("Noto Serif CJK SC",) if role in ("title", "body", "kai") else ("Noto Sans CJK SC",):
        if extra not in names and _fc_has(extra):
            names.append(extra)
    names.append(cjk_font().family)
    return ", ".join(f"'{n}'" for n in names) + (", serif" if role != "hei" else ", sans-serif")


def fontconfig_aliases() -> str:
    """A fontconfig file that makes the standard names (仿宋_GB2312, 方正小标宋简体, 黑体, 楷体_GB2312 and their
    common variants) resolve to the free faces, and adds the Fandol directory; install it as
    ``/etc/fonts/conf.d/65-subsidence-gbt9704.conf`` (``subsidence fonts fontconfig``) so LibreOffice shows
    a DOCX the way WPS does."""
    faces = official_faces()
    lines = ['<?xml version="1.0"?>', '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">', "<fontconfig>"]
    for d in FANDOL_DIRS:
        if d.is_dir():
            lines.append(f"  <dir>{d}</dir>")
    variants = {
        "title": ("方正小标宋简体", "方正小标宋_GBK", "FZXiaoBiaoSong-B05S", "小标宋"),
        "body": ("仿宋_GB2312", "仿宋", "FangSong_GB2312", "FangSong"),
        "hei": ("黑体", "SimHei"),
        "kai": ("楷体_GB2312", "楷体", "KaiTi_GB2312", "KaiTi"),
        "song": ("宋体", "SimSun", "NSimSun", "新宋体"),
    }
    for role, names in variants.items():
        face = faces.get("title" if role == "song" else role)
        target = face.family if face is not None else cjk_font().family
        for name in names:
            lines.append(
                f'  <match target="pattern"><test name="family"><string>{name}</string></test>'
                f'<edit name="family" mode="assign" binding="strong"><string>{target}</string></edit>'
                + ('<edit name="weight" mode="assign"><const>bold</const></edit>' if role == "title" else "")
                + ('<edit name="weight" mode="assign"><const>regular</const></edit>' if role == "song" else "")
                + "</match>"
            )
    lines.append("</fontconfig>")
    return "\n".join(lines) + "\n"
