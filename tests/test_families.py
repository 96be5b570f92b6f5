"""Every family of summarization model, as a user meets it (issue 14): it loads and summarizes
through `--model DIR`, its input window, its own defaults from wherever its checkpoint keeps
them, refusals of what is not a summarizer, its special tokens, which backend `auto` picks for
it (issue 16), and eval, sweeps, strategies and resume on families other than T5.

The checkpoints are tiny and random (tests/families.py), so outputs are degenerate: lengths that
matter are forced (min = max), and no test compares two degenerate outputs for equality except
where the same model, input and settings must give the same ids.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from families import PEGASUS_TASKS, edit_config
from helpers import invoke, one_torch_thread
from summarizer.config import GenerationSettings, build_settings
from summarizer.models.defaults import CONFIG, GENERATION_CONFIG, TASK_PARAMS, model_defaults, task_params

TEXT = "The town council voted on Tuesday to replace the Mill Street bridge. The new bridge will cost 4.2 million pounds."
# One window of the tiny models (128 tokens), yet long enough (some 90 tokens) that a model's own
# lengths (pegasus-xsum's max 64, bart-large-cnn's min 56) are not capped at the input's length.
LONGER_TEXT = TEXT + " Engineers found cracks in two of its three arches last winter, and lorries have been kept off it."
FORCED = ("--max-length", 8, "--min-length", 8)

# family -> (fixture, config.json model_type, what --backend auto runs)
FAMILIES = {
    "t5": ("tiny_model_dir", "t5", "ctranslate2"),
    "flan-t5": ("family_flan_t5_dir", "t5", "ctranslate2"),
    "mt5": ("family_mt5_dir", "mt5", "ctranslate2"),
    "umt5": ("family_umt5_dir", "umt5", "ctranslate2"),
    "longt5": ("long_t5_model_dir", "longt5", "torch"),
    "bart": ("bart_model_dir", "bart", "ctranslate2"),
    "mbart": ("family_mbart_dir", "mbart", "ctranslate2"),
    "pegasus": ("pegasus_model_dir", "pegasus", "torch"),
    "led": ("led_model_dir", "led", "torch"),
    "pegasus_x": ("family_pegasus_x_dir", "pegasus_x", "torch"),
}
# why auto takes torch, in the note it prints
TORCH_REASONS = {
    "longt5": "ctranslate2 cannot run LongT5 models",
    "led": "ctranslate2 cannot run LED models",
    "pegasus": "early_stopping off",
    "pegasus_x": "ctranslate2 cannot run Pegasus-X models",
}


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    with one_torch_thread():
        yield


def _dir(request, family: str) -> Path:
    return request.getfixturevalue(FAMILIES[family][0])


def _record(*args, input: str | None = TEXT):
    """`summarize - ARGS --format json` on TEXT: (result, the record or None)."""
    result = invoke("-", *args, "--format", "json", input=input)
    return result, json.loads(result.stdout) if result.exit_code == 0 else None


def _settings(model: Path | str, *flags) -> dict:
    result = invoke("settings", "--model", model, *flags, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def _copy(folder: Path, to: Path) -> Path:
    shutil.copytree(folder, to)
    return to


def _long_text(tokens: int = 950) -> str:
    """samples/long_report.txt cut at a word boundary to about `tokens` tokens of the tiny
    tokenizers (BPE and unigram count it within a few percent of each other)."""
    from tiny_t5 import SAMPLES

    words = (SAMPLES / "long_report.txt").read_text(encoding="utf-8").split()
    return " ".join(words[: tokens * 5 // 12])  # ~2.4 tokens a word here


# --- 1. every family loads and summarizes through the CLI -------------------------------------


@pytest.mark.parametrize("family", list(FAMILIES))
def test_every_family_summarizes_through_the_cli(request, family):
    folder = _dir(request, family)
    _, model_type, backend = FAMILIES[family]
    result, record = _record("--model", folder, *FORCED)
    assert result.exit_code == 0, result.stderr
    assert record["model_type"] == model_type
    assert record["backend"] == backend
    assert record["summary"].strip() and record["summary_tokens"] > 0
    assert record["chunks"] == 1 and record["input_tokens"] > 20
    if backend == "ctranslate2":  # torch runs it too, and the record says so
        result, record = _record("--model", folder, *FORCED, "--backend", "torch")
        assert result.exit_code == 0, result.stderr
        assert (record["model_type"], record["backend"]) == (model_type, "torch")


# --- 2. input windows -------------------------------------------------------------------------


def test_window_is_the_tokenizers_else_the_configs_position_limit(bart_model_dir, tmp_path):
    assert _settings(bart_model_dir)["window"] == 128  # tokenizer_config.json's model_max_length
    folder = edit_config(_copy(bart_model_dir, tmp_path / "bart-no-max-length"),
                         lambda data: data.pop("model_max_length"), "tokenizer_config.json")
    assert _settings(folder)["window"] == 1024  # config.json's max_position_embeddings


def test_window_never_exceeds_the_configs_position_limit(bart_model_dir, tmp_path):
    folder = edit_config(_copy(bart_model_dir, tmp_path / "bart-4096"),
                         lambda data: data.update(model_max_length=4096), "tokenizer_config.json")
    assert _settings(folder)["window"] == 1024


@pytest.mark.parametrize("family, chunks", [("led", 1), ("longt5", 1), ("bart", 8)])
def test_long_input_fits_the_long_families_window(request, family, chunks):
    """~950 tokens: one pass for LED and LongT5 (window 1024), several for BART (window 128)."""
    extra = ("--chunk-max-length", 8, "--chunk-min-length", 8) if family == "bart" else ("--num-beams", 1)
    result, record = _record("--model", _dir(request, family), *FORCED, *extra, "-q", input=_long_text())
    assert result.exit_code == 0, result.stderr
    assert 900 < record["input_tokens"] < 1020
    if chunks == 1:
        assert (record["chunks"], record["levels"]) == (1, 1)
    else:
        assert record["chunks"] >= chunks  # 950 tokens / 127 a chunk


# --- 3. the model's own defaults --------------------------------------------------------------


OWN_DEFAULTS = {
    "bart": {"min_length": 56, "max_length": 142, "num_beams": 4, "early_stopping": True, "length_penalty": 2.0,
             "no_repeat_ngram_size": 3},
    "pegasus": {"num_beams": 8, "max_length": 64, "length_penalty": 0.6},
    "led": {"min_length": 100, "max_length": 512, "num_beams": 4},
    "longt5": {"repetition_penalty": 3.5, "num_beams": 2, "max_length": 512},
}


@pytest.mark.parametrize("family", list(OWN_DEFAULTS))
def test_settings_show_the_checkpoints_generation_config(request, family):
    described = _settings(_dir(request, family))
    for name, value in OWN_DEFAULTS[family].items():
        assert described["settings"][name] == {"value": value, "from": GENERATION_CONFIG}, name
    assert described["settings"]["prefix"] == {"value": "", "from": "built-in"}
    expected_not_applied = {"encoder_no_repeat_ngram_size": GENERATION_CONFIG} if family == "longt5" else {}
    assert described["not_applied"] == expected_not_applied


def test_t5_prefix_comes_from_task_specific_params(t5_defaults_model_dir):
    settings = _settings(t5_defaults_model_dir)["settings"]
    assert settings["prefix"] == {"value": "summarize: ", "from": TASK_PARAMS}
    assert settings["min_length"] == {"value": 30, "from": TASK_PARAMS}


@pytest.mark.parametrize("family", ["flan-t5", "mt5", "umt5", "mbart"])
def test_families_without_a_prefix_get_none(request, family):
    settings = _settings(_dir(request, family))["settings"]
    assert settings["prefix"] == {"value": "", "from": "built-in"}


def test_pegasus_summary_keeps_its_max_length_64(pegasus_model_dir):
    """The bug was a 151-token summary: the built-in 150 in place of pegasus-xsum's 64. This
    random Pegasus never ends by itself, so only max_length stops it."""
    result, record = _record("--model", pegasus_model_dir, "-q", input=LONGER_TEXT)
    assert result.exit_code == 0, result.stderr
    assert 40 < record["summary_tokens"] <= 64


def test_bart_summary_keeps_its_min_length_56(family_bart_eager_eos_dir):
    """This BART ends at once by itself (see the fixture); its own min_length 56 keeps it going."""
    result, record = _record("--model", family_bart_eager_eos_dir, "-q", input=LONGER_TEXT)
    assert result.exit_code == 0, result.stderr
    assert record["summary_tokens"] >= 55  # 56 generated, the forced <s> among them
    result, record = _record("--model", family_bart_eager_eos_dir, "--min-length", 0, "-q", input=LONGER_TEXT)
    assert result.exit_code == 0, result.stderr
    assert record["summary_tokens"] == 0  # the contrast: without it, nothing


def test_bart_max_length_below_its_min_length_lowers_the_min(family_bart_eager_eos_dir):
    settings = _settings(family_bart_eager_eos_dir, "--max-length", 20)["settings"]
    assert settings["max_length"] == {"value": 20, "from": "flag"}
    assert settings["min_length"] == {"value": 20, "from": f"{GENERATION_CONFIG}, lowered to --max-length"}
    result, record = _record("--model", family_bart_eager_eos_dir, "--max-length", 20, "-q")
    assert result.exit_code == 0, result.stderr
    assert 10 <= record["summary_tokens"] <= 20  # ends at once by itself: the lowered min made it go on


# --- 4. where the defaults live, and which place wins ------------------------------------------


def _only_special_tokens(data: dict) -> None:
    for key in ("max_length", "min_length", "num_beams", "length_penalty", "no_repeat_ngram_size", "early_stopping"):
        data.pop(key, None)


def test_top_level_config_json_keys_are_read(bart_model_dir, tmp_path):
    """Checkpoints saved before generation_config.json existed keep their defaults in config.json."""
    folder = _copy(bart_model_dir, tmp_path / "old-bart")
    edit_config(folder, _only_special_tokens, "generation_config.json")
    edit_config(folder, lambda data: data.update(num_beams=3, max_length=100, min_length=0))
    settings = _settings(folder)["settings"]
    assert settings["num_beams"] == {"value": 3, "from": CONFIG}
    assert settings["max_length"] == {"value": 100, "from": CONFIG}
    assert settings["min_length"]["from"] == "built-in"  # 0 is transformers' default: it says nothing
    assert settings["length_penalty"] == {"value": 1.0, "from": "built-in"}
    (folder / "generation_config.json").unlink()  # the oldest checkpoints have none at all
    assert _settings(folder)["settings"]["num_beams"] == {"value": 3, "from": CONFIG}


def test_task_params_pick_the_dataset_the_name_mentions():
    assert task_params(PEGASUS_TASKS, "google/pegasus-xsum")["max_length"] == 64
    assert task_params(PEGASUS_TASKS, "google/pegasus-cnn_dailymail")["max_length"] == 128
    assert task_params(PEGASUS_TASKS, "/models/pegasus-arxiv")["max_length"] == 256
    assert task_params(PEGASUS_TASKS, "google/pegasus-large") == {}  # several datasets, none named
    assert task_params({"summarization_xsum": PEGASUS_TASKS["summarization_xsum"]}, "anything")["max_length"] == 64
    both = {"summarization": {"max_length": 10}, **PEGASUS_TASKS}
    assert task_params(both, "google/pegasus-xsum") == {"max_length": 10}  # the plain key first
    assert task_params(None, "google/pegasus-xsum") == {}


def test_pegasus_task_params_by_the_folders_name(pegasus_model_dir, tmp_path):
    plain = edit_config(_copy(pegasus_model_dir, tmp_path / "plain"), _only_special_tokens, "generation_config.json")
    expected = {"pegasus-xsum": (64, 0.6), "pegasus-cnn_dailymail": (128, 0.8)}
    for name, (max_length, penalty) in expected.items():
        settings = _settings(_copy(plain, tmp_path / name))["settings"]
        assert settings["max_length"] == {"value": max_length, "from": TASK_PARAMS}, name
        assert settings["length_penalty"] == {"value": penalty, "from": TASK_PARAMS}, name
    settings = _settings(plain)["settings"]  # a neutral name, three datasets: none is picked
    assert settings["max_length"] == {"value": 150, "from": "built-in"}


def test_pegasus_task_params_by_the_folders_name_with_a_trailing_slash(pegasus_model_dir, tmp_path):
    folder = _copy(pegasus_model_dir, tmp_path / "pegasus-xsum")
    edit_config(folder, _only_special_tokens, "generation_config.json")
    settings = _settings(f"{folder}/")["settings"]
    assert settings["max_length"] == {"value": 64, "from": TASK_PARAMS}


def test_generation_config_over_task_params_over_config_json(bart_model_dir, tmp_path):
    """All three places in one checkpoint: each setting from the latest place that sets it."""
    config = {"num_beams": 3, "max_length": 100, "no_repeat_ngram_size": 2,
              "task_specific_params": {"summarization": {"num_beams": 5, "max_length": 90, "min_length": 7}}}
    generation = {"num_beams": 4, "decoder_start_token_id": 2}
    defaults = model_defaults(config, generation, "x")
    assert [layer.origin for layer in defaults.layers] == [CONFIG, TASK_PARAMS, GENERATION_CONFIG]  # lowest first
    assert defaults.values == {"num_beams": 4, "max_length": 90, "min_length": 7, "no_repeat_ngram_size": 2}

    folder = _copy(bart_model_dir, tmp_path / "three-places")
    edit_config(folder, _only_special_tokens, "generation_config.json")
    edit_config(folder, lambda data: data.update(num_beams=4), "generation_config.json")
    edit_config(folder, lambda data: data.update(config))
    settings = _settings(folder)["settings"]
    assert settings["num_beams"] == {"value": 4, "from": GENERATION_CONFIG}
    assert settings["max_length"] == {"value": 90, "from": TASK_PARAMS}
    assert settings["min_length"] == {"value": 7, "from": TASK_PARAMS}
    assert settings["no_repeat_ngram_size"] == {"value": 2, "from": CONFIG}


def test_toml_over_the_model_and_flags_over_toml(bart_model_dir, tmp_path):
    preset = tmp_path / "brief.toml"
    preset.write_text("[generation]\nnum_beams = 2\nmax_length = 40\n", encoding="utf-8")
    settings = _settings(bart_model_dir, "--config", preset)["settings"]
    assert settings["num_beams"] == {"value": 2, "from": f"preset: {preset}"}
    assert settings["max_length"] == {"value": 40, "from": f"preset: {preset}"}
    assert settings["min_length"] == {"value": 40, "from": f"{GENERATION_CONFIG}, lowered to --max-length"}
    assert settings["length_penalty"] == {"value": 2.0, "from": GENERATION_CONFIG}
    settings = _settings(bart_model_dir, "--config", preset, "--num-beams", 3)["settings"]
    assert settings["num_beams"] == {"value": 3, "from": "flag"}
    assert settings["max_length"] == {"value": 40, "from": f"preset: {preset}"}


# --- 5. refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture, model_type", [("family_gpt2_dir", "gpt2"), ("family_bert_dir", "bert")])
def test_models_that_are_not_encoder_decoders_are_refused_in_one_line(request, fixture, model_type):
    folder = request.getfixturevalue(fixture)
    for result in (_record("--model", folder)[0], invoke("settings", "--model", folder, "-f", "json")):
        assert result.exit_code == 2
        assert result.stdout == ""
        [line] = _lines(result.stderr)
        assert f"it is a {model_type} model" in line and "not an encoder-decoder summarizer" in line


@pytest.mark.parametrize("family", ["bart", "led"])
def test_max_length_beyond_the_decoder_positions_is_refused(request, family):
    folder = _dir(request, family)
    result, _ = _record("--model", folder, "--max-length", 2000)
    assert result.exit_code == 2
    [line] = _lines(result.stderr)
    assert "--max-length 2000" in line and "1024 decoder positions" in line
    assert invoke("settings", "--model", folder, "--max-length", 1025).exit_code == 2
    assert _settings(folder, "--max-length", 1024)["settings"]["max_length"]["value"] == 1024  # the last position


# --- 6. special tokens ------------------------------------------------------------------------


def _torch_backend(folder: Path):
    from summarizer.backends.torch import TorchBackend
    from summarizer.models.loading import load_model

    loaded = load_model(str(folder))
    return loaded, TorchBackend.open(loaded, build_settings({"backend": "torch"}))


ROWS = [TEXT, "Most of the money will come from a regional transport grant.", "Work is due to start next spring."]


def test_bart_forced_bos_comes_first_on_torch(bart_model_dir, tmp_path):
    loaded, backend = _torch_backend(bart_model_dir)
    rows = [loaded.tokenizer(text).input_ids for text in ROWS]
    assert [ids[0] for ids in backend.generate(rows, GenerationSettings(max_length=6, min_length=6))] == [0, 0, 0]
    # The contrast: the same weights without forced_bos_token_id do not start with <s>.
    unforced = edit_config(_copy(bart_model_dir, tmp_path / "unforced"), lambda data: data.pop("forced_bos_token_id"),
                           "generation_config.json")
    _, backend = _torch_backend(unforced)
    assert all(ids[0] != 0 for ids in backend.generate(rows, GenerationSettings(max_length=6, min_length=6)))


def test_pegasus_generation_starts_from_pad(pegasus_model_dir):
    """Pegasus's decoder starts from <pad> (0): the backend's ids are those generated after 0,
    and differ from those after another start token (1, </s>)."""
    import torch

    loaded, backend = _torch_backend(pegasus_model_dir)
    generation = GenerationSettings(max_length=6, min_length=6)
    ids = loaded.tokenizer(TEXT).input_ids
    ours = backend.generate([ids], generation)[0]
    inputs = torch.tensor([ids])

    def after(start: int) -> list[int]:
        config = backend._config(generation)
        config.decoder_start_token_id = start
        with torch.inference_mode():
            row = loaded.model.generate(input_ids=inputs, attention_mask=torch.ones_like(inputs), generation_config=config)
        assert row[0, 0].item() == start
        return row[0, 1:].tolist()

    assert ours == after(0)
    assert ours != after(1)


def test_torch_does_not_apply_what_settings_says_is_not_applied(long_t5_model_dir, tmp_path):
    """LongT5's encoder_no_repeat_ngram_size 4 forbids repeating the input's 4-grams: an input
    ending in six copies of the token the model repeats shows whether it is applied."""
    assert "encoder_no_repeat_ngram_size" in _settings(long_t5_model_dir)["not_applied"]
    without = edit_config(_copy(long_t5_model_dir, tmp_path / "without"),
                          lambda data: data.pop("encoder_no_repeat_ngram_size"), "generation_config.json")
    generation = GenerationSettings(max_length=8, min_length=8)
    loaded, backend = _torch_backend(without)
    ids = loaded.tokenizer(TEXT).input_ids
    favourite = backend.generate([ids], generation)[0][0]
    row = ids[:-1] + [favourite] * 6 + ids[-1:]
    expected = backend.generate([row], generation)[0]
    assert expected[:4] == [favourite] * 4  # the guard: this summary repeats a 4-gram of the input
    _, backend = _torch_backend(long_t5_model_dir)  # the same weights
    assert backend.generate([row], generation)[0] == expected


def test_led_global_attention_on_the_first_token(family_led_global_dir):
    """The backend gives LED global attention on the first token, which changes the summary of
    an input longer than its 16-token attention window."""
    import torch

    loaded, backend = _torch_backend(family_led_global_dir)
    ids = loaded.tokenizer(_long_text(), truncation=True, max_length=200).input_ids
    generation = GenerationSettings(max_length=10, min_length=10)
    ours = backend.generate([ids], generation)[0]
    inputs = torch.tensor([ids])
    first = torch.zeros_like(inputs)
    first[:, 0] = 1

    def reference(**extra) -> list[int]:
        with torch.inference_mode():
            row = loaded.model.generate(input_ids=inputs, attention_mask=torch.ones_like(inputs),
                                        generation_config=backend._config(generation), **extra)
        return row[0, 1:].tolist()

    assert ours == reference(global_attention_mask=first)
    assert ours != reference()


# --- 7. --backend auto per family (issue 16) ----------------------------------------------------


@pytest.mark.parametrize("family", list(TORCH_REASONS))
def test_auto_says_why_it_runs_on_torch(request, family):
    folder = _dir(request, family)
    result, record = _record("--model", folder, *FORCED)
    assert result.exit_code == 0, result.stderr
    assert record["backend"] == "torch"
    notes = [line for line in _lines(result.stderr) if "note:" in line]
    assert len(notes) == 1 and notes[0].startswith("summarize: note: running on torch: ")
    assert TORCH_REASONS[family] in notes[0]
    result, record = _record("--model", folder, *FORCED, "-q")
    assert result.exit_code == 0 and record["backend"] == "torch"
    assert "note:" not in result.stderr


@pytest.mark.parametrize("family", [f for f, (_, _, backend) in FAMILIES.items() if backend == "ctranslate2"])
def test_auto_takes_ctranslate2_with_the_models_defaults(request, family):
    described = _settings(_dir(request, family))
    assert described["backend"] == "ctranslate2" and described["backend_note"] is None
    assert described["settings"]["backend"] == {"value": "ctranslate2", "from": "built-in: auto"}


def test_auto_keeps_a_checkpoints_early_stopping_never_on_torch(bart_model_dir, tmp_path):
    """transformers' early_stopping is True, False or "never" (search until no beam can improve)."""
    folder = edit_config(_copy(bart_model_dir, tmp_path / "never"), lambda data: data.update(early_stopping="never"),
                         "generation_config.json")
    described = _settings(folder)
    assert described["settings"]["early_stopping"] == {"value": "never", "from": GENERATION_CONFIG}
    assert described["backend"] == "torch" and described["backend_note"]


