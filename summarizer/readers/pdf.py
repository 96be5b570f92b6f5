"""PDF bytes to text with pypdf: every page's text layer, in order."""

from __future__ import annotations

import io

from .errors import ReadError
from .quiet import quiet


def pdf_text(data: bytes) -> tuple[str, tuple[str, ...], tuple[tuple[int, int], ...]]:
    """Pages joined by a blank line, so the chunker sees a paragraph break between pages.

    Returns the text, notes (pages without text), and where each page with text starts in it
    (page number from 1, character offset), so what points into the text can name its page.
    An empty user password is tried on an encrypted PDF, which opens the many PDFs that are
    only locked against editing.
    """
    from pypdf import PdfReader

    with quiet("pypdf"):
        try:
            reader = PdfReader(io.BytesIO(data))
            locked = reader.is_encrypted and not reader.decrypt("")
            pages = [] if locked else [(page.extract_text() or "").strip() for page in reader.pages]
        except Exception as exc:  # pypdf reports damaged files with many exception types
            raise ReadError(f"not a readable PDF ({_one_line(exc)})") from None
    if locked:
        raise ReadError("encrypted PDF that needs a password; decrypt it first (e.g. qpdf --decrypt)")
    if not pages:
        raise ReadError("PDF has no pages")
    numbered = [(number, text) for number, text in enumerate(pages, 1) if text]
    if not numbered:
        raise ReadError("no text layer (scanned PDF?); OCR is not supported")
    blank = len(pages) - len(numbered)
    notes = (f"{blank} of {len(pages)} pages have no text layer",) if blank else ()
    starts, at = [], 0
    for number, text in numbered:
        starts.append((number, at))
        at += len(text) + 2  # the blank line between pages
    return "\n\n".join(text for _, text in numbered), notes, tuple(starts)


def _one_line(exc: Exception) -> str:
    message = " ".join(str(exc).split())
    return message or type(exc).__name__

