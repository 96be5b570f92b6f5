from __future__ import annotations

from pathlib import Path

import pytest

from summarizer.config import SettingsError, build_settings, load_toml
from summarizer.models.defaults import model_defaults

CONFIGS = Path(__file__).resolve().parent.parent / "configs"


@pytest.mark.parametrize("preset", ["default", "brief", "detailed"])
def test_shipped_presets_load(preset):
    settings = build_settings(load_toml(CONFIGS / f"{preset}.toml"))
    assert settings.generation.max_length >= settings.generation.min_length


def test_precedence_defaults_model_toml_flags():
    model = model_defaults({"task_specific_params": {"summarization": {"max_length": 200, "num_beams": 4, "prefix": "summarize: ", "foo": 1}}}, None).values
    assert "foo" not in model
    toml = {"num_beams": 2, "max_length": 60}
    flags = {"max_length": 30, "num_beams": None}
    settings = build_settings(model, toml, flags)
    assert settings.generation.max_length == 30  # flag
    assert settings.generation.num_beams == 2  # TOML (flag not given)
    assert settings.generation.prefix == "summarize: "  # model
    assert settings.generation.top_p == 1.0  # built-in


def test_sampling_kwargs_only_when_sampling():
    greedy = build_settings({}).generation.generate_kwargs()
    assert greedy["do_sample"] is False and greedy["temperature"] is None
    sampled = build_settings({"temperature": 0.7, "top_k": 10}).generation.generate_kwargs()
    assert sampled["do_sample"] is True and sampled["temperature"] == 0.7 and sampled["top_k"] == 10


@pytest.mark.parametrize(
    "layer",
    [{"max_length": 0}, {"min_length": -1}, {"top_k": -1}, {"repetition_penalty": 0}, {"batch_size": 0},
     {"max_length": True}, {"device": "tpu"}, {"attention": "flash"}, {"chunk_size": 4}, {"prefix": 3}],
)
def test_invalid_values_are_refused(layer):
    with pytest.raises(SettingsError):
        build_settings(layer)


def test_toml_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("max_length = [", encoding="utf-8")
    with pytest.raises(SettingsError, match="bad.toml"):
        load_toml(bad)
    with pytest.raises(SettingsError, match="not found"):
        load_toml(tmp_path / "missing.toml")
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("colour = 'blue'\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="colour"):
        load_toml(unknown)


@pytest.mark.parametrize("layer, message", [
    ({"temperature": float("nan")}, "--temperature must be a finite number, not nan"),
    ({"top_p": float("inf")}, "--top-p must be a finite number, not inf"),
    ({"repetition_penalty": float("nan")}, "--repetition-penalty must be a finite number, not nan"),
    ({"seed": 2**70}, "--seed must be a whole number from 0 to 4,294,967,295 (got 1180591620717411303424)"),
    ({"seed": -1}, "--seed must be a whole number from 0 to 4,294,967,295 (got -1)"),
    ({"num_beams": 10**10}, "--num-beams must be at most 2,147,483,647 (got 10000000000)"),
    ({"max_length": 10**5000}, "--max-length must be at most 2,147,483,647 (got a number of 16,610 bits)"),
])
def test_nan_infinity_and_numbers_no_backend_takes_are_refused(layer, message):
    """NaN passes every comparison (so every range check) and a count past a C int overflows
    deep inside generate(): refused with one line, whichever door they came through."""
    with pytest.raises(SettingsError) as caught:
        build_settings(layer)
    assert str(caught.value) == message


def test_nan_in_a_preset_and_on_the_command_line(tmp_path):
    from helpers import invoke

    preset = tmp_path / "nan.toml"
    preset.write_text("[generation]\ntemperature = nan\n", encoding="utf-8")
    for args in (("--config", preset), ("--temperature", "nan"), ("--length-penalty", "-inf")):
        result = invoke("settings", *args)
        assert result.exit_code == 2 and "must be a finite number" in result.stderr, result.stderr
