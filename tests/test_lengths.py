"""Lengths in words and sentences, inputs too short to summarize, languages, and degenerate
summaries: through the CLI and the API, on the trained tiny T5 (it copies a text's first
sentence) and on real text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import invoke, summarize_json
from summarizer.degenerate import problems, repeated
from summarizer.lengths import MARGIN, STEP, Measure, capped, final_lengths
from summarizer.sentences import count_words, cut_back, sentence_spans
from trained_t5 import held_out_pairs, training_sentences

GREEDY = ("--num-beams", 1, "--no-repeat-ngram-size", 0)
GERMAN = ("Der Stadtrat hat am Dienstag beschlossen, die alte Brücke über den Fluss abzureißen. Die neue Brücke "
          "soll im nächsten Frühjahr fertig sein und kostet rund vier Millionen Euro.")
FRENCH = ("Le conseil municipal a décidé mardi de démolir le vieux pont sur la rivière. Le nouveau pont doit être "
          "terminé au printemps prochain et coûtera environ quatre millions d'euros.")
ENGLISH = ("The city council decided on Tuesday to pull down the old bridge over the river. The new bridge should be "
           "finished next spring and will cost about four million euros.")


@pytest.fixture(scope="module")
def pairs(trained_model_dir) -> list[tuple[str, str]]:
    """(two-sentence text, its first sentence): what the trained model writes for it."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(trained_model_dir)
    return [(f"{a} {b}", a) for a, b in held_out_pairs(training_sentences(tokenizer), 6)]


# --- pure rules ---------------------------------------------------------------------------------


def test_words_are_counted_however_punctuation_is_spaced():
    assert count_words("kathmandu , nepal .") == count_words("Kathmandu, Nepal.") == 2
    assert count_words("Don't e-mail the U.S. office!") == 5


@pytest.mark.parametrize("text, bounds, expected", [
    ("The council met. It voted for the plan. Work starts soon.", dict(max_sentences=2),
     "The council met. It voted for the plan."),
    ("The council met. It voted for the plan.", dict(max_words=5), "The council met. It voted"),
    ("The council met. It voted for the plan.", dict(max_words=5, whole_sentences=True), "The council met."),
    ("The council met, it voted, for the plan", dict(max_words=4, max_sentences=1), "The council met, it"),
    ("kathmandu , nepal . it was cold .", dict(max_words=2), "kathmandu , nepal ."),
])
def test_cut_back_to_whole_words_and_sentences(text, bounds, expected):
    assert cut_back(text, **bounds)[0] == expected


def test_a_summary_without_a_complete_sentence_is_kept_with_a_note():
    text, note = cut_back("the council met and it voted", max_words=4, max_sentences=1)
    assert text == "the council met and" and "no complete sentence" in note


