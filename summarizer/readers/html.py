"""HTML to the text a reader would read: the main content, without navigation or scripts.

trafilatura does the extraction: it is maintained and removes boilerplate (menus, footers,
comment sections) rather than only stripping tags. With current lxml it needs the separate
`lxml_html_clean` package.
"""

from __future__ import annotations

from .errors import ReadError
from .quiet import quiet


def html_text(markup: str) -> tuple[str, tuple[str, ...]]:
    """The main text, one paragraph per block; all visible text when no main text is found.

    trafilatura puts one block per line; a blank line between blocks lets the chunker see
    paragraph breaks.
    """
    import trafilatura

    notes: tuple[str, ...] = ()
    with quiet("trafilatura"):
        text = trafilatura.extract(markup, include_comments=False) or ""
        if not text.strip():
            text = trafilatura.html2txt(markup) or ""
            notes = ("no main text found in the HTML; using all of its visible text",)
    if not text.strip():
        raise ReadError("no text found in HTML")
    return text.strip().replace("\n", "\n\n"), notes
