"""Keeping libraries' logs off stderr while they parse input."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def quiet(name: str) -> Iterator[None]:
    """Silence the logger `name` while the block runs.

    pypdf and trafilatura log warnings about damaged or empty input; with no logging set up
    they would reach stderr as noise, while a real failure is reported once, as a ReadError.
    """
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)
