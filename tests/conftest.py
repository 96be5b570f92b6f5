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
