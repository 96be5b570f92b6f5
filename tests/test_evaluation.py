"""`summarize eval`'s pure parts: pairs and predictions, ROUGE, aggregation, sweeps, tables.

The sample set in samples/eval has references with one sentence per line, each ending in a
period, so ROUGE-Lsum's sentences are the same whatever sentence splitter the project uses.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from rouge_score.rouge_scorer import RougeScorer

from summarizer.config import build_settings
from summarizer.evaluation.pairs import Pair, PairsError, check_counts, load_pairs, load_predictions
from summarizer.evaluation.report import eval_table, sweep_table
from summarizer.evaluation.rouge import ROUGE_KEYS, aggregate, bootstrap_ci, score
from summarizer.evaluation.sweep import SweepError, grid, parse_sweep

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "samples" / "eval"
PAIRS, PREDICTIONS, FOLDER = EVAL / "pairs.jsonl", EVAL / "predictions.txt", EVAL / "folder"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def doc_row(scores: dict[str, float], input_tokens: int = 100, summary_tokens: int = 20, seconds: float = 0.5) -> dict:
    return {**scores, "input_tokens": input_tokens, "summary_tokens": summary_tokens, "seconds": seconds}


# --- pairs and predictions ---------------------------------------------------------------


def test_jsonl_pairs_load_in_file_order():
    pairs = load_pairs(PAIRS)
    assert [p.id for p in pairs] == ["bridge", "flood", "library", "marathon", "factory", "telescope"]
    assert pairs[0].document.startswith("The town council voted on Tuesday")
    assert pairs[0].reference.split("\n")[1].startswith("The 4.2 million pound bridge")


def test_jsonl_ids_default_to_line_numbers_and_blank_lines_are_skipped(tmp_path):
    path = write(tmp_path / "p.jsonl", '{"document": "a.", "reference": "b."}\n\n{"document": "c.", "reference": "d.", "id": 7}\n'
                 '{"document": "e.", "reference": "f."}\n')
    assert load_pairs(path) == [Pair("1", "a.", "b."), Pair("7", "c.", "d."), Pair("4", "e.", "f.")]


def test_limit_takes_the_first_pairs():
    assert [p.id for p in load_pairs(PAIRS, limit=2)] == ["bridge", "flood"]
    assert len(load_pairs(PAIRS, limit=100)) == 6


def test_folder_pairs_match_the_jsonl_ones():
    folder = load_pairs(FOLDER)
    assert [p.id for p in folder] == ["bridge", "flood", "library"]  # sorted, .ref.txt files are not documents
    for from_folder, from_jsonl in zip(folder, load_pairs(PAIRS)):
        assert from_folder.document.strip() == from_jsonl.document
        assert from_folder.reference.strip() == from_jsonl.reference


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"document": "a.", "reference": "b."}\n{"document": "a.", \n', "line 2: not valid JSON"),
        ('{"document": "a."}\n', "line 1: missing key 'reference'"),
        ('{"document": "a.", "reference": ["b."]}\n', "line 1: 'reference' must be a string, not list"),
        ('{"document": "  ", "reference": "b."}\n', "line 1: 'document' is empty"),
        ('["a.", "b."]\n', "line 1: expected a JSON object"),
        ('{"id": "x", "document": "a.", "reference": "b."}\n{"id": "x", "document": "c.", "reference": "d."}\n',
         "line 2: id 'x' was used before"),
        ("\n\n", "no pairs (the file is empty)"),
    ],
)
def test_bad_jsonl_names_file_and_line(tmp_path, content, expected):
    path = write(tmp_path / "pairs.jsonl", content)
    with pytest.raises(PairsError) as err:
        load_pairs(path)
    message = str(err.value)
    assert message.startswith(str(path)) and expected in message and "\n" not in message


def test_folder_document_without_reference_is_named(tmp_path):
    write(tmp_path / "a.txt", "Doc a.")
    write(tmp_path / "a.ref.txt", "Ref a.")
    write(tmp_path / "b.txt", "Doc b.")
    with pytest.raises(PairsError, match=r"b\.txt: no reference summary \(b\.ref\.txt is missing\)"):
        load_pairs(tmp_path)


def test_folder_reference_without_document_is_named(tmp_path):
    write(tmp_path / "a.txt", "Doc a.")
    write(tmp_path / "a.ref.txt", "Ref a.")
    write(tmp_path / "c.ref.txt", "Ref c.")
    with pytest.raises(PairsError, match=r"c\.ref\.txt: reference without a document"):
        load_pairs(tmp_path)


def test_empty_folder_file_and_missing_path_are_errors(tmp_path):
    with pytest.raises(PairsError, match="no pairs"):
        load_pairs(tmp_path)
    write(tmp_path / "a.txt", "Doc a.")
    write(tmp_path / "a.ref.txt", "\n")
    with pytest.raises(PairsError, match=r"a\.ref\.txt: empty file"):
        load_pairs(tmp_path)
    with pytest.raises(PairsError, match="no such file or folder"):
        load_pairs(tmp_path / "missing.jsonl")


def test_predictions_one_per_line_with_n_as_newline():
    predictions = load_predictions(PREDICTIONS)
    assert len(predictions) == 6
    assert predictions[1] == (
        "Heavy rain caused the River Ouse to burst its banks on Sunday night, flooding homes.\n"
        "Emergency services evacuated residents by boat."
    )
    assert all("<n>" not in p for p in predictions)


def test_blank_prediction_lines_are_empty_summaries(tmp_path):
    assert load_predictions(write(tmp_path / "pred.txt", "one\n\nthree\r\n")) == ["one", "", "three"]


def test_counts_must_match():
    pairs = load_pairs(PAIRS)
    check_counts(pairs, load_predictions(PREDICTIONS))
    with pytest.raises(PairsError, match=r"^PRED has 5 lines but PAIRS has 6 pairs$"):
        check_counts(pairs, ["x"] * 5)
    with pytest.raises(PairsError, match=r"^preds\.txt has 1 line but pairs\.jsonl has 6 pairs$"):
        check_counts(pairs, ["x"], pairs_name="pairs.jsonl", predictions_name="preds.txt")


# --- ROUGE -----------------------------------------------------------------------------


def test_scores_match_rouge_score_on_the_sample_set():
    plain = RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    summary_level = RougeScorer(["rougeLsum"], use_stemmer=True)
    for pair, prediction in zip(load_pairs(PAIRS), load_predictions(PREDICTIONS)):
        # Sample predictions break sentences only at ". " (and <n>); references are one per line.
        prediction_lines = prediction.replace(". ", ".\n")
        expected = plain.score(pair.reference, prediction)
        expected.update(summary_level.score(pair.reference, prediction_lines))
        got = score(prediction, pair.reference)
        assert set(got) == set(ROUGE_KEYS)
        for key in ROUGE_KEYS:
            assert got[key] == pytest.approx(expected[key].fmeasure * 100, abs=0.01), (pair.id, key)


def test_rouge_lsum_reads_the_prediction_sentence_by_sentence():
    # Split, each sentence of the prediction matches its part of the reference; unsplit, the
    # longest common subsequence is only "to close the bridge".
    got = score("To close the bridge. The council voted.", "The council voted to close the bridge.")
    assert got["rougeLsum"] == pytest.approx(100.0)
    assert got["rougeL"] == pytest.approx(100 * 4 / 7)


def test_n_marks_in_predictions_are_sentence_breaks(tmp_path):
    [prediction] = load_predictions(write(tmp_path / "pred.txt", "to close the bridge <n> the council voted\n"))
    got = score(prediction, "The council voted to close the bridge.")
    assert got["rougeLsum"] == pytest.approx(100.0)


def test_scores_are_stemmed_f1_times_100():
    assert score("The councils voted", "The council votes.")["rouge1"] == pytest.approx(100.0)
    half = score("council voted", "council voted today, bridge closed.")
    assert half["rouge1"] == pytest.approx(100 * 2 * 1.0 * 0.4 / 1.4)  # precision 1, recall 2/5
    assert score("", "The council voted.") == {key: 0.0 for key in ROUGE_KEYS}


def test_bootstrap_is_seeded_and_brackets_the_mean():
    values = [score(pred, pair.reference)["rouge1"] for pair, pred in zip(load_pairs(PAIRS), load_predictions(PREDICTIONS))]
    mean, low, high = bootstrap_ci(values, seed=3)
    assert mean == pytest.approx(sum(values) / len(values))
    assert low < mean < high
    assert bootstrap_ci(values, seed=3) == (mean, low, high)
    assert bootstrap_ci(values, seed=4) != (mean, low, high)
    narrow = bootstrap_ci(values, seed=3, level=0.5)
    assert low < narrow[1] < mean < narrow[2] < high


def test_bootstrap_edge_cases():
    assert bootstrap_ci([42.0]) == (42.0, 42.0, 42.0)
    assert bootstrap_ci([7.0] * 5) == (7.0, 7.0, 7.0)
    with pytest.raises(ValueError, match="no values"):
        bootstrap_ci([])


def test_aggregate_has_exactly_the_spec_keys_rounded():
    rows = [doc_row(score(pred, pair.reference), input_tokens=60 + i, summary_tokens=10 + i, seconds=0.25 * i)
            for i, (pair, pred) in enumerate(zip(load_pairs(PAIRS), load_predictions(PREDICTIONS)))]
    result = aggregate(rows)
    assert set(result) == {*ROUGE_KEYS, "documents", "input_tokens", "summary_tokens", "compression_ratio",
                           "seconds_per_document"}
    for key in ROUGE_KEYS:
        assert set(result[key]) == {"mean", "ci_low", "ci_high"}
        assert result[key]["mean"] == round(sum(r[key] for r in rows) / 6, 2)
        assert result[key]["ci_low"] < result[key]["mean"] < result[key]["ci_high"]
        assert all(round(v, 2) == v for v in result[key].values())
    assert result["documents"] == 6
    assert result["input_tokens"] == 62.5 and result["summary_tokens"] == 12.5
    assert result["seconds_per_document"] == 0.625
    assert result["compression_ratio"] == round(sum((60 + i) / (10 + i) for i in range(6)) / 6, 2)
    json.dumps(result)  # it is the eval JSON


def test_compression_ratio_skips_empty_summaries():
    zeros = {key: 0.0 for key in ROUGE_KEYS}
    rows = [doc_row(zeros, 100, 20), doc_row(zeros, 100, 0), doc_row(zeros, 90, 10)]
    assert aggregate(rows)["compression_ratio"] == 7.0  # (5 + 9) / 2
    assert aggregate([doc_row(zeros, 100, 0)])["compression_ratio"] is None


# --- sweeps ----------------------------------------------------------------------------


def test_parse_sweep_types_values_by_setting():
    assert parse_sweep(["temperature=0,0.7,1.2", "max-length=30,60,120"]) == [
        ("temperature", [0.0, 0.7, 1.2]), ("max_length", [30, 60, 120])]
    axes = dict(parse_sweep(["chunk-size=none,256", "whole-sentences=true,no", "strategy=map, truncate",
                             "quantize=none,int8", "early-stopping=false,true", "prefix=,summarize: "]))
    assert axes == {"chunk_size": [None, 256], "whole_sentences": [True, False], "strategy": ["map", "truncate"],
                    "quantize": [None, "int8"], "early_stopping": [False, True], "prefix": ["", "summarize: "]}
    assert type(axes["chunk_size"][1]) is int


@pytest.mark.parametrize(
    ("specs", "expected"),
    [
        (["colour=1,2"], "--sweep colour: unknown setting"),
        (["model=a,b"], "--sweep model: cannot be swept: one model is loaded once"),
        (["batch-size=1,8"], "--sweep batch-size: cannot be swept"),
        (["max-length=30,sixty"], "--sweep max-length: 'sixty' is not a whole number"),
        (["temperature=0,hot"], "--sweep temperature: 'hot' is not a number"),
        (["whole-sentences=maybe"], "--sweep whole-sentences: 'maybe' is not true or false"),
        (["top-p=0.5,nan"], "--sweep top-p: 'nan' is not a finite number"),
        (["temperature="], "--sweep temperature: no values"),
        (["temperature=0,,1"], "--sweep temperature: empty value"),
        (["temperature=0", "temperature=1"], "--sweep temperature: given twice"),
        (["max-length=30,30"], "--sweep max-length: '30' is listed more than once"),
        (["temperature"], "expected NAME=VALUE,VALUE"),
    ],
)
def test_bad_sweeps_name_the_flag(specs, expected):
    with pytest.raises(SweepError) as err:
        parse_sweep(specs)
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_grid_varies_the_first_axis_slowest():
    rows = grid(parse_sweep(["temperature=0,0.7", "max-length=30,60,120"]))
    assert rows == [{"temperature": t, "max_length": m} for t in (0.0, 0.7) for m in (30, 60, 120)]


def test_grid_points_are_settings_the_config_understands():
    axes = parse_sweep(["temperature=0,0.9", "chunk-max-length=40", "strategy=map,truncate", "whole-sentences=true",
                        "num-beams=2"])
    for point in grid(axes):
        settings = build_settings(point)
        assert settings.generation.temperature == point["temperature"]
        assert settings.chunking.max_length == 40 and settings.strategy == point["strategy"]
        assert settings.whole_sentences is True and settings.generation.num_beams == 2


# --- tables ----------------------------------------------------------------------------


def sample_result(**changes) -> dict:
    result = {
        "rouge1": {"mean": 41.37, "ci_low": 38.02, "ci_high": 44.91},
        "rouge2": {"mean": 18.64, "ci_low": 15.5, "ci_high": 21.93},
        "rougeL": {"mean": 29.18, "ci_low": 26.4, "ci_high": 32.07},
        "rougeLsum": {"mean": 38.25, "ci_low": 35.01, "ci_high": 41.66},
        "documents": 100, "input_tokens": 781.4, "summary_tokens": 56.2, "compression_ratio": 14.87,
        "seconds_per_document": 1.234,
    }
    return {**result, **changes}


def render(table) -> list[str]:
    console = Console(width=80, record=True, file=io.StringIO())
    console.print(table)
    return console.export_text().splitlines()


def test_eval_table_fits_80_columns_with_means_and_intervals():
    lines = render(eval_table(sample_result()))
    assert max(map(len, lines)) <= 80
    text = "\n".join(lines)
    for expected in ("ROUGE-1", "41.37", "38.02 - 44.91", "ROUGE-Lsum", "38.25", "35.01 - 41.66", "100 documents",
                     "14.9x", "1.23 s/document"):
        assert expected in text


def test_sweep_table_fits_80_columns_one_row_per_grid_point():
    axes = parse_sweep(["temperature=0,0.7,1.2", "no-repeat-ngram-size=0,3"])
    rows = [{**point, **sample_result(rouge1={"mean": 40 + i, "ci_low": 0, "ci_high": 0}, compression_ratio=None)}
            for i, point in enumerate(grid(axes))]
    lines = render(sweep_table(rows, axes))
    assert max(map(len, lines)) <= 80
    data = [line.split() for line in lines if line.split() and line.split()[0] in ("0.0", "0.7", "1.2")]
    assert len(data) == 6
    assert data[3] == ["0.7", "3", "43.00", "18.64", "29.18", "38.25", "56.2", "n/a", "1.23"]


def test_importing_evaluation_stays_light():
    code = ("import sys, summarizer.evaluation.pairs, summarizer.evaluation.rouge, summarizer.evaluation.sweep, "
            "summarizer.evaluation.plot, summarizer.evaluation.report; "
            "print(sorted(m for m in ('numpy', 'matplotlib', 'rouge_score', 'nltk', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
