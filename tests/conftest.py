from __future__ import annotations

from pathlib import Path

import pytest

from tiny_t5 import SAMPLES, build_tiny_t5
from trained_t5 import cached_trained_t5


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny T5 checkpoint folder, built once per test run, loaded only via --model DIR."""
    return build_tiny_t5(tmp_path_factory.mktemp("tiny-t5"))


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def trained_model_dir() -> Path:
    """A tiny T5 trained to copy a text's first sentence, with peaked outputs; built once per
    recipe into $SUMMARIZER_TEST_CACHE (or ~/.cache/summarizer-tests) and reused."""
    return cached_trained_t5()
