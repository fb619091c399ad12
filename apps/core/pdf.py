"""The CJK font the project's PDFs embed (statements, invoices).

reportlab's built-in CID fonts (STSong-Light) are not embedded: the viewer supplies the glyphs,
and a viewer without a Chinese font shows boxes. The project ships a TrueType CJK font instead
(``fonts/wqy-microhei.ttc``, WenQuanYi Micro Hei: CJK, Latin and digits; Apache 2.0, see
``fonts/NOTICE``); reportlab embeds the subset of glyphs each document uses.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

CJK_FONT_NAME = "CarrierHubCJK"
CJK_FONT_FILE = Path(__file__).resolve().parent / "fonts" / "wqy-microhei.ttc"


@lru_cache(maxsize=1)
def cjk_font() -> str:
    """Register the shipped CJK font once per process and return its name for ``setFont``."""
    pdfmetrics.registerFont(TTFont(CJK_FONT_NAME, str(CJK_FONT_FILE), subfontIndex=0))
    return CJK_FONT_NAME
