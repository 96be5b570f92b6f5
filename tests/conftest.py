from __future__ import annotations

from pathlib import Path

import pytest

from tiny_t5 import SAMPLES, build_tiny_t5
from trained_t5 import TASK_PARAMS, cached_trained_t5


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny T5 checkpoint folder, built once per test run, loaded only via --model DIR."""
    return build_tiny_t5(tmp_path_factory.mktemp("tiny-t5"))


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def t5_defaults_model_dir(tmp_path_factory) -> Path:
    """The tiny T5 with t5-small's real summarization defaults, so defaults like min_length 30
    and 4 beams are always exercised."""
    import json

    folder = build_tiny_t5(tmp_path_factory.mktemp("tiny-t5-small-defaults"))
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config["task_specific_params"] = {"summarization": dict(TASK_PARAMS)}  # t5-small's own
    (folder / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def trained_model_dir() -> Path:
    """A tiny T5 trained to copy a text's first sentence, with peaked outputs; built once per
    recipe into $SUMMARIZER_TEST_CACHE (or ~/.cache/summarizer-tests) and reused."""
    return cached_trained_t5()
