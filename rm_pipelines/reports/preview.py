"""A PNG preview of a report's first page (pypdfium2, in-process) for the Dagster UI."""

from __future__ import annotations

import base64
import io


def first_page_png(pdf: bytes, width_px: int = 520) -> bytes:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        page = doc[0]
        scale = width_px / page.get_width()
        image = page.render(scale=scale).to_pil()
        buf = io.BytesIO()
        image.save(buf, format="PNG", optimize=True)
        return buf.getvalue()
    finally:
        doc.close()


def markdown_image(png: bytes, alt: str) -> str:
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})"
