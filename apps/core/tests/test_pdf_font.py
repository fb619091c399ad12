"""The PDFs' CJK font ships with the project and is embedded in every document that uses it."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader
from reportlab.pdfgen import canvas

from apps.core.pdf import CJK_FONT_FILE, cjk_font


def embedded_font_names(body: bytes) -> set[str]:
    """The base names of the fonts whose program the PDF carries (a TrueType ``FontFile2``)."""
    names = set()
    for page in PdfReader(io.BytesIO(body)).pages:
        fonts: Any = page["/Resources"]["/Font"]  # type: ignore[index]
        for ref in fonts.values():
            font = ref.get_object()
            descendants = font.get("/DescendantFonts")
            candidates = [d.get_object() for d in descendants] if descendants else [font]
            for candidate in candidates:
                descriptor = candidate.get("/FontDescriptor")
                if descriptor is not None and "/FontFile2" in descriptor.get_object():
                    names.add(str(candidate["/BaseFont"]))
    return names


def test_the_font_file_ships_with_its_notice() -> None:
    assert CJK_FONT_FILE.stat().st_size > 1_000_000
    assert "Apache" in (CJK_FONT_FILE.parent / "NOTICE").read_text(encoding="utf-8")


def test_chinese_text_is_written_with_the_embedded_font() -> None:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.setFont(cjk_font(), 12)
    pdf.drawString(72, 720, "结算对账单：内容提供商 ¥69.30")
    pdf.save()
    body = buffer.getvalue()

    assert "结算对账单：内容提供商" in PdfReader(io.BytesIO(body)).pages[0].extract_text()
    # A subset of the shipped font ("/AAAAAA+WenQuanYiMicroHei-0"), carried in the file.
    assert any("+WenQuanYiMicroHei" in name for name in embedded_font_names(body))
