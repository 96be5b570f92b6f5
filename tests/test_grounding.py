"""Evidence through the doors: every record's summary sentences point into the document as it
was read (any encoding, HTML, PDF pages, stdin), long documents through their passes, `--cite`
in text and Markdown, and `summarize check` with its exit codes. Real text, real readers, the
trained tiny T5 where a model runs."""

from __future__ import annotations

import json

import pytest

from helpers import invoke, request, summarize_json
from summarizer.readers import discover, read
from test_readers import make_pdf

BRIDGE = (
    "The Millbrook footbridge over the Alder River reopened on Saturday morning, eleven months after a spring "
    "flood tore away two of its wooden supports. About two hundred residents gathered on the east bank to watch "
    "the mayor, Helen Okafor, cut a ribbon. The repairs cost roughly 340,000 pounds, most of it covered by a "
    "regional resilience grant.\n\nEngineers replaced the old timber piers with steel columns set in concrete. "
    "The council says it will inspect the bridge twice a year."
)
NON_ASCII = (
    "Zürich’s café “Grüne Brücke” reopened on Monday — after 14 months. The owner, Zoë Müller, "
    "said the 🚲 racks outside were the first thing regulars asked about. Prices rose by 8 percent."
)


def _document_text(path) -> str:
    [source] = discover([str(path)]).sources
    return read(source).text


def _round_trips(record: dict, document: str) -> None:
    assert record["evidence"], "the summary's sentences were checked"
    for sentence in record["evidence"]:
        assert record["summary"][sentence["start"]:sentence["end"]] == sentence["text"]
        for cited in sentence["evidence"]:
            assert document[cited["start"]:cited["end"]] == cited["text"]


@pytest.mark.parametrize("name, data, kind", [
    ("utf8.txt", NON_ASCII.encode("utf-8"), None),
    ("cp1252.txt", BRIDGE.replace("'", "’").encode("cp1252"), None),
    ("page.html", f"<html><body><nav>Home | News</nav><article><p>{BRIDGE.split(chr(10))[0]}</p>"
                  f"<p>{BRIDGE.split(chr(10))[-1]}</p></article></body></html>".encode(), None),
    ("report.pdf", None, "pdf"),
])
def test_spans_round_trip_into_the_document_as_read(tmp_path, name, data, kind):
    path = tmp_path / name
    path.write_bytes(make_pdf([BRIDGE.split("\n")[0], BRIDGE.split("\n")[-1]]) if kind == "pdf" else data)
    record = summarize_json(path, "--method", "lead", "--sentences", 3)
    document = _document_text(path)
    _round_trips(record, document)
    assert all(s["supported"] for s in record["evidence"]), "an extractive summary's sentences point at themselves"
    for sentence in record["evidence"]:
        assert sentence["evidence"][0]["text"] == sentence["text"]
    if kind == "pdf":
        pages = [cited["page"] for s in record["evidence"] for cited in s["evidence"]]
        assert pages == sorted(pages) and set(pages) <= {1, 2} and "page" in record["coverage"]["by"]


def test_a_pdfs_pages_survive_settings_given_per_call(tmp_path):
    """The API rebuilds a document as an Item when a call brings its own settings: its pages go along."""
    from summarizer import Summarizer

    path = tmp_path / "report.pdf"
    path.write_bytes(make_pdf([BRIDGE.split("\n")[0], BRIDGE.split("\n")[-1]]))
    summarizer = Summarizer(method="lead", sentences=3)
    for settings in ({}, {"max_words": 60}):
        [record] = summarizer.summarize_files([path], **settings)
        assert record.evidence.coverage.units[0].kind == "page", settings
        assert {cited.page for s in record.evidence.sentences for cited in s.evidence} <= {1, 2}


def test_spans_round_trip_from_stdin():
    record = summarize_json("-", "--method", "lead", "--sentences", 2, input=NON_ASCII)
    _round_trips(record, NON_ASCII)
    short = "\n\n   The bridge reopened on Monday after a long repair.\n"  # returned as is, stripped
    record = summarize_json("-", "--method", "lead", input=short)
    assert record["summary"] == short.strip() and record["note"].startswith("returned as is")
    _round_trips(record, short)


