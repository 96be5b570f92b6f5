"""End to end through the CLI on the tiny T5, loaded only via --model DIR (no mocks)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import invoke, summarize_json

KEYS = {"source", "summary", "input_tokens", "summary_tokens", "compression_ratio", "chunks", "model", "device", "seconds"}


@pytest.fixture(scope="module")
def model(tiny_model_dir) -> str:
    return str(tiny_model_dir)


@pytest.fixture()
def docs(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("The bridge reopened on Monday. Riders were pleased with the new ramp.\n", encoding="utf-8")
    (root / "sub" / "b.md").write_text("# Seeds\n\nThe library lends seeds to gardeners every spring.\n", encoding="utf-8")
    (root / "skip.csv").write_text("not,matched\n", encoding="utf-8")
    (root / ".hidden.txt").write_text("secret notes\n", encoding="utf-8")
    (root / "blob.txt").write_bytes(b"\x00\x01\x02binary")
    return root


def test_file_prints_summary_on_stdout_and_report_on_stderr(model, samples_dir):
    result = invoke(samples_dir / "short.txt", "--model", model)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip(), "a summary on stdout"
    assert "summarize report" not in result.stdout
    assert "summarize report, in tokens" in result.stderr


def test_quiet_hides_the_report(model, samples_dir):
    result = invoke(samples_dir / "short.txt", "--model", model, "--quiet")
    assert result.exit_code == 0
    assert result.stderr == ""


@pytest.mark.parametrize("args", [[], ["-"]], ids=["piped", "dash"])
def test_stdin_is_read(model, samples_dir, args):
    text = (samples_dir / "short.txt").read_text(encoding="utf-8")
    from_stdin = summarize_json(*args, "--model", model, input=text)
    from_file = summarize_json(samples_dir / "short.txt", "--model", model)
    assert from_stdin["source"] == "-"
    assert from_stdin["summary"] == from_file["summary"]
    assert from_stdin["input_tokens"] == from_file["input_tokens"]


def test_json_keys_and_compression_arithmetic(model, samples_dir):
    data = summarize_json(samples_dir / "article.md", "--model", model)
    assert KEYS <= set(data)
    assert data["model"] == model and data["device"] == "cpu"
    assert data["summary_tokens"] > 0, "the tiny model's defaults (no-repeat n-grams) give words"
    assert data["compression_ratio"] == pytest.approx(data["input_tokens"] / data["summary_tokens"], abs=1e-3)
    assert data["chunks"] >= 2, "article.md is longer than the tiny model's 128-token window"


def test_empty_summary_does_not_break_the_ratio(model, samples_dir):
    # Greedy search on a random-weight T5 emits only <pad>: the summary decodes to "".
    data = summarize_json(samples_dir / "short.txt", "--model", model, "--no-repeat-ngram-size", 0, "--min-length", 0, "--prefix", "")
    assert data["summary_tokens"] == 0 and data["summary"] == ""
    assert data["compression_ratio"] is None


def test_folder_is_walked_and_skips_are_noted(model, docs):
    result = invoke(docs, "--model", model, "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(Path(r["source"]).relative_to(docs).as_posix() for r in rows) == ["a.txt", "sub/b.md"]
    assert ".hidden.txt" in result.stderr and "hidden" in result.stderr
    assert "blob.txt" in result.stderr and "binary" in result.stderr
    assert "skip.csv" not in result.stderr + result.stdout


def test_glob_changes_what_a_folder_yields(model, docs):
    rows = summarize_json(docs, "--model", model, "--glob", "*.csv")
    assert Path(rows["source"]).name == "skip.csv"


def test_several_paths_give_a_json_list_in_input_order(model, docs, samples_dir):
    rows = summarize_json(samples_dir / "short.txt", docs / "a.txt", samples_dir / "notes", "--model", model)
    assert [Path(r["source"]).name for r in rows] == ["short.txt", "a.txt", "meeting.txt"]
    assert all(KEYS <= set(r) for r in rows)


def test_text_output_of_several_inputs_has_headers(model, docs):
    result = invoke(docs / "a.txt", docs / "sub" / "b.md", "--model", model, "--quiet")
    assert result.exit_code == 0
    assert f"==> {docs / 'a.txt'} <==" in result.stdout
    assert f"==> {docs / 'sub' / 'b.md'} <==" in result.stdout


def test_markdown_format(model, docs):
    result = invoke(docs / "a.txt", "--model", model, "--format", "markdown", "--quiet")
    assert result.stdout.startswith(f"## {docs / 'a.txt'}\n\n")


def test_output_dir_mirrors_relative_paths(model, docs, tmp_path):
    out = tmp_path / "out"
    result = invoke(docs, "--model", model, "--output-dir", out, "--quiet")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == [".summarize-manifest.jsonl", "a.txt", "sub/b.md"], "one file per input and the manifest, no temp files left"
    single = summarize_json(docs / "a.txt", "--model", model)
    assert (out / "a.txt").read_text(encoding="utf-8").strip() == single["summary"]


def test_output_dir_inside_the_input_folder_is_not_summarized_again(model, docs):
    out = docs / "summaries"
    for _ in range(2):
        result = invoke(docs, "--model", model, "--output-dir", out, "--quiet")
        assert result.exit_code == 0, result.stderr
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert written == [".summarize-manifest.jsonl", "a.txt", "sub/b.md"]


def test_output_dir_json_files(model, docs, tmp_path):
    out = tmp_path / "out"
    assert invoke(docs / "a.txt", "--model", model, "-o", out, "-f", "jsonl").exit_code == 0
    assert KEYS <= set(json.loads((out / "a.txt.json").read_text(encoding="utf-8")))


def test_output_dir_never_overwrites_an_input(model, docs):
    before = (docs / "a.txt").read_bytes()
    result = invoke(docs, "--model", model, "--output-dir", docs)
    assert result.exit_code == 2
    assert "overwrite an input" in result.stderr
    assert (docs / "a.txt").read_bytes() == before


def test_missing_file_fails_but_others_are_done(model, docs):
    result = invoke(docs / "a.txt", docs / "nope.txt", "--model", model, "--format", "jsonl")
    assert result.exit_code == 1
    assert "nope.txt: no such file" in result.stderr
    assert [Path(json.loads(l)["source"]).name for l in result.stdout.splitlines()] == ["a.txt"]


def test_empty_file_is_an_error(model, tmp_path, docs):
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n", encoding="utf-8")
    result = invoke(empty, docs / "a.txt", "--model", model, "--quiet")
    assert result.exit_code == 1
    assert "empty input" in result.stderr
    assert result.stdout.strip()


def test_named_binary_file_is_an_error(model, docs):
    result = invoke(docs / "blob.txt", "--model", model)
    assert result.exit_code == 1
    assert "binary" in result.stderr


def test_long_document_is_reduced_hierarchically(model, samples_dir):
    data = summarize_json(samples_dir / "long_report.txt", "--model", model)
    assert data["chunks"] > 8
    assert data["levels"] >= 2, "joined chunk summaries exceed the window, so they are summarized again"
    assert 0 < data["summary_tokens"] <= 127


def test_batched_equals_one_at_a_time(model, samples_dir):
    args = (samples_dir / "short.txt", samples_dir / "article.md", samples_dir / "notes", "--model", model)
    one = summarize_json(*args, "--batch-size", 1)
    many = summarize_json(*args, "--batch-size", 8)
    assert [r["summary"] for r in one] == [r["summary"] for r in many]


def test_beam_search_runs(model, samples_dir):
    data = summarize_json(samples_dir / "short.txt", "--model", model, "--num-beams", 3, "--length-penalty", 1.5)
    assert data["summary_tokens"] > 0


def test_same_seed_same_sample(model, samples_dir):
    args = (samples_dir / "short.txt", "--model", model, "--temperature", 1.5, "--top-k", 0, "--no-repeat-ngram-size", 0)
    first = summarize_json(*args, "--seed", 7)["summary"]
    assert summarize_json(*args, "--seed", 7)["summary"] == first
    others = {summarize_json(*args, "--seed", seed)["summary"] for seed in (1, 2, 3)}
    assert others - {first}, "different seeds give different samples"


def test_max_length_bounds_each_chunk_summary_with_map(model, samples_dir):
    data = summarize_json(samples_dir / "notes" / "meeting.txt", "--model", model, "--max-length", 3, "--min-length", 3, "--strategy", "map")
    assert 0 < data["summary_tokens"] <= 3 * data["chunks"] + data["chunks"]


def test_chunk_overlap_adds_chunks(model, samples_dir):
    plain = summarize_json(samples_dir / "article.md", "--model", model)
    overlapped = summarize_json(samples_dir / "article.md", "--model", model, "--chunk-overlap", 40)
    assert overlapped["chunks"] > plain["chunks"]


def test_model_defaults_then_toml_then_flags(model, samples_dir, tmp_path):
    """Defaults < model's task_specific_params < TOML < flags, seen through max_length."""
    text = samples_dir / "notes" / "meeting.txt"
    model = (model, "--strategy", "map")  # one summary per chunk, each bounded by the lengths
    by_model = summarize_json(text, "--model", *model, "--min-length", 16)  # model: max 16
    preset = tmp_path / "p.toml"
    preset.write_text("[generation]\nmax_length = 2\nmin_length = 2\n", encoding="utf-8")
    by_toml = summarize_json(text, "--model", *model, "--config", preset)
    by_flag = summarize_json(text, "--model", *model, "--config", preset, "--max-length", 5, "--min-length", 5)
    per_chunk = lambda d: d["summary_tokens"] / d["chunks"]  # noqa: E731
    assert per_chunk(by_toml) <= 2.5
    assert 3 < per_chunk(by_flag) <= 6
    assert per_chunk(by_model) > 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--min-length", "9", "--max-length", "3"], "--min-length (9) is larger than --max-length (3)"),
        (["--temperature", "-1"], "--temperature cannot be negative"),
        (["--num-beams", "0"], "--num-beams must be at least 1"),
        (["--top-p", "1.5"], "--top-p must be in (0, 1]"),
        (["--chunk-size", "64", "--chunk-overlap", "40"], "--chunk-overlap (40) must be less than half"),
    ],
)
def test_impossible_settings_are_refused_before_loading(tmp_path, docs, args, message):
    broken = tmp_path / "not-a-model"
    broken.mkdir()
    result = invoke(docs / "a.txt", "--model", broken, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "cannot load model" not in result.stderr, "refused before the model loads"


def test_bad_toml_is_a_usage_error(docs, tmp_path):
    preset = tmp_path / "bad.toml"
    preset.write_text("[generation]\nmax_lenght = 3\n", encoding="utf-8")
    result = invoke(docs / "a.txt", "--config", preset)
    assert result.exit_code == 2
    assert "max_lenght" in result.stderr


def test_broken_model_dir_is_one_clear_line(tmp_path, docs):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json", encoding="utf-8")
    result = invoke(docs / "a.txt", "--model", broken)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot load model" in lines[0] and "--model DIR" in lines[0]
    assert "Traceback" not in result.stderr


def test_unknown_hub_id_offline_says_what_to_do(docs, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = invoke(docs / "a.txt", "--model", "no-such-org/no-such-t5")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "no-such-org/no-such-t5" in lines[0]
    assert "connect" in lines[0] and "--model DIR" in lines[0]


def test_unreachable_hub_fails_fast_with_advice(docs, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on the discard port
    result = invoke(docs / "a.txt", "--model", "no-such-org/no-such-t5")
    assert result.exit_code == 1
    assert "hub is unreachable" in result.stderr and "--model DIR" in result.stderr


def test_missing_cuda_is_a_usage_error(model, docs, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    result = invoke(docs / "a.txt", "--model", model, "--device", "cuda")
    assert result.exit_code == 2
    assert "no CUDA GPU" in result.stderr




def test_help_and_version():
    result = invoke("--help")
    assert result.exit_code == 0 and "--max-length" in result.stdout
    version = invoke("--version")
    assert version.exit_code == 0 and version.stdout.startswith("summarize ")


def test_a_chunk_that_cannot_be_generated_fails_only_its_document(tiny_model_dir, tmp_path):
    """A checkpoint whose embedding is smaller than its tokenizer's vocabulary (a real, broken
    model, not a mock): documents using the missing ids fail, the batch's others are done."""
    import shutil

    import torch
    from transformers import AutoTokenizer, T5ForConditionalGeneration

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("the the. the the.", encoding="utf-8")  # two sentences: one would be returned as is
    good_ids = tokenizer("summarize: the the. the the.").input_ids
    vocab = max(good_ids) + 1
    rare = next(i for i in range(len(tokenizer) - 1, vocab, -1) if tokenizer.decode([i]).strip().isalpha())
    bad.write_text("the. the " + tokenizer.decode([rare]), encoding="utf-8")
    assert max(tokenizer("summarize: " + bad.read_text(encoding="utf-8")).input_ids) >= vocab

    broken = tmp_path / "small-vocab"
    shutil.copytree(tiny_model_dir, broken)
    model = T5ForConditionalGeneration.from_pretrained(tiny_model_dir)
    model.resize_token_embeddings(vocab)
    torch.manual_seed(0)
    model.save_pretrained(broken)

    result = invoke(good, bad, "--model", broken, "--batch-size", 4, "--format", "jsonl", "--max-length", 3, "--min-length", 1)
    assert result.exit_code == 1
    assert f"{bad}: generation failed" in result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert {Path(r["source"]).name: "error" in r for r in rows} == {"good.txt": False, "bad.txt": True}
