"""Rebuild the text samples in benchmarks/data/ from two Debian documentation packages.

    apt-get download debian-handbook debian-history
    for f in debian-handbook_*.deb debian-history_*.deb; do dpkg-deb -x "$f" pkgs; done
    python benchmarks/data/extract_debian_docs.py pkgs benchmarks/data

Why these: both are openly licensed (the handbook GPL-2+ or CC BY-SA 3.0, the history GPL-2+),
human-translated paragraph for paragraph, and installable from a registry this project reaches.
The history (dates, names, releases, deaths, a server fire) reads like news; the handbook's prose
chapters give short, ordinary sentences in seven languages.

Writes:
- language/<code>.txt: prose paragraphs of the Debian Administrator's Handbook, one per line,
  line N the same paragraph in every language; only paragraphs translated in all seven (a
  paragraph left in English in a translation would be mislabelled) and that read as prose (no
  commands, paths or listings).
- tokens/<code>.txt: chapter 4 ("A Detailed History") of "A Brief History of Debian", one
  document per section, its title on a line starting with "# ", paragraphs one per line.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import lxml.html

HANDBOOK = "usr/share/doc/debian-handbook/html"
HISTORY = "usr/share/doc/debian-history/docs"
HANDBOOK_LANGUAGES = {"en": "en-US", "de": "de-DE", "fr": "fr-FR", "es": "es-ES", "it": "it-IT", "nl": "nl-NL",
                      "pt": "pt-BR"}
HISTORY_LANGUAGES = ("en", "de", "fr")
PARAGRAPHS = 48  # per language: ~4,000 words, enough for 3 x 48 detections per length class
_NOT_PROSE = re.compile(r"[/$`<>{}=_|#\\]|\.(?:conf|list|deb)\b|--|\w\.\w+\(")


def _text(node) -> str:
    return re.sub(r"\s+", " ", node.text_content()).strip()


def _paragraphs(page: Path) -> list[str]:
    """The page's top-level paragraphs (not those inside notes, lists' code or listings)."""
    root = lxml.html.parse(str(page)).getroot()
    return [_text(p) for p in root.xpath("//div[@class='para']")
            if not p.xpath("ancestor::pre|ancestor::div[contains(@class,'para')]")]


def _prose(paragraph: str) -> bool:
    words = paragraph.split()
    return 20 <= len(words) <= 160 and not _NOT_PROSE.search(paragraph) and paragraph[-1] in ".!?:»\""


def _overlap(paragraph: str, english: str) -> float:
    """The share of a paragraph's words found in the English one: a translation shares names and
    numbers, a paragraph left partly in English shares most of its words."""
    words = re.findall(r"\w+", paragraph.lower())
    known = set(re.findall(r"\w+", english.lower()))
    return sum(word in known for word in words) / max(1, len(words))


def handbook(root: Path, out: Path) -> None:
    folder = root / HANDBOOK
    pages = sorted(p.name for p in (folder / "en-US").glob("*.html"))
    aligned: list[dict[str, str]] = []
    for page in pages:
        by_language = {code: _paragraphs(folder / lang / page) for code, lang in HANDBOOK_LANGUAGES.items()}
        if len({len(paragraphs) for paragraphs in by_language.values()}) != 1:
            continue  # a translation whose structure differs cannot be aligned by position
        for index, english in enumerate(by_language["en"]):
            row = {code: paragraphs[index] for code, paragraphs in by_language.items()}
            translated = all(_overlap(row[code], english) < 0.4 for code in row if code != "en")
            if translated and all(_prose(text) for text in row.values()):
                aligned.append(row)
    step = max(1, len(aligned) // PARAGRAPHS)
    chosen = aligned[::step][:PARAGRAPHS]
    (out / "language").mkdir(parents=True, exist_ok=True)
    for code in HANDBOOK_LANGUAGES:
        (out / "language" / f"{code}.txt").write_text("".join(row[code] + "\n" for row in chosen), encoding="utf-8")
    print(f"language/: {len(chosen)} aligned paragraphs of {len(aligned)} in {len(HANDBOOK_LANGUAGES)} languages")


def history(root: Path, out: Path) -> None:
    (out / "tokens").mkdir(parents=True, exist_ok=True)
    for code in HISTORY_LANGUAGES:
        page = lxml.html.parse(str(root / HISTORY / f"detailed.{code}.html")).getroot()
        documents: list[list[str]] = []
        for node in page.iter("h2", "p"):
            if node.tag == "h2":
                documents.append([f"# {_text(node)}"])
            elif documents and _text(node):
                documents[-1].append(_text(node))
        text = "\n\n".join("\n".join(document) for document in documents if len(document) > 1)
        (out / "tokens" / f"{code}.txt").write_text(text + "\n", encoding="utf-8")
        words = sum(len(line.split()) for line in text.splitlines() if not line.startswith("# "))
        print(f"tokens/{code}.txt: {len(documents)} documents, {words} words")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: extract_debian_docs.py PACKAGES_ROOT OUT_DIR")
    handbook(Path(sys.argv[1]), Path(sys.argv[2]))
    history(Path(sys.argv[1]), Path(sys.argv[2]))
