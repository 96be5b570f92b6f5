"""Readers: discovery by name only, then lazy reading of text in any encoding, PDF, HTML, URLs."""

from __future__ import annotations

import builtins
import codecs
import hashlib
import io
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path, PurePosixPath

import pytest

from helpers import local_server

from summarizer.readers import (
    ReadError, ReadLimits, TooLarge, collect, discover, read, read_each, url_relpath,
)

# --- Building inputs -----------------------------------------------------------------------


def make_pdf(pages: list[str]) -> bytes:
    """A valid PDF with one Helvetica text object per page; lines of a page become text lines.

    Written by hand because pypdf writes pages but not text; pypdf reads it back in the tests.
    """
    font = 3 + 2 * len(pages)
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(pages)))
    bodies = [b"<< /Type /Catalog /Pages 2 0 R >>", f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode()]
    for i, text in enumerate(pages):
        lines = " ".join(f"({line}) '" for line in text.split("\n"))
        content = f"BT /F1 12 Tf 72 720 Td 14 TL {lines} ET".encode("latin-1")
        bodies.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {4 + 2 * i} 0 R >>".encode()
        )
        bodies.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
    bodies.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(bodies, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(bodies) + 1, xref))
    return out.getvalue()


def rewrite_pdf(data: bytes, blank_pages: int = 0, **encrypt) -> bytes:
    """`data` with blank pages added (no text layer, like a scan) or encrypted, via pypdf."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data))) if data else PdfWriter()
    for _ in range(blank_pages):
        writer.add_blank_page(612, 792)
    if encrypt:
        writer.encrypt(**encrypt)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF = make_pdf(["The bridge reopened on Monday.\nRiders were pleased.", "Page two speaks of seeds."])
PDF_TEXT = "The bridge reopened on Monday.\nRiders were pleased.\n\nPage two speaks of seeds."

ARTICLE = (
    "The old river bridge reopened on Monday after two years of repairs. Commuters crossed it "
    "by bike and on foot, and the city says buses will follow next month."
)
PAGE = f"""<!DOCTYPE html><html><head><title>Bridge news</title>
<style>.menu {{ color: red }}</style><script>var tracker = "SCRIPT_CONTENT";</script></head>
<body><nav><ul><li><a href="/">Home</a></li><li><a href="/about">About us</a></li>
<li><a href="/contact">Contact</a></li></ul></nav>
<article><h1>The bridge reopened</h1><p>{ARTICLE}</p>
<p>Engineers replaced the deck and strengthened the piers. The new ramp makes the crossing
easier for wheelchairs and prams, which riders welcomed warmly.</p></article>
<footer>Copyright 2024 Example News. All rights reserved.</footer>
<script>console.log("MORE_SCRIPT")</script></body></html>"""

FRENCH = (
    "Le café de la gare est très bon. Les élèves arrivent à l'école à huit heures, et ils "
    "déjeunent à midi. C'était une journée ensoleillée à Noël, et tout le monde était content."
)
RUSSIAN = "Вчера мы были в Москве, и погода была прекрасной, хотя немного прохладной. Завтра поедем домой."


def read_path(path: Path, **kwargs):
    """Read a file the way the CLI does: discovered as a named argument, then read."""
    listing = discover([path])
    assert not listing.errors, listing.errors
    return read(listing.sources[0], **kwargs)


def read_named(tmp_path: Path, name: str, data: bytes):
    (tmp_path / name).write_bytes(data)
    return read_path(tmp_path / name)


# --- Odd inputs, one table -----------------------------------------------------------------

READS = {
    # id: (file name, bytes, expected text, expected note or None)
    "utf8": ("a.txt", "naïve café".encode(), "naïve café", None),
    "utf8-bom": ("a.txt", "\ufeffhi there".encode(), "hi there", None),
    "utf16-le-bom": ("a.txt", codecs.BOM_UTF16_LE + "Grüße, “hi”".encode("utf-16-le"), "Grüße, “hi”", "UTF-16"),
    "utf16-be-bom": ("a.txt", codecs.BOM_UTF16_BE + "Grüße, “hi”".encode("utf-16-be"), "Grüße, “hi”", "UTF-16"),
    "utf32-le-bom": ("a.txt", "Grüße".encode("utf-32"), "Grüße", "UTF-32"),
    "latin1-sentence": ("a.txt", "Le café de la gare est très bon.".encode("latin-1"), "Le café de la gare est très bon.", "windows-1252"),
    "latin1-paragraph": ("a.txt", FRENCH.encode("latin-1"), FRENCH, "windows-1252"),
    "latin1-word": ("a.txt", "déjà".encode("latin-1"), "déjà", "windows-1252"),
    "latin1-two-words": ("a.txt", "Crème brûlée".encode("latin-1"), "Crème brûlée", "windows-1252"),
    "cp1252-smart-quotes": ("a.txt", "“Yes,” she said — it’s fine…".encode("cp1252"), "“Yes,” she said — it’s fine…", "windows-1252"),
    "cp1252-short-quotes": ("a.txt", "“hi”".encode("cp1252"), "“hi”", "windows-1252"),
    "cp1252-short-sentence": ("a.txt", "Le café était très bon.".encode("cp1252"), "Le café était très bon.", "windows-1252"),
    "cp1250-short-polish": ("a.txt", "Zażółć gęślą jaźń.".encode("cp1250"), "Zażółć gęślą jaźń.", "windows-1250"),
    "cp1251-russian": ("a.txt", RUSSIAN.encode("cp1251"), RUSSIAN, "windows-1251"),
    "empty": ("a.txt", b"", "", None),
    "whitespace-only": ("a.txt", b" \n\t\n ", " \n\t\n ", None),
    "one-word": ("a.txt", b"word", "word", None),
    "enormous-line": ("a.txt", b"word " * 800_000, "word " * 800_000, None),
    "enormous-latin1-line": ("a.txt", "café ".encode("latin-1") * 800_000, "café " * 800_000, "windows-1252"),
    "pdf": ("a.pdf", PDF, PDF_TEXT, None),
    "pdf-blank-page": ("a.pdf", rewrite_pdf(PDF, blank_pages=1), PDF_TEXT, "1 of 3 pages have no text layer"),
    "pdf-empty-password": ("a.pdf", rewrite_pdf(PDF, user_password="", owner_password="o", algorithm="AES-128"), PDF_TEXT, None),
    "empty-pdf-file": ("a.pdf", b"", "", None),
    "html": ("a.html", PAGE.encode(), None, None),
}


@pytest.mark.parametrize("name, data, expected, note", READS.values(), ids=READS.keys())
def test_odd_inputs_read(tmp_path, name, data, expected, note):
    document = read_named(tmp_path, name, data)
    if expected is not None:
        assert document.text == expected
    assert document.digest == hashlib.sha256(data).hexdigest()
    assert document.source == str(tmp_path / name) and document.relpath == PurePosixPath(name)
    if note is None:
        assert document.notes == ()
    else:
        assert len(document.notes) == 1 and note in document.notes[0]


def test_detected_encoding_is_named_in_the_note(tmp_path):
    document = read_named(tmp_path, "a.txt", "Le café est très bon.".encode("latin-1"))
    assert document.notes == ("decoded as windows-1252 (detected)",)


REFUSALS = {
    "binary-nul": ("a.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file (contains NUL bytes)"),
    "binary-no-encoding": ("a.txt", bytes(range(1, 256)) * 40, "binary file (no plausible text encoding)"),
    "utf16-without-bom": ("a.txt", "hello".encode("utf-16-le"), "binary file"),
    "scanned-pdf": ("a.pdf", rewrite_pdf(b"", blank_pages=2), "no text layer (scanned PDF?); OCR is not supported"),
    "encrypted-pdf": ("a.pdf", rewrite_pdf(PDF, user_password="secret", owner_password="o", algorithm="AES-128"),
                      "encrypted PDF that needs a password"),
    "encrypted-rc4-pdf": ("a.pdf", rewrite_pdf(PDF, user_password="secret", algorithm="RC4-128"),
                          "encrypted PDF that needs a password"),
    "corrupt-pdf": ("a.pdf", PDF[: len(PDF) // 3], "not a readable PDF"),
    "not-a-pdf": ("a.pdf", b"hello, I am text", "not a readable PDF"),
    "pdf-without-pages": ("a.pdf", rewrite_pdf(b""), "PDF has no pages"),
    "html-without-text": ("a.html", b"<html><head><script>x = 1</script></head><body> </body></html>", "no text found in HTML"),
}


@pytest.mark.parametrize("name, data, message", REFUSALS.values(), ids=REFUSALS.keys())
def test_unreadable_inputs_are_refused_in_one_line(tmp_path, name, data, message, caplog):
    with pytest.raises(ReadError) as caught:
        read_named(tmp_path, name, data)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert not caught.value.skippable, "a file named on the command line is never skipped quietly"
    assert caplog.records == [], "library warnings about damaged files stay out of the log (stderr)"


def test_html_gives_the_article_without_navigation_scripts_or_footer(tmp_path):
    text = read_named(tmp_path, "page.html", PAGE.encode()).text
    assert ARTICLE in text and "Engineers replaced the deck" in text
    for noise in ("SCRIPT_CONTENT", "MORE_SCRIPT", "color: red", "About us", "Contact", "Copyright"):
        assert noise not in text
    assert "<" not in text
    assert "\n\n" in text, "blocks are separated as paragraphs for the chunker"


def test_html_without_main_text_falls_back_to_visible_text(tmp_path):
    page = b"<html><body><div class='comments'><p>Only a reader comment here.</p></div><script>x=1</script></body></html>"
    document = read_named(tmp_path, "c.htm", page)
    assert document.text == "Only a reader comment here."
    assert "visible text" in document.notes[0]


def test_html_in_a_legacy_encoding_is_decoded_first(tmp_path):
    page = f"<html><body><article><p>{ARTICLE} Le café était très bon.</p></article></body></html>"
    document = read_named(tmp_path, "p.html", page.encode("cp1252"))
    assert "Le café était très bon." in document.text
    assert any("windows-1252" in note for note in document.notes)


STDIN_CASES = {
    "closed-at-once": (b"", ""),
    "text": ("héllo".encode(), "héllo"),
    "latin1": ("Le café est très bon.".encode("latin-1"), "Le café est très bon."),
    "pdf": (PDF, PDF_TEXT),
}


@pytest.mark.parametrize("data, expected", STDIN_CASES.values(), ids=STDIN_CASES.keys())
def test_stdin(data, expected):
    [source] = discover(["-"]).sources
    document = read(source, stdin=io.BytesIO(data))
    assert (document.source, document.text, document.relpath) == ("-", expected, PurePosixPath("stdin.txt"))


def test_stdin_that_looks_like_html_is_read_as_html():
    [source] = discover(["-"]).sources
    text = read(source, stdin=io.BytesIO(b"\n  " + PAGE.encode())).text
    assert ARTICLE in text and "SCRIPT_CONTENT" not in text


def test_a_txt_file_of_markup_stays_text(tmp_path):
    assert read_named(tmp_path, "raw.txt", b"<html><p>hi</p></html>").text == "<html><p>hi</p></html>"


def test_binary_in_a_folder_walk_is_skippable_but_named_binary_is_not(tmp_path):
    (tmp_path / "blob.txt").write_bytes(b"\x00\x01\x02binary")
    [walked] = discover([tmp_path]).sources
    with pytest.raises(ReadError) as caught:
        read(walked)
    assert caught.value.skippable
    with pytest.raises(ReadError) as caught:
        read_path(tmp_path / "blob.txt")
    assert not caught.value.skippable


# --- Big inputs: read block by block, bounded by one limit ----------------------------------

BIG = "The bridge reopened on Monday. Riders were pleased with the new ramp.\n\n" * 30_000  # 2 MB


class Zeros(io.RawIOBase):
    """A stream of NUL bytes, like /dev/zero, that counts what was read of it (and fails the
    test, rather than filling memory, if read far)."""

    taken = 0

    def readable(self):
        return True

    def readinto(self, buffer):
        self.taken += len(buffer)
        if self.taken > 16 * 2**20:
            raise AssertionError("read on past the first block")
        buffer[:] = bytes(len(buffer))
        return len(buffer)


def test_an_endless_binary_stream_is_refused_on_its_first_block():
    [source] = discover(["-"]).sources
    stream = Zeros()
    with pytest.raises(ReadError, match=r"^binary file \(contains NUL bytes\)$"):
        read(source, stdin=io.BufferedReader(stream))
    assert stream.taken <= 2**20, "the rest of the stream was never read"


@pytest.mark.parametrize("data, expected, note", [
    (BIG.encode() + "Le café est très bon.".encode("latin-1"), BIG + "Le café est très bon.", "windows-1252"),
    (codecs.BOM_UTF16_LE + ("Grüße, “hi” 𝄞 " * 200_000).encode("utf-16-le"), "Grüße, “hi” 𝄞 " * 200_000, "UTF-16"),
    (("naïve café " * 200_000).encode(), "naïve café " * 200_000, None),
    (("a" + "日本語のテキストです。" * 100_000).encode("shift_jis"), "a" + "日本語のテキストです。" * 100_000, "cp932"),
], ids=["utf8-then-latin1-after-the-first-block", "utf16-with-characters-across-blocks", "utf8",
        "shift-jis-without-newlines-cut-mid-character"])
def test_a_big_file_decodes_as_it_would_whole(tmp_path, data, expected, note):
    document = read_named(tmp_path, "big.txt", data)
    assert not isinstance(document.blocks(), str), "a big file is streamed, not held"
    assert "".join(document.blocks()) == document.text == expected
    assert document.digest == hashlib.sha256(data).hexdigest()
    assert (note is None and document.notes == ()) or note in document.notes[0]


def test_characters_that_are_not_text_are_replaced_and_said(tmp_path):
    """NUL characters in UTF-16 with a byte order mark (NUL bytes elsewhere are binary) and
    noncharacters are replaced with U+FFFD, held or streamed, and a note says how many."""
    text = "Tea\x00 at five.\uffff Then a walk.\ufdd0"
    document = read_named(tmp_path, "odd.txt", text.encode("utf-16"))
    assert document.text == "Tea\ufffd at five.\ufffd Then a walk.\ufffd"
    assert document.notes[-1] == "3 characters that are not text (NUL, a lone surrogate or a noncharacter) replaced with U+FFFD"
    streamed = read_named(tmp_path, "big.txt", (BIG + "\uffff").encode())
    assert not isinstance(streamed.content, str) and "".join(streamed.blocks()).endswith("\ufffd")
    assert streamed.notes == ("1 character that is not text (NUL, a lone surrogate or a noncharacter) replaced with U+FFFD",)


def test_a_nul_after_the_first_block_is_still_binary(tmp_path):
    with pytest.raises(ReadError, match=r"^binary file \(contains NUL bytes\)$"):
        read_named(tmp_path, "late.txt", BIG.encode() + b"\x00tail")


def test_big_stdin_is_spooled_and_read_again_whole():
    [source] = discover(["-"]).sources
    document = read(source, stdin=io.BytesIO(BIG.encode()))
    assert "".join(document.blocks()) == "".join(document.blocks()) == BIG, "each reading starts at the beginning"
    assert document.digest == hashlib.sha256(BIG.encode()).hexdigest()


@pytest.mark.parametrize("kind", ["file", "stdin"])
def test_an_input_over_the_limit_is_refused_and_one_at_it_is_read(tmp_path, kind):
    limit = len(BIG.encode())
    limits = ReadLimits(max_bytes=limit)
    for data, fits in ((BIG.encode(), True), (BIG.encode() + b"!", False)):
        if kind == "file":
            (tmp_path / "a.txt").write_bytes(data)
            [source] = discover([tmp_path / "a.txt"]).sources
        else:
            [source] = discover(["-"]).sources
        stdin = io.BytesIO(data) if kind == "stdin" else None
        if fits:
            assert read(source, stdin=stdin, limits=limits).text == BIG
        else:
            with pytest.raises(TooLarge) as caught:
                read(source, stdin=stdin, limits=limits)
            assert str(caught.value) == "larger than --max-input-size (2130 KB)"
            assert not caught.value.skippable


# --- Discovery ------------------------------------------------------------------------------


def test_discover_lists_every_kind_in_argument_order(tmp_path):
    (tmp_path / "docs" / "sub").mkdir(parents=True)
    for rel in ("docs/b.md", "docs/a.txt", "docs/sub/c.pdf", "docs/sub/d.html", "docs/skip.csv", "one.txt"):
        (tmp_path / rel).write_bytes(b"x")
    listing = discover([str(tmp_path / "one.txt"), "https://example.com/news/article", "-", tmp_path / "docs"])
    assert not listing.errors and not listing.skipped
    assert [(s.kind, s.named, s.relpath.as_posix()) for s in listing.sources] == [
        ("file", True, "one.txt"),
        ("url", True, "example.com/news/article.txt"),
        ("stdin", True, "stdin.txt"),
        ("file", False, "a.txt"),
        ("file", False, "b.md"),
        ("file", False, "sub/c.pdf"),
        ("file", False, "sub/d.html"),
    ]
    assert listing.sources[1].name == "https://example.com/news/article"
    assert listing.sources[3].name == str(tmp_path / "docs" / "a.txt")


def test_discover_reports_problems_without_stopping(tmp_path):
    (tmp_path / "ok.txt").write_text("fine", encoding="utf-8")
    listing = discover(["-", "-", tmp_path / "nope.txt", "ftp://example.com/a.txt", "file:///etc/passwd",
                        "https://", tmp_path / "ok.txt"])
    assert [s.name for s in listing.sources] == ["-", str(tmp_path / "ok.txt")]
    assert [(p.source, p.message) for p in listing.errors] == [
        ("-", "stdin given more than once"),
        (str(tmp_path / "nope.txt"), "no such file or folder"),
        ("ftp://example.com/a.txt", "only http(s) URLs are supported"),
        ("file:///etc/passwd", "only http(s) URLs are supported"),
        ("https://", "not a valid URL (no host)"),
    ]


def test_hidden_files_and_folders_are_skipped_with_a_note(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text("no", encoding="utf-8")
    (tmp_path / ".draft.txt").write_text("no", encoding="utf-8")
    (tmp_path / "y.txt").write_text("yes", encoding="utf-8")
    listing = discover([tmp_path])
    assert [s.relpath.as_posix() for s in listing.sources] == ["y.txt"]
    assert {(Path(p.source).name, p.message) for p in listing.skipped} == {
        (".git", "hidden folder, skipped"), (".draft.txt", "hidden file, skipped"),
    }


def test_the_output_folder_is_not_walked(tmp_path):
    (tmp_path / "summaries").mkdir()
    (tmp_path / "summaries" / "a.txt").write_text("old summary", encoding="utf-8")
    (tmp_path / "a.txt").write_text("input", encoding="utf-8")
    listing = discover([tmp_path], exclude=tmp_path / "summaries")
    assert [s.relpath.as_posix() for s in listing.sources] == ["a.txt"]


def test_folder_without_matches_is_noted_and_globs_choose(tmp_path):
    (tmp_path / "data.csv").write_text("a,b", encoding="utf-8")
    listing = discover([tmp_path])
    assert not listing.sources
    assert listing.skipped[0].message == "no files matching *.txt, *.md, *.pdf, *.html, *.htm"
    assert [s.relpath.as_posix() for s in discover([tmp_path], globs=["*.csv"]).sources] == ["data.csv"]


def test_discovering_a_big_folder_opens_no_file(tmp_path, monkeypatch):
    for i in range(2000):
        (tmp_path / f"{i:04}.txt").touch()
    opened = []

    def counting(original):
        def wrapper(*args, **kwargs):
            opened.append(args[:1])
            return original(*args, **kwargs)
        return wrapper

    for owner, name in ((builtins, "open"), (io, "open"), (os, "open"), (Path, "open"),
                        (Path, "read_bytes"), (Path, "read_text")):
        monkeypatch.setattr(owner, name, counting(getattr(owner, name)))
    listing = discover([tmp_path, str(tmp_path / "0001.txt")], exclude=tmp_path / "out")
    monkeypatch.undo()
    assert len(listing.sources) == 2001
    assert opened == []


URL_NAMES = {
    "https://example.com/article": "example.com/article.txt",
    "https://Example.COM/": "example.com/index.txt",
    "http://example.com": "example.com/index.txt",
    "http://example.com:8080/a/b.html?x=1&y=2": "example.com_8080/a/b.html_x_1_y_2.txt",
    "https://example.com/notes.txt": "example.com/notes.txt",
    "https://example.com/../../etc/passwd": "example.com/etc/passwd.txt",
    "https://example.com/.hidden/caf%C3%A9%20au%20lait": "example.com/hidden/caf_au_lait.txt",
    "https://example.com/" + "x" * 300: "example.com/" + "x" * 100 + ".txt",
}


@pytest.mark.parametrize("url, relpath", URL_NAMES.items(), ids=range(len(URL_NAMES)))
def test_url_output_names_are_safe(url, relpath):
    assert url_relpath(url).as_posix() == relpath


# --- Lazy reading ----------------------------------------------------------------------------


def test_read_each_reads_one_source_at_a_time(tmp_path):
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text(f"first {name}", encoding="utf-8")
    reads = read_each(discover([tmp_path]).sources)
    source, document = next(reads)
    assert document.text == "first a.txt"
    (tmp_path / "b.txt").write_text("changed after a was read", encoding="utf-8")
    (tmp_path / "c.txt").unlink()
    rest = list(reads)
    assert rest[0][1].text == "changed after a was read", "b was not read before it was asked for"
    assert isinstance(rest[1][1], ReadError) and str(rest[1][1]) == "no such file or folder"


def test_collect_reads_everything_and_sorts_problems(tmp_path):
    (tmp_path / "a.txt").write_text("fine", encoding="utf-8")
    (tmp_path / "blob.txt").write_bytes(b"\x00\x01")
    (tmp_path / "scan.pdf").write_bytes(rewrite_pdf(b"", blank_pages=1))
    collected = collect(["-", tmp_path], stdin=io.BytesIO(b"from stdin"))
    assert [d.text for d in collected.documents] == ["from stdin", "fine"]
    assert [(Path(p.source).name, p.message) for p in collected.skipped] == [
        ("blob.txt", "binary file (contains NUL bytes), skipped"),
    ]
    assert [(Path(p.source).name, p.message) for p in collected.errors] == [
        ("scan.pdf", "no text layer (scanned PDF?); OCR is not supported"),
    ]


# --- URLs --------------------------------------------------------------------------------------

LATIN = "Le café était très bon."
ROUTES = {
    "/text": (200, "text/plain; charset=utf-8", "Plain text body.".encode()),
    "/latin": (200, "text/plain; charset=iso-8859-1", LATIN.encode("latin-1")),
    "/undeclared": (200, "text/plain", LATIN.encode("cp1252")),
    "/mislabeled": (200, "text/plain; charset=utf-8", LATIN.encode("cp1252")),
    "/unknown-charset": (200, "text/plain; charset=x-nonsense", "naïve".encode()),
    "/page": (200, "text/html; charset=utf-8", PAGE.encode()),
    "/html-as-plain": (200, "text/plain", PAGE.encode()),
    "/untyped": (200, None, PAGE.encode()),
    "/doc": (200, "application/pdf", PDF),
    "/image": (200, "image/png", b"\x89PNG\r\n\x1a\n\x00\x00"),
    "/big": (200, "text/plain", b"x" * 5000),
}


class Handler(BaseHTTPRequestHandler):
    release = threading.Event()  # set at teardown, so a sleeping /slow handler ends

    def do_GET(self):
        if self.path == "/missing":
            self.send_error(404)
        elif self.path == "/broken":
            self.send_error(500)
        elif self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/text")
            self.end_headers()
        elif self.path == "/slow":
            self.release.wait(5)
        elif self.path == "/trickle":  # a byte every 0.1 s: no single read times out
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            try:
                while not self.release.wait(0.1):
                    self.wfile.write(b"x")
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif self.path == "/big-unannounced":  # HTTP/1.0: the body ends when the connection closes
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"x" * 5000)
        else:
            status, kind, body = ROUTES[self.path]
            self.send_response(status)
            if kind:
                self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    with local_server(Handler) as url:
        yield url


FAST = ReadLimits(timeout=0.5, max_bytes=1000)


def fetch_document(url: str):
    [source] = discover([url]).sources
    return read(source, limits=FAST)


def test_url_text(server):
    document = fetch_document(f"{server}/text")
    assert (document.source, document.text, document.notes) == (f"{server}/text", "Plain text body.", ())
    assert document.relpath == PurePosixPath(f"127.0.0.1_{server.rsplit(':', 1)[1]}/text.txt")
    assert document.digest == hashlib.sha256(b"Plain text body.").hexdigest()


@pytest.mark.parametrize("path", ["/page", "/html-as-plain", "/untyped"])
def test_url_html_gives_the_article(server, path):
    text = fetch_document(server + path).text
    assert ARTICLE in text and "SCRIPT_CONTENT" not in text and "About us" not in text


def test_url_charset_comes_from_the_header_else_detection(server):
    declared = fetch_document(f"{server}/latin")
    assert (declared.text, declared.notes) == (LATIN, ())
    undeclared = fetch_document(f"{server}/undeclared")
    assert undeclared.text == LATIN and "windows-1252 (detected)" in undeclared.notes[0]
    mislabeled = fetch_document(f"{server}/mislabeled")
    assert mislabeled.text == LATIN
    assert mislabeled.notes == ("decoded as windows-1252 (detected; the declared charset utf-8 does not fit)",)
    unknown = fetch_document(f"{server}/unknown-charset")
    assert (unknown.text, unknown.notes) == ("naïve", ("decoded as UTF-8; the declared charset x-nonsense does not fit",))


def test_url_pdf(server):
    assert fetch_document(f"{server}/doc").text == PDF_TEXT


def test_url_redirect_is_followed_and_noted(server):
    document = fetch_document(f"{server}/moved")
    assert document.source == f"{server}/moved" and document.text == "Plain text body."
    assert document.notes == (f"redirected to {server}/text",)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("path, message", [
    ("/missing", "HTTP 404 Not Found"),
    ("/broken", "HTTP 500 Internal Server Error"),
    ("/slow", "timed out after 0.5 s"),
    ("/trickle", "timed out after 0.5 s"),
    ("/big", "larger than --max-input-size (1 KB)"),
    ("/big-unannounced", "larger than --max-input-size (1 KB)"),
    ("/image", "not text (content type image/png)"),
])
def test_url_failures_are_one_line(server, path, message):
    with pytest.raises(ReadError) as caught:
        fetch_document(server + path)
    assert str(caught.value) == message


def test_connection_refused_is_one_line():
    with pytest.raises(ReadError) as caught:
        fetch_document(f"http://127.0.0.1:{closed_port()}/x")
    assert str(caught.value) == "cannot reach 127.0.0.1: Connection refused"


def test_a_pdf_says_where_each_page_starts_in_its_text(tmp_path):
    """What points into a PDF's text (a summary's evidence) can name the page it is on; pages
    without text have no start."""
    data = make_pdf(["First page. The bridge opens.", "", "Third page about the river."])
    document = read_named(tmp_path, "report.pdf", data)
    text = document.text
    assert [number for number, _ in document.pages] == [1, 3]
    for (number, start), expected in zip(document.pages, ("First page.", "Third page")):
        assert text[start:].startswith(expected)