def test_word_bounds_become_tokens_from_the_documents_own_tokens_per_word():
    from summarizer.config import Bounds, GenerationSettings

    generation = GenerationSettings(max_length=200, min_length=30)
    measure = Measure(tokens=2000, words=1000, sentences=50)  # 2 tokens a word, 40 a sentence
    lengths = final_lengths(generation, Bounds(max_words=50), measure, reads=0)
    assert lengths.max_length == -(-(50 * 2 * MARGIN + 1) // STEP) * STEP == 152
    assert lengths.min_length == 30, "the model's own minimum stays where it fits"
    lengths = final_lengths(generation, Bounds(max_words=10, max_sentences=1), measure, reads=0)
    assert lengths.max_length == 32 and lengths.min_length == 30
    lengths = final_lengths(generation, Bounds(max_words=5), measure, reads=0)
    assert (lengths.max_length, lengths.min_length) == (16, 16), "the model's minimum gives way to the bound"
    lengths = final_lengths(generation, Bounds(ratio=0.1), measure, reads=0)
    assert lengths.max_length == 304 and lengths.min_length == 152  # 100 words; at least 75


def test_no_pass_writes_more_than_it_reads():
    from summarizer.config import GenerationSettings

    generation = GenerationSettings(max_length=200, min_length=30)
    assert capped(generation, 500) == generation
    assert (capped(generation, 45).max_length, capped(generation, 45).min_length) == (40, 30)
    assert (capped(generation, 20).max_length, capped(generation, 20).min_length) == (16, 16)
    assert capped(generation, 5).max_length == 5


def test_loops_are_found_and_sound_text_is_not(samples_dir):
    assert repeated("the the the the the the") == ("the", 6)
    assert repeated("a b a b a b a b") == ("a b", 4)
    report = (samples_dir / "long_report.txt").read_text(encoding="utf-8")
    assert all(repeated(report[start:end]) is None for start, end in sentence_spans(report))
    assert problems("", 10, 0) == ["the summary is empty"]
    assert problems("A short summary of it.", 3, 6) == ["the summary (6 tokens) is longer than its input (3 tokens)"]


# --- bounds through the doors -------------------------------------------------------------------


def test_max_words_and_max_sentences_bound_a_short_document(trained_model_dir, pairs):
    for text, first in pairs[:3]:
        record = summarize_json("-", "--model", trained_model_dir, *GREEDY, "--min-length", 0, "--max-sentences", 1,
                                input=text)
        assert record["summary"] == first, "one sentence: the first, whole"
        record = summarize_json("-", "--model", trained_model_dir, *GREEDY, "--min-length", 0, "--max-words", 4, input=text)
        assert count_words(record["summary"]) == 4 and first.startswith(record["summary"])


def test_bounds_hold_on_a_long_document_through_map_reduce(trained_model_dir, samples_dir):
    report = samples_dir / "long_report.txt"
    record = summarize_json(report, "--model", trained_model_dir, *GREEDY, "--max-words", 12)
    assert record["levels"] > 2 and 0 < count_words(record["summary"]) <= 12
    record = summarize_json(report, "--model", trained_model_dir, *GREEDY, "--max-sentences", 1)
    spans = sentence_spans(record["summary"])
    assert record["levels"] > 2 and len(spans) == 1
    assert record["summary"].rstrip().endswith((".", "!", "?")) or "no complete sentence" in record.get("warning", "")


def test_the_api_takes_the_same_bounds(trained_model_dir, pairs):
    from summarizer import Summarizer

    summarizer = Summarizer(str(trained_model_dir), num_beams=1, no_repeat_ngram_size=0, min_length=0)
    text, first = pairs[3]
    assert summarizer.summarize(text, max_words=3).summary == " ".join(first.split()[:3]).rstrip(",;:")
    assert summarizer.summarize(text, max_sentences=1).summary == first
    assert summarizer.settings.bounds.max_words is None, "per-call bounds leave the summarizer's alone"


def test_a_ratio_asks_for_a_share_of_the_input(trained_model_dir, samples_dir):
    text = (samples_dir / "long_report.txt").read_text(encoding="utf-8")
    record = summarize_json("-", "--model", trained_model_dir, *GREEDY, "--ratio", 0.01, input=text)
    assert 0 < count_words(record["summary"]) <= round(0.01 * count_words(text))


@pytest.mark.parametrize("flags, message", [
    (("--max-words", 20, "--max-length", 40), "--max-words and --max-length both set the summary's length"),
    (("--min-words", 5, "--min-length", 10), "--min-words and --min-length both set the summary's length"),
    (("--ratio", 0.2, "--max-words", 20), "--ratio and --max-words / --min-words"),
    (("--min-words", 30, "--max-words", 20), "--min-words (30) is larger than --max-words (20)"),
    (("--ratio", 1.5), "--ratio must be between 0 and 1"),
    (("--max-sentences", 0), "--max-sentences must be at least 1"),
])
def test_conflicting_lengths_are_refused_in_one_line(flags, message):
    result = invoke("-", *flags, input="Some text. More text.")
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_flags_words_replace_a_presets_tokens(trained_model_dir, tmp_path):
    preset = tmp_path / "brief.toml"
    preset.write_text("[generation]\nmax_length = 60\n", encoding="utf-8")
    result = invoke("settings", "--model", trained_model_dir, "--config", preset, "--max-words", 20, "--format", "json")
    settings = json.loads(result.stdout)["settings"]
    assert settings["max_words"] == {"value": 20, "from": "flag"}
    assert "replaced per document by --max-words" in settings["max_length"]["from"]


def test_settings_shows_how_a_bound_became_tokens_for_an_input(trained_model_dir, samples_dir):
    result = invoke("settings", samples_dir / "short.txt", "--model", trained_model_dir, "--max-words", 30)
    assert result.exit_code == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "for " in text and "tokens per word" in text and "30 words x" in text and f"margin {MARGIN:g}" in text
    described = json.loads(invoke("settings", samples_dir / "short.txt", "--model", trained_model_dir,
                                  "--max-words", 30, "--format", "json").stdout)["input"]
    assert described["max_words"] == 30 and described["max_length"] % STEP == 0
    assert described["max_length"] >= 30 * described["tokens_per_word"] * MARGIN


# --- inputs too short to summarize ----------------------------------------------------------------


@pytest.mark.parametrize("text", ["Hello", "The library opens on Sundays from next month."])
def test_a_word_or_a_sentence_comes_back_as_itself_without_a_model_call(trained_model_dir, text):
    from summarizer import Summarizer

    summarizer = Summarizer(str(trained_model_dir))
    calls = _count_generate_calls(summarizer)
    record = summarizer.summarize(text + "\n")
    assert record.summary == text and record.compression_ratio == 1.0 and record.levels == 0
    assert record.note.startswith("returned as is") and calls == [], "no model call"
    result = invoke("-", "--model", trained_model_dir, "--format", "json", input=text + "\n")
    record = json.loads(result.stdout)
    assert (record["summary"], record["compression_ratio"], record["note"]) == (text, 1.0, record["note"])
    assert "returned as is" in result.stderr


def test_an_input_within_the_asked_length_comes_back_as_itself(trained_model_dir, pairs):
    text, _ = pairs[0]
    record = summarize_json("-", "--model", trained_model_dir, "--max-sentences", 3, input=text)
    assert record["summary"] == text and "within --max-sentences 3" in record["note"]
    short = "The bridge is closed. It opens in May."  # fewer tokens than t5-small's own min_length, 30
    record = summarize_json("-", "--model", trained_model_dir, input=short)
    assert record["summary"] == short and "no more than the summary's minimum length (30)" in record["note"]


def _count_generate_calls(summarizer) -> list[int]:
    """Spy on the real backend: the rows of every generate() call."""
    backend, calls = summarizer.pipeline.backend, []
    generate = backend.generate

    def counted(rows, generation):
        calls.append(len(rows))
        return generate(rows, generation)

    backend.generate = counted
    return calls


# --- languages -------------------------------------------------------------------------------------


def test_german_french_and_english_are_detected_and_an_english_model_warns_once_per_language(trained_model_dir, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name, text in (("de1.txt", GERMAN), ("de2.txt", GERMAN.replace("Dienstag", "Mittwoch")), ("en.txt", ENGLISH),
                       ("fr.txt", FRENCH)):
        (folder / name).write_text(text, encoding="utf-8")
    result = invoke(folder, "--model", trained_model_dir, *GREEDY, "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    languages = {Path(r["source"]).name: r["language"] for r in map(json.loads, result.stdout.splitlines())}
    assert languages == {"de1.txt": "de", "de2.txt": "de", "en.txt": "en", "fr.txt": "fr"}
    warnings = [line for line in result.stderr.splitlines() if "summarizes English" in line]
    assert len(warnings) == 2 and "input is German (de)" in warnings[0] and "input is French (fr)" in warnings[1]
    assert all("mT5" in line and "mBART-50" in line for line in warnings)
    strict = invoke(folder, "--model", trained_model_dir, *GREEDY, "--strict", "-q")
    assert strict.exit_code == 1 and "--strict" in strict.stderr


def test_short_texts_are_detected_too():
    from summarizer.language import detect

    assert [detect(text).code for text in ("Wo ist der Bahnhof bitte?", "Où est la gare, s'il vous plaît ?",
                                           "Where is the station, please?")] == ["de", "fr", "en"]


def test_a_multilingual_model_does_not_warn(family_mt5_dir):
    result = invoke("-", "--model", family_mt5_dir, "--max-length", 8, "--min-length", 8, "--format", "json", input=GERMAN)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["language"] == "de" and "summarizes" not in result.stderr


def test_mbart_writes_in_the_inputs_language_unless_told(family_mbart_dir):
    from summarizer import Summarizer

    summarizer = Summarizer(str(family_mbart_dir), max_length=6, min_length=6, num_beams=1, backend="torch")
    seen: set[str] = set()
    generate = summarizer.pipeline.backend.generate
    summarizer.pipeline.backend.generate = lambda rows, g: seen.add(g.target_language) or generate(rows, g)
    summarizer.summarize(GERMAN)
    assert seen == {"de_DE"}
    seen.clear()
    summarizer.summarize(GERMAN, target_language="fr_XX")
    assert seen == {"fr_XX"}
    with pytest.raises(Exception, match="not a language code"):
        summarizer.summarize(GERMAN, target_language="xx_YY")


# --- degenerate summaries -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def looping_model_dir(tmp_path_factory) -> Path:
    """A tiny random BART with a +50 logit bias on one word, so greedy decoding writes that word
    over and over: the looping output a broken checkpoint gives."""
    import torch
    from transformers import AutoTokenizer, BartForConditionalGeneration

    from families import build_bart

    folder = build_bart(tmp_path_factory.mktemp("looping-bart"), shape={"init_std": 0.1})
    model = BartForConditionalGeneration.from_pretrained(folder)
    word = AutoTokenizer.from_pretrained(folder)(" bridge", add_special_tokens=False).input_ids[0]
    with torch.no_grad():
        model.final_logits_bias[0, word] += 50.0
    model.save_pretrained(folder)
    return folder


def test_a_looping_summary_is_warned_of_and_strict_fails_the_run(looping_model_dir, pairs):
    text, _ = pairs[1]
    result = invoke("-", "--model", looping_model_dir, "--max-length", 24, "--min-length", 24, *GREEDY, "--format", "json",
                    input=text)
    record = json.loads(result.stdout)
    assert result.exit_code == 0 and "the summary loops" in record["warning"] and "warning:" in result.stderr
    strict = invoke("-", "--model", looping_model_dir, "--max-length", 24, "--min-length", 24, *GREEDY, "--strict", input=text)
    assert strict.exit_code == 1 and strict.stdout.strip(), "the summary is still printed"


def test_the_trained_models_summary_has_no_warning(trained_model_dir, pairs):
    result = invoke("-", "--model", trained_model_dir, *GREEDY, "--min-length", 0, "--strict", "--format", "json",
                    input=pairs[2][0])
    assert result.exit_code == 0, result.stderr
    assert "warning" not in json.loads(result.stdout)