def test_a_long_documents_summary_points_into_the_document(trained_model_dir, samples_dir):
    """Map-reduce: the final sentence is traced through the chunk summaries to the report's own
    sentences (never to a chunk summary), and coverage is counted per chunk."""
    report = samples_dir / "long_report.txt"
    document = _document_text(report)
    record = summarize_json(report, "--model", trained_model_dir, "--num-beams", 1, "--min-length", 0, "--max-length", 24,
                            "--chunk-max-length", 24)
    assert record["levels"] > 2
    _round_trips(record, document)
    assert record["coverage"]["by"] == "chunk" and record["coverage"]["total"] == record["chunks"]
    cited = [c for s in record["evidence"] for c in s["evidence"]]
    assert all(0 <= c["start"] < c["end"] <= len(document) for c in cited)


@pytest.mark.parametrize("strategy", ["map", "truncate", "extract-then-abstract"])
def test_every_strategy_points_into_the_document(trained_model_dir, samples_dir, strategy):
    report = samples_dir / "short.txt"
    record = summarize_json(report, "--model", trained_model_dir, "--num-beams", 1, "--min-length", 0,
                            "--max-length", 24, "--strategy", strategy)
    _round_trips(record, _document_text(report))


def test_no_evidence_is_said_in_the_json_and_cite_needs_it(samples_dir):
    record = summarize_json(samples_dir / "short.txt", "--method", "lead", "--no-evidence")
    assert record["evidence"] is None and "supported" not in record
    result = invoke(samples_dir / "short.txt", "--method", "lead", "--no-evidence", "--cite")
    assert result.exit_code == 2 and "--cite" in result.stderr


def test_cite_marks_sources_and_doubts_in_text_and_markdown(tmp_path):
    from summarizer.evidence import ground
    from summarizer.report import Summary, render

    summary = "The repairs cost roughly 340,000 pounds. The council will inspect the bridge 17 times a year."
    record = Summary("bridge.txt", summary, 100, 20, 1, "m", "cpu", 0.1, evidence=ground(summary, BRIDGE))
    text = render(record, "text", cite=True)
    first, rest = text.split("\n\n", 1)
    assert first == ("The repairs cost roughly 340,000 pounds.[1] The council will inspect the bridge 17 times a "
                     "year.[?][2]")
    assert '[1] line 1: "The repairs cost roughly 340,000 pounds, most of it covered by a regional resilience grant."' in rest
    assert '[2] line 3: "The council says it will inspect the bridge twice a year."' in rest
    assert "[?] \"The council will inspect the bridge 17 times a year.\" is not supported by the source: 17" in rest
    invented = "Returning seeds takes a little more care than returning a novel."
    text = render(Summary("bridge.txt", invented, 100, 20, 1, "m", "cpu", 0.1, evidence=ground(invented, BRIDGE)), "text", cite=True)
    assert text.endswith(f'[?] "{invented}" is not supported by the source: no sentence of the source says it\n')
    assert render(record, "text") == summary + "\n", "stdout stays exactly the summary without --cite"
    markdown = render(record, "markdown", cite=True)
    assert "pounds.[^bridge-txt-1]" in markdown and "[^bridge-txt-1]: line 1:" in markdown
    assert "year.[^bridge-txt-q2][^bridge-txt-2]" in markdown


# --- summarize check --------------------------------------------------------------------------------


def test_check_exit_codes_and_json(tmp_path):
    source = tmp_path / "bridge.txt"
    source.write_text(BRIDGE, encoding="utf-8")
    good = "The repairs cost roughly 340,000 pounds. Engineers replaced the old timber piers with steel columns."
    result = invoke("check", "-", "--source", source, input=good)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("supported (") == 2 and "2 of 2 sentences supported" in result.stdout

    bad = good + " The mayor, Helen Okafor, did not cut a ribbon."
    result = invoke("check", "-", "--source", source, "--format", "json", input=bad)
    data = json.loads(result.stdout)
    assert result.exit_code == 1
    assert set(data) == {"sentences", "supported", "total", "coverage"} and (data["supported"], data["total"]) == (2, 3)
    negated = data["sentences"][2]
    assert not negated["supported"] and any("not" in item for item in negated["unsupported"])
    assert set(negated["evidence"][0]) >= {"start", "end", "text", "score"}
    result = invoke("check", "-", "--source", source, input=bad + " Returning seeds takes more care than returning a novel.")
    assert result.exit_code == 1
    assert "   not in the source: negation: not\n" in result.stdout
    assert result.stdout.endswith("novel.\n   no sentence of the source says it\n"
                                  "2 of 4 sentences supported; the summary draws on 2 of 5 fifths of the source (40-60%, 60-80%)\n")

    summary = tmp_path / "summary.txt"
    summary.write_text("", encoding="utf-8")
    for args, message in (
        ((summary, "--source", source), "empty, nothing to check"),
        (("-", "--source", tmp_path / "missing.txt"), "missing.txt"),
        (("-",), "--source"),
        (("-", "--source", "-"), "cannot both come from stdin"),
    ):
        result = invoke("check", *args, input=good)
        assert result.exit_code == 2 and message in result.stderr


