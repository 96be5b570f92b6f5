"""Grounded summaries: known answers on real text (the samples/ documents), no model."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from summarizer.evidence import THRESHOLD, Evidence, Part, Section, ground
from summarizer.methods.extractive import lead, textrank
from summarizer.sentences import sentence_spans

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
BRIDGE = (SAMPLES / "short.txt").read_text(encoding="utf-8")
REPORT = (SAMPLES / "long_report.txt").read_text(encoding="utf-8")
SEEDS = (SAMPLES / "article.md").read_text(encoding="utf-8")


def sentence_of(document: str, opening: str) -> tuple[int, int]:
    """The span of the document sentence that starts with `opening`."""
    return next((s, e) for s, e in sentence_spans(document) if document[s:e].startswith(opening))


def only(evidence: Evidence):
    assert evidence.total == 1, [s.text for s in evidence.sentences]
    return evidence.sentences[0]


def test_copied_sentences_point_at_exactly_themselves():
    spans = [sentence_of(REPORT, o) for o in ("The network had not", "Missed trips are", "Payment methods are")]
    summary = " ".join(REPORT[s:e] for s, e in spans)
    evidence = ground(summary, REPORT)
    assert [(s.evidence[0].start, s.evidence[0].end) for s in evidence.sentences] == spans
    assert all(s.supported and s.score == pytest.approx(1.0) and not s.unsupported for s in evidence.sentences)
    assert (evidence.supported, evidence.total) == (3, 3)


@pytest.mark.parametrize("method", [lead, textrank])
def test_extractive_summaries_point_at_their_own_sentences(method):
    body = REPORT[REPORT.index("In January 2024"):]  # past the title lines, which join into one
    chosen = method(body, 4)
    evidence = ground(" ".join(chosen), body)  # joined as the pipeline joins them
    assert [s.evidence[0].text for s in evidence.sentences] == chosen
    assert evidence.supported == 4


def test_a_sentence_from_another_document_is_unsupported():
    found = only(ground("Seed libraries ask borrowers to bring back seeds from at least one healthy plant.", BRIDGE))
    assert not found.supported
    assert found.score < THRESHOLD
    assert {"Seed", "libraries", "borrowers", "seeds", "plant"} <= set(found.unsupported)


@pytest.mark.parametrize(
    "original, changed, listed",
    [
        ("The repairs cost roughly 340,000 pounds", "The repairs cost roughly 450,000 pounds", "450,000"),
        ("reopened on Saturday morning, eleven months after", "reopened on Saturday morning, nine months after", "nine"),
        ("watch the mayor, Helen Okafor, cut a ribbon", "watch the mayor, Helen Smith, cut a ribbon", "Smith"),
    ],
)
def test_one_number_or_name_changed_is_unsupported_and_listed(original, changed, listed):
    start, end = _sentence_holding(BRIDGE, original)
    found = only(ground(BRIDGE[start:end].replace(original, changed), BRIDGE))
    assert not found.supported
    assert listed in found.unsupported
    assert (found.evidence[0].start, found.evidence[0].end) == (start, end)  # checked against the original


def test_a_name_of_the_document_put_in_another_name_place_is_unsupported():
    # "Millbrook" is in the document, but the evidence has "Okafor" between the same words
    found = only(ground("Residents gathered to watch the mayor, Helen Millbrook, cut a ribbon.", BRIDGE))
    assert not found.supported
    assert found.unsupported == ("Millbrook",)


def test_a_name_brought_in_from_another_sentence_is_supported():
    found = only(ground("Mayor Helen Okafor says the council will inspect the bridge twice a year.", BRIDGE))
    assert found.supported and not found.unsupported
    assert {c.text[:12] for c in found.evidence} == {"The council ", "About two hu"}


@pytest.mark.parametrize(
    "document, summary, item",
    [
        (BRIDGE, "The council says it will not inspect the bridge twice a year.", "negation: not"),
        (BRIDGE, "The council says it won't inspect the bridge twice a year.", "negation: n't"),
        (REPORT, "The network had been studied in depth since 2011.", "negation dropped: not"),
        (REPORT, "About 3 percent of scheduled trips did run, usually because of a shortage of drivers.",
         "negation dropped: not"),
    ],
)
def test_a_negation_inserted_or_dropped_makes_a_near_copy_unsupported(document, summary, item):
    found = only(ground(summary, document))
    assert found.score > 0.6  # a near copy...
    assert not found.supported  # ...that says the opposite
    assert item in found.unsupported


def test_a_negation_the_evidence_shares_is_supported():
    found = only(ground("About half of the riders do not have regular access to a car.", REPORT))
    assert found.supported and not found.unsupported
    assert found.evidence[0].text == "The survey suggests that about half do not have regular access to a car."


def test_a_close_paraphrase_points_at_its_sentence():
    start, end = _sentence_holding(BRIDGE, "The Millbrook footbridge over the Alder River")
    found = only(ground("The Millbrook footbridge reopened on Saturday, eleven months after a flood damaged it.", BRIDGE))
    assert found.supported
    assert (found.evidence[0].start, found.evidence[0].end) == (start, end)


def test_a_sentence_fused_from_two_points_at_both():
    found = only(ground("Engineers replaced the timber piers with steel columns, and the council will inspect "
                        "the bridge twice a year.", BRIDGE))
    assert found.supported
    assert {c.text[:20] for c in found.evidence} == {"Engineers replaced t", "The council says it "}


def test_spans_round_trip_with_non_ascii_text():
    document = (
        "Das Café Zürich — gegründet 1912 — serves 🍰 cakes to 300 guests a day. "
        "Its owner, Zoë Müller, still bakes every morning at five. "
        "東京 visitors often queue outside for an hour."
    )
    summary = "Zoë Müller still bakes every morning at 5 in Zurich's café 🎂. Visitors from 東京 queue outside."
    evidence = ground(summary, document)
    assert evidence.total == 2
    for s in evidence.sentences:
        assert summary[s.start:s.end] == s.text
        for cited in s.evidence:
            assert document[cited.start:cited.end] == cited.text
    first, second = evidence.sentences
    assert first.supported and first.evidence[0].text.startswith("Its owner, Zoë Müller")
    assert second.supported and second.evidence[0].text.startswith("東京 visitors")


_WORDS = st.sampled_from(
    "Zürich café naïve Øresund Ελλάδα 東京 🎉 — « » “quoted” it's don't U.S. 3.5 2,000 12 not never "
    "the bridge council mayor opened reopened flood river -lrb- -rrb- `` '' , ; : ( )".split()
)
_SENTENCES = st.lists(_WORDS, min_size=1, max_size=12).map(lambda ws: " ".join(ws) + ("." if len(ws) % 3 else "!"))


@settings(max_examples=60, deadline=None)
@given(st.lists(_SENTENCES, min_size=1, max_size=8), st.lists(_SENTENCES, min_size=1, max_size=4), st.data())
def test_spans_round_trip_and_scores_stay_in_range(document_sentences, extra, data):
    document = "  ".join(document_sentences)
    copied = data.draw(st.lists(st.sampled_from(document_sentences), max_size=3))
    summary = " \n".join(copied + extra)
    cut = data.draw(st.integers(0, len(document)))
    for evidence in (
        ground(summary, document),
        ground(summary, document, parts=[Part(summary, 0, cut), Part(extra[0], cut, len(document))]),
    ):
        for s in evidence.sentences:
            assert summary[s.start:s.end] == s.text
            assert 0.0 <= s.score <= 1.0
            for cited in s.evidence:
                assert document[cited.start:cited.end] == cited.text
                assert 0.0 <= cited.score <= 1.0


def test_a_lowercased_tokenized_document_matches_a_detokenized_summary():
    document = (
        "the repairs cost roughly 340,000 pounds , most of it covered by a regional resilience grant . "
        "the council says it does n't plan to close the bridge -lrb- for now -rrb- . "
        "`` it 's a great day , '' said the mayor , helen okafor ."
    )
    summary = ("The repairs cost roughly 340,000 pounds. The council doesn't plan to close the bridge (for now). "
               "\"It's a great day,\" said Mayor Helen Okafor. The council says it plans to close the bridge.")
    evidence = ground(summary, document)
    assert [s.supported for s in evidence.sentences] == [True, True, True, False]
    assert [s.evidence[0].text[:12] for s in evidence.sentences[:3]] == ["the repairs ", "the council ", "`` it 's a g"]
    assert "negation dropped: not" in evidence.sentences[3].unsupported


def _report_parts() -> list[Part]:
    """Three chunk summaries of the report, each of a third of it, as map-reduce writes them."""
    thirds = [0, REPORT.index("Drivers were frank"), REPORT.index("Information is another barrier"), len(REPORT)]
    texts = [
        "Harrowgate reviewed its bus network for twelve months. The network had not been studied since 2011.",
        "Drivers say timetables are unrealistic. About 28 percent of fares are still paid in cash.",
        "Timetables at stops are printed in small type. Riders want buses every ten or fifteen minutes.",
    ]
    return [Part(text, start, end) for text, start, end in zip(texts, thirds, thirds[1:])]


def test_a_map_reduce_summary_is_traced_through_its_parts_into_the_document():
    parts = _report_parts()
    summary = "Over a quarter of fares are paid in cash. Riders asked for a bus every ten or fifteen minutes."
    evidence = ground(summary, REPORT, parts=parts)
    cash, often = evidence.sentences
    assert cash.supported and often.supported
    for sentence, part in ((cash, parts[1]), (often, parts[2])):
        for cited in sentence.evidence:
            assert part.start <= cited.start < cited.end <= part.end
            assert REPORT[cited.start:cited.end] == cited.text  # the document, never the part's text
    assert cash.evidence[0].text.startswith("About 28 percent of fares are still paid in cash")
    assert often.evidence[0].text.startswith("Many said that a bus every ten or fifteen minutes")
    assert [u.sentences for u in evidence.coverage.units] == [0, 1, 1]  # by chunk, the parts' ranges
    assert [u.label for u in evidence.coverage.units] == ["chunk 1", "chunk 2", "chunk 3"]


def test_tracing_keeps_to_the_parts_the_summary_drew_on():
    parts = _report_parts()
    # Both the first and the last third say a timetable is printed or unrealistic; the summary's
    # wording comes from the third part's summary, so the evidence must come from its range.
    found = only(ground("Timetables at stops are printed in small type.", REPORT, parts=parts))
    assert parts[2].start <= found.evidence[0].start < parts[2].end


def test_tracing_falls_back_to_the_closest_parts():
    parts = _report_parts()
    found = only(ground("Contactless card payment was introduced in 2022.", REPORT, parts=parts))
    assert found.supported  # no part summary says it, yet its chunk is the one sharing most words
    assert found.evidence[0].text.startswith("Contactless card payment was introduced in 2022")


def test_pages_and_coverage_by_page():
    pages = _pages(SEEDS, 3)
    summary = "Seeds must be dry, clean, and clearly labelled. Volunteers are another concern: sorting packets takes time."
    evidence = ground(summary, SEEDS, sections=pages)
    dry, volunteers = (_page_of(pages, SEEDS.index(s)) for s in ("Seeds must be dry", "Volunteers are another"))
    assert (dry, volunteers) == (1, 3)  # the sample's layout, so the test means what it says
    assert [s.evidence[0].page for s in evidence.sentences] == [1, 3]
    assert evidence.coverage.to_dict()["by"] == "page"
    assert [u.sentences for u in evidence.coverage.units] == [1, 0, 1]
    assert evidence.coverage.share == pytest.approx(2 / 3)
    assert evidence.to_dict()["sentences"][0]["evidence"][0]["page"] == 1


def test_coverage_by_heading_shows_a_summary_of_the_opening_only():
    headings = _headings(SEEDS)
    summary = "A seed library is a cabinet of seed envelopes next to the returns desk of some public libraries."
    evidence = ground(summary, SEEDS, sections=headings + _pages(SEEDS, 2))
    assert evidence.coverage.to_dict()["by"] == "heading"  # headings win over pages
    assert [u.sentences for u in evidence.coverage.units] == [1, 0, 0, 0]
    assert evidence.coverage.share == pytest.approx(0.25)


def test_coverage_without_sections_is_by_fifths_of_the_document():
    first = sentence_of(REPORT, "In January 2024")
    late = sentence_of(REPORT, "It is hard to put the case")
    evidence = ground(f"{REPORT[slice(*first)]} {REPORT[slice(*late)]}", REPORT)
    assert [u.label for u in evidence.coverage.units] == ["0-20%", "20-40%", "40-60%", "60-80%", "80-100%"]
    fifths = [5 * start // len(REPORT) for start, _ in (first, late)]
    assert [u.sentences for u in evidence.coverage.units] == [fifths.count(n) for n in range(5)]
    assert evidence.coverage.cited == 2 and fifths[1] >= 3


def test_to_dict_has_exactly_the_promised_fields():
    out = ground("The repairs cost roughly 340,000 pounds. Apple shares fell in Tokyo.", BRIDGE).to_dict()
    assert set(out) == {"sentences", "supported", "total", "coverage"}
    assert (out["supported"], out["total"]) == (1, 2)
    assert set(out["sentences"][0]) == {"text", "start", "end", "supported", "score", "evidence", "unsupported"}
    assert set(out["sentences"][0]["evidence"][0]) == {"start", "end", "text", "score", "line"}  # no page: none known
    assert out["sentences"][1]["evidence"] == [] and "Apple" in out["sentences"][1]["unsupported"]


def test_sections_of_pages_headings_and_chunks_and_cited_pages_by_their_own_number():
    from summarizer.evidence import sections_of

    document = "# Roads\nThe bridge opened in May. It cost 2 million pounds.\n\n# Rivers\nThe river flooded twice."
    headings = sections_of(document)
    assert [(s.label, document[s.start:s.end].split("\n")[0]) for s in headings] == [("# Roads", "# Roads"), ("# Rivers", "# Rivers")]
    pages = sections_of(document, pages=[(2, 0), (5, document.index("# Rivers"))])
    assert [(s.label, s.number) for s in pages if s.kind == "page"] == [("page 2", 2), ("page 5", 5)]
    cited = ground("The river flooded twice.", document, sections=pages).sentences[0].evidence[0]
    assert (cited.page, cited.line, cited.text) == (5, 5, "The river flooded twice.")
    assert [s.label for s in sections_of(document, chunks=[(0, 40), None, (40, 80)]) if s.kind == "chunk"] == ["chunk 1", "chunk 3"]


def test_empty_summary_and_empty_document():
    assert ground("", BRIDGE).total == 0
    nothing = ground("The repairs cost roughly 340,000 pounds.", "")
    assert nothing.supported == 0 and nothing.sentences[0].evidence == ()
    assert nothing.coverage.units == ()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"parts": [Part("x", 0, 10_000)]}, r"part 1 covers \[0, 10000\), outside the document's \d+ characters"),
        ({"sections": [Section("page 1", 5, 2, "page")]}, r"section 1 covers \[5, 2\)"),
    ],
)
def test_ranges_outside_the_document_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ground("A summary.", BRIDGE, **kwargs)


def _sentence_holding(document: str, fragment: str) -> tuple[int, int]:
    at = document.index(fragment)
    return next((s, e) for s, e in sentence_spans(document) if s <= at < e)


def _pages(document: str, count: int) -> list[Section]:
    """`count` pages of about equal length, cut at line ends, as a PDF reader reports them."""
    cuts = [0] + [document.index("\n", len(document) * n // count) + 1 for n in range(1, count)] + [len(document)]
    return [Section(f"page {n}", a, b, "page") for n, (a, b) in enumerate(zip(cuts, cuts[1:]), 1)]


def _page_of(pages: list[Section], offset: int) -> int:
    return next(n for n, p in enumerate(pages, 1) if p.start <= offset < p.end)


def _headings(document: str) -> list[Section]:
    starts = [m.start() for m in re.finditer(r"^#+ .*$", document, re.M)] + [len(document)]
    return [
        Section(document[a:document.index("\n", a)], a, b, "heading") for a, b in zip(starts, starts[1:])
    ]