def test_pegasus_keeps_its_own_beams_on_torch(pegasus_model_dir):
    described = _settings(pegasus_model_dir)
    assert described["backend"] == "torch" and "early_stopping off" in described["backend_note"]
    assert described["settings"]["num_beams"] == {"value": 8, "from": GENERATION_CONFIG}
    assert described["settings"]["early_stopping"]["value"] is False


# --- 8. eval, sweeps, strategies and resume on other families -----------------------------------


def test_eval_on_bart(bart_model_dir, samples_dir):
    result = invoke("eval", samples_dir / "eval" / "pairs.jsonl", "--model", bart_model_dir, *FORCED, "-f", "json",
                    "--limit", 2, "-q")
    assert result.exit_code == 0, result.stderr
    scores = json.loads(result.stdout)
    assert {"rouge1", "rouge2", "rougeL", "rougeLsum"} <= set(scores)
    assert scores["documents"] == 2
    assert scores["settings"]["backend"] == "ctranslate2"
    assert scores["settings"]["generation"]["num_beams"] == 4  # BART's own


def test_sweep_on_pegasus(pegasus_model_dir, samples_dir):
    result = invoke("eval", samples_dir / "eval" / "pairs.jsonl", "--model", pegasus_model_dir, "--sweep", "max-length=4,8",
                    "-f", "json", "--limit", 1, "-q")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)["rows"]
    assert [row["max_length"] for row in rows] == [4, 8]
    for row in rows:
        assert 0 < row["summary_tokens"] <= row["max_length"]
        assert row["settings"]["backend"] == "torch"
        assert row["settings"]["generation"]["num_beams"] == 8  # Pegasus's own, in every grid point
    assert rows[0]["summary_tokens"] < rows[1]["summary_tokens"]  # this Pegasus never ends by itself


