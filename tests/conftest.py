from __future__ import annotations

from pathlib import Path

import pytest

from tiny_t5 import SAMPLES, build_tiny_t5


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny T5 checkpoint folder, built once per test run, loaded only via --model DIR."""
    return build_tiny_t5(tmp_path_factory.mktemp("tiny-t5"))


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES


# t5-small's own task_specific_params["summarization"], as its config.json on the hub has them.
T5_SMALL_TASK_PARAMS = {
    "early_stopping": True, "length_penalty": 2.0, "max_length": 200, "min_length": 30,
    "no_repeat_ngram_size": 3, "num_beams": 4, "prefix": "summarize: ",
}


@pytest.fixture(scope="session")
def t5_defaults_model_dir(tmp_path_factory) -> Path:
    """The tiny T5 with t5-small's real summarization defaults, so defaults like min_length 30
    and 4 beams are always exercised."""
    import json

    folder = build_tiny_t5(tmp_path_factory.mktemp("tiny-t5-small-defaults"))
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config["task_specific_params"] = {"summarization": dict(T5_SMALL_TASK_PARAMS)}
    (folder / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    return folder