def test_check_reads_a_pdf_and_names_its_pages(tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(make_pdf([BRIDGE.split("\n")[0], BRIDGE.split("\n")[-1]]))
    result = invoke("check", "-", "--source", pdf, "--format", "json",
                    input="The council says it will inspect the bridge twice a year.")
    data = json.loads(result.stdout)
    assert result.exit_code == 0 and data["sentences"][0]["evidence"][0]["page"] == 2
    assert data["coverage"]["by"] == "page"


def test_the_apis_check_is_the_commands(tmp_path):
    import summarizer

    evidence = summarizer.check("The repairs cost roughly 340,000 pounds.", BRIDGE)
    assert evidence.supported == evidence.total == 1
    with pytest.raises(summarizer.InputError, match="summary: empty"):
        summarizer.check("  ", BRIDGE)


def test_check_with_a_model_adds_its_attention_beside_the_evidence(trained_model_dir, tmp_path):
    """The trained T5 copies a text's first sentence: checked with that model, the copy's
    attention favours that sentence, and the verdict is still the text alignment's."""
    from transformers import AutoTokenizer

    from trained_t5 import held_out_pairs, training_sentences

    [(first, second)] = held_out_pairs(training_sentences(AutoTokenizer.from_pretrained(trained_model_dir)), 1)
    document = f"{first} {second}"
    source = tmp_path / "source.txt"
    source.write_text(document, encoding="utf-8")
    result = invoke("check", "-", "--source", source, "--model", trained_model_dir, "--format", "json", input=first)
    data = json.loads(result.stdout)
    assert result.exit_code == 0, result.stderr
    attention = data["sentences"][0]["attention"]
    assert attention["text"] == first and 0 < attention["score"] <= 1
    assert document[attention["start"]:attention["end"]] == first



# --- the server ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(trained_model_dir):
    from helpers import running_server

    with running_server("--model", trained_model_dir, "--num-beams", 1, "--min-length", 0, "-q") as base:
        yield base


def test_the_servers_records_carry_evidence_and_its_check_is_the_commands(server):
    status, record = request(server, "/v1/summarize", {"text": BRIDGE})[:2]
    assert status == 200 and record["sentences"] == len(record["evidence"]) >= 1
    _round_trips(record, BRIDGE)
    status, record = request(server, "/v1/summarize", {"text": BRIDGE, "evidence": False})[:2]
    assert status == 200 and record["evidence"] is None
    status, checked = request(server, "/v1/check", {"summary": "The repairs cost roughly 430,000 pounds.", "source": BRIDGE})[:2]
    assert status == 200 and (checked["supported"], checked["total"]) == (0, 1)
    assert "430,000" in checked["sentences"][0]["unsupported"]
    status, answer = request(server, "/v1/check", {"summary": " ", "source": BRIDGE})[:2]
    assert status == 422 and "summary: empty" in answer["error"]
    status, answer = request(server, "/v1/check", {"summary": "A text."})[:2]
    assert status == 422 and "source" in answer["error"]


def test_the_server_takes_word_bounds_and_says_the_language(server):
    status, record = request(server, "/v1/summarize", {"text": BRIDGE, "max_words": 5})[:2]
    assert status == 200 and 0 < len(record["summary"].split()) <= 6 and record["language"] == "en"
    status, record = request(server, "/v1/summarize", {"text": "Hello"})[:2]
    assert status == 200 and record["summary"] == "Hello" and record["note"].startswith("returned as is")
    german = ("Der Stadtrat hat am Dienstag beschlossen, die alte Brücke abzureißen. Die neue Brücke soll im "
              "nächsten Frühjahr fertig sein und kostet rund vier Millionen Euro.")
    status, record = request(server, "/v1/summarize", {"text": german})[:2]
    assert status == 200 and record["language"] == "de" and "input is German (de)" in record["warning"]
