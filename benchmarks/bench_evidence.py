"""How well `summarizer.evidence.ground` tells supported summary sentences from unsupported ones.

Data: the 250 CNN/DailyMail test articles of the FRANK benchmark (see benchmarks/data/README.md):
each article (cased, as published), its human-written highlights (cased and in the dataset's
lowercased tokenized form), and five models' summaries with human factuality judgements. FRANK
splits the articles into validation (75) and test (175): THRESHOLD was chosen on validation, and
the figures are reported on test (`--split`).

Measured, per summary sentence, with the bigram matcher below as the baseline in the same run:
  genuine  the article's own highlights: share supported (they must mostly stay supported);
  (a)      a highlight of another article swapped into the summary, three per article: AUROC of
           the score against the genuine highlights', and the share flagged at THRESHOLD;
  (b)      three article sentences copied as the summary: share whose top evidence is exactly
           the copied sentence (in the `mixed` form: the tokenized sentence holding its words);
  (c)      a copied sentence with one number changed (to one not in the sentence): share flagged
           with the new number listed; likewise with one name changed to a capitalized word of
           another article's highlights that this article lacks;
  (e)      a copied sentence without negation with one inserted ("was" -> "was not"): share
           flagged; and a copied sentence with its negation removed ("wasn't" -> "was");
  (d)      a run's time with evidence over without: benchmarks/bench_evidence_cost.py (whole runs);
  (f)      with --attention-model DIR (the tests' trained tiny T5, which copies a text's first
           sentence: `python tests/trained_t5.py` prints its folder): the model's cross-attention
           as a second signal, on 5-sentence texts of that task, against text alignment: how often
           each picks the copied sentence, and the attention share a sentence swapped in from
           another text still gets (attention always falls somewhere, so it cannot flag);
  FRANK    the models' summaries: AUROC of the summary's lowest sentence score against the
           human judgement "has an error" (a real-world check; its errors include grammar and
           coreference, which no text alignment sees). `--misses N` prints N failures per probe.
The baseline takes the share of a sentence's word bigrams found anywhere in the article; its
threshold is set where 90% of the genuine highlights pass, so both are compared at that operating
point. Forms: `cased` (article and summaries as published), `lower` (the article lowercased and
tokenized like the dataset, by `cnndm_form`, as FRANK keeps only the cased article; with the real
tokenized highlights), `mixed` (that article against the cased, detokenized summaries: how a
model's output meets a tokenized input).

    python benchmarks/bench_evidence.py [--split test|validation|all] [--format table|json] [--misses N]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from summarizer.evidence import THRESHOLD, Part, ground  # noqa: E402
from summarizer.evidence.text import keys  # noqa: E402
from summarizer.sentences import sentence_spans  # noqa: E402

DATA = ROOT / "benchmarks" / "data" / "frank"
MODELS = ("bart", "pgn", "bus", "bert_sum", "s2s")
SWAPS = 3  # sentences of other articles swapped in, per article
TARGETS = {"genuine": 0.90, "a_auroc": 0.98, "a_flagged": 0.95, "b": 0.98, "c_number": 0.95, "e_inserted": 0.90}
_AUX = re.compile(r"\b(is|are|was|were|has|have|had|will|would|could|can|should|did|does|do|must|might)\b(?!['’]| only\b)", re.I)
# Negations, and words that negate ("refused", "failure"): a sentence with one gets no second.
_NEGATION = re.compile(
    r"\b(not|no|never|neither|nor|nobody|nothing|none|nowhere|without|cannot)\b|n['’]t\b"
    r"|\b(fail|refus|unable|den(y|ie)|lack|declin)", re.I
)
# A negation to take out, and what is left: "can't" -> "can", "wo n't" -> "will", "never seen" -> "seen".
_NEGATED = re.compile(r"\b(?:(ca|wo|sha)|(\w+?))\s?n['’]t\b|\s+not\b(?!\s+only)|\s+never\b|\bcannot\b", re.I)
_STEMS = {"ca": "can", "wo": "will", "sha": "shall"}
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*(?![\w])")
_NAME = re.compile(r"(?<=[a-z,] )[A-Z][a-z]{2,}\b")


@dataclass
class Article:
    id: str
    split: str
    article: str
    reference: str  # cased, detokenized highlights
    reference_lower: str  # the dataset's lowercased, tokenized highlights
    summaries: dict[str, str] = field(default_factory=dict)
    factuality: dict[str, float] = field(default_factory=dict)


def load(data: Path) -> list[Article]:
    """FRANK's CNN/DailyMail articles with their highlights, model summaries and human labels."""
    human = json.loads((data / "human_annotations.json").read_text(encoding="utf-8"))
    labels: dict[str, dict[str, float]] = {}
    splits: dict[str, str] = {}
    for row in human:
        if row["dataset"] == "cnndm":
            labels.setdefault(row["hash"], {})[row["model_name"]] = float(row["Factuality"])
            splits[row["hash"]] = "validation" if row["split"] == "valid" else row["split"]
    articles = []
    for path in sorted((data / "articles").glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        articles.append(
            Article(
                id=raw["hash"],
                split=splits.get(raw["hash"], "test"),
                article=raw["article"],
                reference=detokenize(raw["bart_reference"]),
                reference_lower=raw["bert_sum_reference"],
                summaries={m: " ".join(raw[f"{m}_lines"]) for m in MODELS},
                factuality=labels.get(raw["hash"], {}),
            )
        )
    return articles


def detokenize(text: str) -> str:
    """`Locke 's first six games -LRB- 3.7 miles -RRB- .` -> `Locke's first six games (3.7 miles).`"""
    text = re.sub(r"-LRB-\s*", "(", text, flags=re.I)
    text = re.sub(r"\s*-RRB-", ")", text, flags=re.I)
    text = re.sub(r"``\s*(.*?)\s*''", r'"\1"', text)
    text = re.sub(r"`\s*(.*?)\s*'(?=\s|$)", r"'\1'", text)
    text = re.sub(r" (n't|'s|'re|'ve|'ll|'d|'m)\b", r"\1", text)
    text = re.sub(r" ([.,;:!?%)])", r"\1", text)
    return re.sub(r"([$£(]) ", r"\1", text)


def cnndm_form(text: str) -> str:
    """The article as CNN/DailyMail's tokenized, lowercased release writes it (an approximation of
    its PTB tokenizer: enough to exercise every difference that matters to matching)."""
    text = text.lower().replace("(", " -lrb- ").replace(")", " -rrb- ")
    text = re.sub(r'["“](.*?)["”]', r"`` \1 ''", text)
    text = re.sub(r"(\w)['’](s|re|ve|ll|d|m)\b", r"\1 '\2", text)
    text = re.sub(r"(\w)n['’]t\b", r"\1 n't", text)
    text = re.sub(r"([,;:!?])(?=\s|$)", r" \1", text)
    text = _PERIOD.sub(lambda m: m.group() if _ABBREVIATION.fullmatch(m.group(1)) else m.group(1) + " .", text)
    return re.sub(r"\s+", " ", text).strip()


_PERIOD = re.compile(r"(\S+)\.(?=\s|$)")
_ABBREVIATION = re.compile(r"(?:[a-z]\.)+[a-z]|mr|mrs|ms|dr|st|jr|sr|prof|gen|gov|sen|rep|no|vs|inc|co|corp|ltd")


# The baseline: a 30-line bigram matcher.
def bigram_keys(text: str) -> set[tuple[str, str]]:
    words = re.findall(r"\w+", text.lower())
    return set(zip(words, words[1:]))


def bigram_score(sentence: str, article_bigrams: set[tuple[str, str]]) -> float:
    keys = bigram_keys(sentence)
    return len(keys & article_bigrams) / len(keys) if keys else 0.0


def auroc(positive: list[float], negative: list[float]) -> float:
    """P(score of a positive > score of a negative), ties counted half (Mann-Whitney U)."""
    if not positive or not negative:
        return float("nan")
    ranked = sorted([(s, 1) for s in positive] + [(s, 0) for s in negative])
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        rank_sum += sum(1 for _, label in ranked[i:j] if label) * (i + j + 1) / 2
        i = j
    n_pos, n_neg = len(positive), len(negative)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def copyable(article: str) -> list[tuple[int, int]]:
    """Sentences worth copying: 8 to 60 words, ending a sentence, said once in the article."""
    spans = sentence_spans(article)
    texts = [article[s:e] for s, e in spans]
    return [
        (s, e)
        for (s, e), text in zip(spans, texts)
        if 8 <= len(text.split()) <= 60 and text[-1] in ".!?'\"’”" and texts.count(text) == 1
    ]


def change_number(sentence: str, rng: random.Random) -> tuple[str, str] | None:
    """The sentence with one number changed to a value it does not contain, and that value."""
    found = list(_NUMBER.finditer(sentence))
    if not found:
        return None
    match = rng.choice(found)
    old = match.group()
    present = {m.group().replace(",", "") for m in found}
    digits = old.replace(",", "")
    for _ in range(50):
        if "." in digits:
            whole, frac = digits.split(".")
            new = f"{whole}.{frac[:-1]}{(int(frac[-1]) + rng.randint(1, 8)) % 10}"  # 3.7 -> 3.2
        else:
            value = int(digits)
            step = rng.randint(1, 9) if value < 20 else rng.randint(1, max(2, value // 3))
            new = str(value + step if rng.random() < 0.5 or value - step <= 0 else value - step)
            if "," in old:
                new = f"{int(new):,}"
        if new.replace(",", "") not in present:
            return sentence[: match.start()] + new + sentence[match.end():], new
    return None


def change_name(sentence: str, article: str, names: list[str], rng: random.Random) -> tuple[str, str] | None:
    """The sentence with one capitalized word (not its first) replaced by a name from another
    article that this article never mentions."""
    found = list(_NAME.finditer(sentence))
    pool = [n for n in names if n.lower() not in article.lower()]
    if not found or not pool:
        return None
    match, new = rng.choice(found), rng.choice(pool)
    return sentence[: match.start()] + new + sentence[match.end():], new


def insert_negation(sentence: str, rng: random.Random) -> str | None:
    """The sentence with "not" after one of its auxiliaries ("was" -> "was not"), if it has one and
    no negation yet (a second negation would make a double negative, not a contradiction)."""
    found = list(_AUX.finditer(sentence))
    if not found or _NEGATION.search(sentence):
        return None
    match = rng.choice(found)
    return sentence[: match.end()] + " not" + sentence[match.end():]


def drop_negation(sentence: str) -> str | None:
    """The sentence without its first negation ("wasn't" -> "was", "can't" -> "can")."""
    match = _NEGATED.search(sentence)
    if not match:
        return None
    if match.group().lower() == "cannot":
        kept = match.group()[:3]
    elif match.group(1):
        kept = _STEMS[match.group(1).lower()]
    else:
        kept = match.group(2) or ""
    return sentence[: match.start()] + kept + sentence[match.end():]


def sentence_at(evidence, at: int):
    """The summary sentence of an Evidence that holds offset `at` of the summary."""
    return next(s for s in evidence.sentences if s.start <= at < s.end)


def with_sentence(sentences: list[str], i: int, new: str) -> tuple[str, int]:
    """The summary with sentence `i` replaced, and where the new sentence starts in it."""
    head = " ".join(sentences[:i])
    start = len(head) + 1 if head else 0
    return " ".join(sentences[:i] + [new] + sentences[i + 1:]), start


def measure(articles: list[Article], form: str) -> dict:
    """Every figure of the module docstring for one form of the texts."""
    rng_seed = f"evidence-{form}"
    cased = [a.article for a in articles]
    docs = [cnndm_form(a.article) if form in ("lower", "mixed") else a.article for a in articles]
    sources = docs if form != "mixed" else cased  # where copied and altered sentences come from
    refs = [a.reference_lower if form == "lower" else a.reference for a in articles]
    names = sorted({m.group() for a in articles for m in _NAME.finditer(a.reference)})
    ours: dict[str, list] = {k: [] for k in ("genuine", "swapped", "copied", "number", "name", "inserted", "dropped")}
    base: dict[str, list] = {k: [] for k in ("genuine", "swapped", "number", "inserted", "dropped")}
    misses: list[tuple[str, object]] = []  # (probe kind, the SentenceEvidence that got it wrong)
    times = []
    for n, (doc, ref, source) in enumerate(zip(docs, refs, sources)):
        rng = random.Random(f"{rng_seed}-{n}")
        doc_bigrams = bigram_keys(doc)
        sentences = [ref[s:e] for s, e in sentence_spans(ref)]
        started = time.perf_counter()
        genuine = ground(ref, doc)
        times.append(time.perf_counter() - started)
        for s in genuine.sentences:
            ours["genuine"].append((s.score, s.supported))
            base["genuine"].append(bigram_score(s.text, doc_bigrams))
            if not s.supported:
                misses.append(("genuine", s))
        # (a) a highlight of another article in place of one of this summary's sentences, thrice
        for other in rng.sample(refs[:n] + refs[n + 1:], SWAPS):
            other_sentences = [other[s:e] for s, e in sentence_spans(other) if len(other[s:e].split()) >= 3]
            i = rng.randrange(len(sentences))
            summary, at = with_sentence(sentences, i, rng.choice(other_sentences))
            swapped = sentence_at(ground(summary, doc), at)
            ours["swapped"].append((swapped.score, swapped.supported))
            base["swapped"].append(bigram_score(swapped.text, doc_bigrams))
            if swapped.supported:
                misses.append(("swapped", swapped))
        # (b) three article sentences copied
        spans = copyable(source)
        picked = sorted(rng.sample(spans, min(3, len(spans))))
        copies = [source[s:e] for s, e in picked]
        copied = ground(" ".join(copies), doc)
        at = 0
        for (s, e), copy in zip(picked, copies):
            found = sentence_at(copied, at)
            top = found.evidence[:1]
            at += len(copy) + 1
            if source is doc:
                right = bool(top) and (top[0].start, top[0].end) == (s, e)
            else:  # the copy is cased, the document tokenized (and split its own way): the top
                right = bool(top) and _within(keys(copy), keys(top[0].text))  # evidence holds its words
            ours["copied"].append(right)
            if not right:
                misses.append(("copied", found))
        # (c) one number changed, (c) one name changed, (e) negation inserted or removed
        order = spans[:]
        rng.shuffle(order)
        probes = {"number": None, "name": None, "inserted": None, "dropped": None}
        for s, e in order:
            text = source[s:e]
            if probes["number"] is None and (changed := change_number(text, rng)):
                probes["number"] = changed
            if form != "lower" and probes["name"] is None and (changed := change_name(text, source, names, rng)):
                probes["name"] = changed
            if probes["inserted"] is None and (changed := insert_negation(text, rng)):
                probes["inserted"] = (changed, "not")
            if probes["dropped"] is None and (changed := drop_negation(text)):
                probes["dropped"] = (changed, None)
        for kind, probe in probes.items():
            if probe is None:
                continue
            text, listed = probe
            i = rng.randrange(len(sentences))
            summary, at = with_sentence(sentences, i, text)
            result = sentence_at(ground(summary, doc), at)
            caught = not result.supported
            if kind in ("number", "name"):  # and listed as written ("7" may be in "7:39.216")
                caught = caught and any(listed in item for item in result.unsupported)
            ours[kind].append(caught)
            if not caught:
                misses.append((kind, result))
            if kind in base:
                base[kind].append(bigram_score(text, doc_bigrams))
    return {"ours": ours, "base": base, "times": times, "misses": misses}


def _within(part: list, whole: list) -> bool:
    """Whether `part` occurs in `whole` as a contiguous run."""
    return any(whole[i:i + len(part)] == part for i in range(len(whole) - len(part) + 1))


def frank_check(articles: list[Article]) -> dict:
    """AUROC of each summary's lowest sentence score against 'humans found an error', ours and
    the baseline's."""
    ours_ok, ours_bad, base_ok, base_bad = [], [], [], []
    for a in articles:
        doc_bigrams = bigram_keys(a.article)
        for model, summary in a.summaries.items():
            if model not in a.factuality or not summary.strip():
                continue
            low = min((s.score for s in ground(summary, a.article).sentences), default=0.0)
            low_base = min((bigram_score(summary[s:e], doc_bigrams) for s, e in sentence_spans(summary)), default=0.0)
            (ours_ok if a.factuality[model] == 1.0 else ours_bad).append(low)
            (base_ok if a.factuality[model] == 1.0 else base_bad).append(low_base)
    return {
        "summaries": len(ours_ok) + len(ours_bad),
        "with_error": len(ours_bad),
        "auroc": auroc(ours_ok, ours_bad),
        "auroc_bigram": auroc(base_ok, base_bad),
    }


def timings(articles: list[Article]) -> dict:
    """ground() on the speed workload's document size, a 100 KB document, and 5 MB with parts."""
    def best_of(fn, repeats=5):
        out = []
        for _ in range(repeats):
            started = time.perf_counter()
            fn()
            out.append(time.perf_counter() - started)
        return min(out)

    report = (ROOT / "samples" / "long_report.txt").read_text(encoding="utf-8")
    spans = sentence_spans(report)
    cut = next(e for s, e in spans if e >= 2400)  # about 480 T5 tokens, as the speed workload's documents
    small = report[:cut]
    small_summary = " ".join(report[s:e] for s, e in spans[1:4])
    big = ""
    for a in articles:
        if len(big) >= 100_000:
            break
        big += a.article + "\n\n"
    big_spans = sentence_spans(big)
    big_summary = " ".join(big[s:e] for s, e in big_spans[len(big_spans) // 2: len(big_spans) // 2 + 3])
    # 5 MB: the articles again and again, one part per article (its highlights as the chunk summary).
    pieces, parts, length = [], [], 0
    while length < 5_000_000:
        for a in articles:
            parts.append(Part(a.reference, length, length + len(a.article)))
            pieces.append(a.article + "\n\n")
            length += len(a.article) + 2
    huge = "".join(pieces)
    huge_summary = " ".join(p.text.split(". ")[0] + "." for p in parts[1000:1003])
    return {
        "doc_480_tokens_ms": 1000 * best_of(lambda: ground(small_summary, small)),
        "doc_480_tokens_chars": len(small),
        "doc_100kb_ms": 1000 * best_of(lambda: ground(big_summary, big)),
        "doc_100kb_chars": len(big),
        "doc_5mb_parts_ms": 1000 * best_of(lambda: ground(huge_summary, huge, parts=parts), repeats=3),
        "doc_5mb_chars": len(huge),
        "doc_5mb_parts": len(parts),
    }


def summarize(result: dict) -> dict:
    """The figures of one form: ours, and the baseline at its 90%-genuine threshold."""
    ours, base = result["ours"], result["base"]
    genuine_scores = [s for s, _ in ours["genuine"]]
    swapped_scores = [s for s, _ in ours["swapped"]]
    base_threshold = sorted(base["genuine"])[int(0.10 * len(base["genuine"]))]

    def share(values):
        return sum(values) / len(values) if values else float("nan")

    return {
        "genuine_sentences": len(ours["genuine"]),
        "genuine": share([ok for _, ok in ours["genuine"]]),
        "a_auroc": auroc(genuine_scores, swapped_scores),
        "a_flagged": share([not ok for _, ok in ours["swapped"]]),
        "b": share(ours["copied"]),
        "b_probes": len(ours["copied"]),
        "c_number": share(ours["number"]),
        "c_probes": len(ours["number"]),
        "c_name": share(ours["name"]),
        "c_name_probes": len(ours["name"]),
        "e_inserted": share(ours["inserted"]),
        "e_probes": len(ours["inserted"]),
        "e_dropped": share(ours["dropped"]),
        "e_dropped_probes": len(ours["dropped"]),
        "ms_per_document": 1000 * statistics.mean(result["times"]),
        "bigram": {
            "threshold": base_threshold,
            "genuine": share([s >= base_threshold for s in base["genuine"]]),
            "a_auroc": auroc(base["genuine"], base["swapped"]),
            "a_flagged": share([s < base_threshold for s in base["swapped"]]),
            "c_number": share([s < base_threshold for s in base["number"]]),
            "e_inserted": share([s < base_threshold for s in base["inserted"]]),
            "e_dropped": share([s < base_threshold for s in base["dropped"]]),
        },
    }


def table(report: dict) -> str:
    rows = [
        ("genuine highlights supported", "genuine", TARGETS["genuine"]),
        ("(a) swapped-in sentence: AUROC", "a_auroc", TARGETS["a_auroc"]),
        ("(a) swapped-in sentence: flagged", "a_flagged", TARGETS["a_flagged"]),
        ("(b) copied: top evidence exact", "b", TARGETS["b"]),
        ("(c) number changed: caught+listed", "c_number", TARGETS["c_number"]),
        ("(c) name changed: caught+listed", "c_name", None),
        ("(e) negation inserted: flagged", "e_inserted", TARGETS["e_inserted"]),
        ("(e) negation removed: flagged", "e_dropped", None),
    ]
    forms = report["forms"]
    lines = [
        f"{report['articles']} CNN/DailyMail test articles (FRANK, split {report['split']}), THRESHOLD {THRESHOLD}",
        f"{'':36}" + "".join(f"{form:>9} {'bigram':>7}" for form in forms) + f"{'target':>9}",
    ]
    for label, key, target in rows:
        cells = ""
        for form in forms.values():
            ours = form[key]
            theirs = form["bigram"].get(key)
            cells += f"{_fmt(ours):>9} {_fmt(theirs):>7}"
        lines.append(f"{label:36}{cells}{'>= ' + format(target, '.2f') if target else '':>9}")
    lines.append(
        "probes (genuine/b/c/name/e/removed): "
        + "; ".join(
            f"{name} {f['genuine_sentences']}/{f['b_probes']}/{f['c_probes']}/{f['c_name_probes']}/{f['e_probes']}/{f['e_dropped_probes']}"
            for name, f in forms.items()
        )
    )
    lines.append("bigram threshold (90% of genuine pass): " + ", ".join(f"{n} {f['bigram']['threshold']:.3f}" for n, f in forms.items()))
    lines.append("(d) time with evidence / without: benchmarks/bench_evidence_cost.py")
    f = report.get("attention")
    if f:
        lines.append(
            f"(f) attention, {f['texts']} texts of the copy task: top sentence is the copied one "
            f"{f['attention_picks_copied']:.3f} (alignment {f['alignment_picks_copied']:.3f}); mean share of the top "
            f"sentence {f['share_genuine']:.2f} copied vs {f['share_swapped']:.2f} swapped-in (alignment flags "
            f"{f['alignment_flags_swapped']:.3f} of those)"
        )
    frank = report["frank"]
    lines.append(
        f"FRANK model summaries ({frank['summaries']}, {frank['with_error']} with a human-found error): "
        f"AUROC of lowest sentence score {frank['auroc']:.3f}, bigram {frank['auroc_bigram']:.3f}"
    )
    t = report["timings"]
    lines.append(
        "ground() time: "
        + ", ".join(f"{name} {f['ms_per_document']:.1f} ms/article" for name, f in forms.items())
        + f"; {t['doc_480_tokens_chars']}-char (~480-token) document + 3 sentences {t['doc_480_tokens_ms']:.1f} ms"
        + f"; {t['doc_100kb_chars'] // 1000} KB document {t['doc_100kb_ms']:.1f} ms"
        + f"; {t['doc_5mb_chars'] / 1e6:.1f} MB document with {t['doc_5mb_parts']} parts {t['doc_5mb_parts_ms']:.1f} ms"
    )
    return "\n".join(lines)


def attention_signal(model_dir: Path, texts: int = 40) -> dict:
    """(f): texts of five sentences of the copy task; the copied (first) sentence and a sentence
    of another text, each checked with the model's attention as a second signal."""
    sys.path.insert(0, str(ROOT / "tests"))
    from transformers import AutoTokenizer

    from summarizer import Summarizer
    from summarizer.evidence.attention import with_attention
    from trained_t5 import held_out_pairs, training_sentences

    summarizer = Summarizer(str(model_dir), backend="torch")
    sentences = training_sentences(AutoTokenizer.from_pretrained(model_dir))
    rng = random.Random(0)
    pairs = held_out_pairs(sentences, texts)
    found = {"attention": [], "alignment": [], "share_genuine": [], "share_swapped": [], "flagged": []}
    for n, (first, second) in enumerate(pairs):
        document = " ".join([first, second, *rng.sample([s for s in sentences if s not in (first, second)], 3)])
        other = pairs[(n + 1) % len(pairs)][0]
        for summary, genuine in ((first, True), (other, False)):
            evidence = with_attention(ground(summary, document), summarizer, summary, document)
            sentence = evidence.sentences[0]
            if genuine:
                found["attention"].append(sentence.attention is not None and sentence.attention.text == first)
                found["alignment"].append(bool(sentence.evidence) and sentence.evidence[0].text == first)
                found["share_genuine"].append(sentence.attention.score if sentence.attention else 0.0)
            else:
                found["share_swapped"].append(sentence.attention.score if sentence.attention else 0.0)
                found["flagged"].append(not sentence.supported)
    mean = statistics.mean
    return {"texts": texts, "attention_picks_copied": mean(found["attention"]), "alignment_picks_copied": mean(found["alignment"]),
            "share_genuine": mean(found["share_genuine"]), "share_swapped": mean(found["share_swapped"]),
            "alignment_flags_swapped": mean(found["flagged"])}


def show_misses(results: dict, limit: int) -> None:
    """The sentences behind the failures: what was judged, its score, evidence and flags."""
    for form, result in results.items():
        shown: dict[str, int] = {}
        for kind, s in result["misses"]:
            shown[kind] = shown.get(kind, 0) + 1
            if shown[kind] <= limit:
                top = s.evidence[0].text[:120] if s.evidence else None
                print(f"[{form} {kind}] {s.score:.2f} {s.text[:160]!r} unsupported={list(s.unsupported)} top={top!r}")


def _fmt(value) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("test", "validation", "all"), default="test")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--forms", default="cased,lower,mixed")
    parser.add_argument("--misses", type=int, default=0, help="print this many failures of each probe")
    parser.add_argument("--attention-model", type=Path, help="(f): the trained tiny T5's folder")
    args = parser.parse_args()
    if not (args.data / "human_annotations.json").exists():
        sys.exit(f"no FRANK data in {args.data}: see benchmarks/data/README.md")
    articles = load(args.data)
    chosen = [a for a in articles if args.split == "all" or a.split == args.split]
    results = {form: measure(chosen, form) for form in args.forms.split(",")}
    forms = {form: summarize(result) for form, result in results.items()}
    if args.misses:
        show_misses(results, args.misses)
    report = {
        "split": args.split,
        "articles": len(chosen),
        "threshold": THRESHOLD,
        "forms": forms,
        "frank": frank_check(chosen),
        "timings": timings(articles),
        "attention": attention_signal(args.attention_model) if args.attention_model else None,
    }
    print(json.dumps(report, indent=2) if args.format == "json" else table(report))


if __name__ == "__main__":
    main()
