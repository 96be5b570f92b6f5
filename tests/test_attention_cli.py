"""The from-scratch attention as a user reaches it: --attention, compare-attention, attention-map."""

from __future__ import annotations

import json

import pytest

from helpers import invoke, summarize_json
from test_attention import one_thread  # noqa: F401 -- autouse: tiny models, a busy 2-core machine


@pytest.fixture(scope="module")
def model(tiny_model_dir) -> str:
    return str(tiny_model_dir)


@pytest.mark.parametrize("beams", [1, 4])
def test_scratch_attention_gives_the_same_summaries(model, samples_dir, beams):
    args = (samples_dir / "short.txt", samples_dir / "notes", "--model", model, "--num-beams", beams, "--batch-size", 3)
    hf = summarize_json(*args, "--attention", "hf")
    scratch = summarize_json(*args, "--attention", "scratch")
    assert [r["summary"] for r in scratch] == [r["summary"] for r in hf]
    assert all(r["summary_tokens"] > 0 for r in hf)


def test_attention_from_a_toml_preset(model, samples_dir, tmp_path):
    preset = tmp_path / "scratch.toml"
    preset.write_text('attention = "scratch"\n', encoding="utf-8")
    via_toml = summarize_json(samples_dir / "short.txt", "--model", model, "--config", preset)
    assert via_toml["summary"] == summarize_json(samples_dir / "short.txt", "--model", model)["summary"]


def test_compare_attention_json(model):
    result = invoke("compare-attention", "--model", model, "--tokens", 48, "--batch", 2, "--new-tokens", 6, "--repeats", 1, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["tokens_identical"] is True
    assert set(data["max_abs_diff"]) == {"encoder_self", "decoder_self", "cross"}
    assert max(data["max_abs_diff"].values()) < 1e-5
    for impl in ("hf", "scratch", "sdpa"):
        assert data["implementations"][impl]["seconds"] > 0
        assert "peak_mb" in data["implementations"][impl]


def test_compare_attention_table(model):
    result = invoke("compare-attention", "--model", model, "--tokens", 32, "--new-tokens", 4, "--repeats", 1)
    assert result.exit_code == 0, result.stderr
    assert "scratch" in result.stdout and "sdpa" in result.stdout


def test_compare_attention_unloadable_model_is_one_line(tmp_path):
    result = invoke("compare-attention", "--model", tmp_path / "missing")
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "cannot load model" in result.stderr


def test_attention_map_png(model, samples_dir, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "map.png"
    result = invoke("attention-map", samples_dir / "short.txt", "--model", model, "--out", out, "--max-length", 6)
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.stdout == ""


def test_attention_map_in_the_terminal(model, samples_dir):
    result = invoke("attention-map", samples_dir / "short.txt", "--model", model, "--head", 0, "--layer", 0, "--max-length", 5)
    assert result.exit_code == 0, result.stderr
    assert "layer 0" in result.stdout and "head 0" in result.stdout


@pytest.mark.parametrize(("flag", "value"), [("--layer", 9), ("--head", 40)])
def test_attention_map_refuses_out_of_range(model, samples_dir, flag, value):
    result = invoke("attention-map", samples_dir / "short.txt", "--model", model, flag, value)
    assert result.exit_code == 2
    assert flag.lstrip("-") in result.stderr


def test_attention_map_missing_file(model, tmp_path):
    result = invoke("attention-map", tmp_path / "nope.txt", "--model", model)
    assert result.exit_code == 1 and "no such file" in result.stderr


# ---------------------------------------------------------------- beyond T5


@pytest.fixture(scope="module")
def family_dirs(bart_model_dir, pegasus_model_dir, led_model_dir, long_t5_model_dir) -> dict[str, str]:
    return {"bart": str(bart_model_dir), "pegasus": str(pegasus_model_dir), "led": str(led_model_dir),
            "longt5": str(long_t5_model_dir)}  # fmt: skip


@pytest.mark.parametrize("family", ["bart", "pegasus"])
def test_scratch_attention_gives_the_same_summary_on_the_bart_family(family_dirs, samples_dir, family):
    args = (samples_dir / "short.txt", "--model", family_dirs[family], "--strategy", "truncate", "--num-beams", 4,
            "--max-length", 12, "--min-length", 12, "--chunk-max-length", 12, "--no-repeat-ngram-size", 1)  # fmt: skip
    hf = summarize_json(*args, "--attention", "hf")
    scratch = summarize_json(*args, "--attention", "scratch")
    assert scratch["summary"] == hf["summary"]
    assert len(set(hf["summary"].split())) > 2, hf["summary"]  # several distinct words: not a collapsed model


@pytest.mark.parametrize("family", ["bart", "pegasus"])
def test_compare_attention_json_on_the_bart_family(family_dirs, family):
    result = invoke("compare-attention", "--model", family_dirs[family], "--tokens", 64, "--new-tokens", 8, "--repeats", 1, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["tokens_identical"] is True
    assert set(data["max_abs_diff"]) == {"encoder_self", "decoder_self", "cross"}
    assert max(data["max_abs_diff"].values()) < 1e-5


@pytest.mark.parametrize(("family", "reason"), [
    ("led", "LED's encoder attention is windowed (Longformer), not full attention"),
    ("longt5", "LongT5's encoder attention is local and transient-global, not full attention"),
])  # fmt: skip
def test_scratch_attention_refused_in_one_line(family_dirs, samples_dir, family, reason):
    result = invoke(samples_dir / "short.txt", "--model", family_dirs[family], "--attention", "scratch")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"summarize: error: --attention scratch: {reason}; use --attention hf"]
    assert result.stdout == ""


def test_attention_map_of_bart_in_the_terminal(family_dirs, samples_dir):
    result = invoke("attention-map", samples_dir / "short.txt", "--model", family_dirs["bart"], "--layer", 0, "--head", 2, "--max-length", 5)
    assert result.exit_code == 0, result.stderr
    assert "cross-attention, decoder layer 0 (0-based), head 2" in result.stdout
    assert "████" in result.stdout  # each summary token's strongest source token gets a full bar


def test_attention_map_of_bart_as_png(family_dirs, samples_dir, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "map.png"
    result = invoke("attention-map", samples_dir / "short.txt", "--model", family_dirs["bart"], "--out", out, "--max-length", 5)
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result.stdout == ""


@pytest.mark.parametrize("family", ["led", "longt5"])
def test_attention_map_works_where_scratch_attention_does_not(family_dirs, samples_dir, family):
    result = invoke("attention-map", samples_dir / "short.txt", "--model", family_dirs[family], "--max-length", 4)
    assert result.exit_code == 0, result.stderr
    assert "cross-attention, decoder layer 1 (0-based), mean over heads" in result.stdout
    assert "████" in result.stdout