@pytest.mark.parametrize("strategy", ["truncate", "map"])
def test_strategies_on_bart(bart_model_dir, samples_dir, strategy):
    result = invoke(samples_dir / "short.txt", "--model", bart_model_dir, *FORCED, "--strategy", strategy, "-f", "json", "-q")
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["input_tokens"] > 300 and record["model_type"] == "bart"  # several 128-token windows
    if strategy == "truncate":
        assert (record["chunks"], record["levels"]) == (1, 1)
    else:
        assert record["chunks"] >= 3 and record["levels"] == 1
        assert record["summary_tokens"] > 8  # a summary per chunk, joined


def test_resume_skips_only_what_the_same_model_wrote(bart_model_dir, pegasus_model_dir, tmp_path):
    source = tmp_path / "bridge.txt"
    source.write_text(TEXT, encoding="utf-8")
    out = tmp_path / "out"
    args = (source, *FORCED, "--output-dir", out)
    first = invoke(*args, "--model", bart_model_dir)
    assert first.exit_code == 0, first.stderr
    written = (out / "bridge.txt").read_text(encoding="utf-8")
    again = invoke(*args, "--model", bart_model_dir, "--resume")
    assert again.exit_code == 0, again.stderr
    assert "resumed: 1 of 1" in again.stderr
    other = invoke(*args, "--model", pegasus_model_dir, "--resume")
    assert other.exit_code == 0, other.stderr
    assert "resumed" not in other.stderr
    assert (out / "bridge.txt").read_text(encoding="utf-8") != written  # Pegasus's summary replaced BART's
