"""`--sweep NAME=V1,V2,...`: which settings a sweep may vary, their typed values, and the grid.

One sweep loads one model once, so only what can change between runs of that model is
sweepable. Values are typed by the setting's declared type in `config.py`; whether a value
is allowed (a negative temperature, an unknown strategy) is left to `build_settings`, which
the caller runs on every grid point before anything is generated.
"""

from __future__ import annotations

import itertools
import types
import typing
from dataclasses import fields
from typing import Any, Union

from ..config import _CHUNK_KEYS, Bounds, ChunkSettings, GenerationSettings, RunSettings

_RUN_SWEEPABLE = ("strategy", "method", "sentences", "whole_sentences", "quantize", "backend")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


class SweepError(ValueError):
    """A `--sweep` spec that cannot be used; the message names the flag."""


def _setting_types() -> dict[str, Any]:
    """Sweepable setting name -> its declared type (`int`, `int | None`, ...), from config.py."""
    generation = typing.get_type_hints(GenerationSettings)
    chunking = typing.get_type_hints(ChunkSettings)
    run = typing.get_type_hints(RunSettings)
    bounds = typing.get_type_hints(Bounds)
    declared: dict[str, Any] = {f.name: generation[f.name] for f in fields(GenerationSettings)}
    declared.update({f.name: bounds[f.name] for f in fields(Bounds)})
    declared.update({name: chunking[field] for name, field in _CHUNK_KEYS.items()})
    declared.update({name: run[name] for name in _RUN_SWEEPABLE})
    return declared


SWEEPABLE = _setting_types()


def _flag(name: str) -> str:
    return name.replace("_", "-")


def _split_optional(annotation: Any) -> tuple[type, bool]:
    """(base type, whether None is allowed) of `int`, `int | None`, `Optional[int]`."""
    if typing.get_origin(annotation) in (Union, types.UnionType):
        members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return members[0], True
    return annotation, False


def parse_value(name: str, text: str) -> Any:
    """`text` as a value of setting `name`; "none" is accepted where the setting may be unset.

    A prefix is taken verbatim: its trailing space ("summarize: ") matters.
    """
    if name == "prefix":
        return text
    kind, optional = _split_optional(SWEEPABLE[name])
    word = text.strip()
    if optional and word.lower() == "none":
        return None
    if kind is bool:
        if word.lower() in _TRUE:
            return True
        if word.lower() in _FALSE:
            return False
        raise SweepError(f"--sweep {_flag(name)}: {word!r} is not true or false")
    if kind is int:
        try:
            return int(word)
        except ValueError:
            raise SweepError(f"--sweep {_flag(name)}: {word!r} is not a whole number") from None
    if kind is float:
        try:
            value = float(word)
        except ValueError:
            raise SweepError(f"--sweep {_flag(name)}: {word!r} is not a number") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise SweepError(f"--sweep {_flag(name)}: {word!r} is not a finite number")
        return value
    return word


def parse_sweep(specs: list[str]) -> list[tuple[str, list[Any]]]:
    """`["temperature=0,0.7", "max-length=30,60"]` -> `[("temperature", [0.0, 0.7]), ("max_length", [30, 60])]`."""
    axes: list[tuple[str, list[Any]]] = []
    for spec in specs:
        flag, sep, listed = spec.partition("=")
        flag = flag.strip().lstrip("-")
        name = flag.replace("-", "_")
        if not sep or not flag:
            raise SweepError(f"--sweep {spec!r}: expected NAME=VALUE,VALUE,... (e.g. temperature=0,0.7)")
        _check_name(name)
        if any(name == seen for seen, _ in axes):
            raise SweepError(f"--sweep {_flag(name)}: given twice; list all its values in one --sweep")
        words = listed.split(",")
        if name != "prefix" and not listed.strip():
            raise SweepError(f"--sweep {_flag(name)}: no values; give them separated by commas")
        if name != "prefix" and any(not word.strip() for word in words):
            raise SweepError(f"--sweep {_flag(name)}: empty value in {listed!r}")
        values = [parse_value(name, word) for word in words]
        repeated = [word.strip() for word, value in zip(words, values) if values.count(value) > 1]
        if repeated:
            raise SweepError(f"--sweep {_flag(name)}: {repeated[0]!r} is listed more than once")
        axes.append((name, values))
    return axes


def _check_name(name: str) -> None:
    if name in SWEEPABLE:
        return
    sweepable = ", ".join(_flag(n) for n in SWEEPABLE)
    if name in {f.name for f in fields(RunSettings)} - {"generation", "chunking"}:
        raise SweepError(
            f"--sweep {_flag(name)}: cannot be swept: one model is loaded once, with one device, dtype, "
            f"attention and batching, for the whole sweep (sweepable: {sweepable})"
        )
    raise SweepError(f"--sweep {_flag(name)}: unknown setting (sweepable: {sweepable})")


def format_value(value: Any) -> str:
    """A swept value as the user would type it back: none, true/false, 0.7, map-reduce."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def grid(axes: list[tuple[str, list[Any]]]) -> list[dict[str, Any]]:
    """Every combination of the axes' values, the first axis varying slowest."""
    names = [name for name, _ in axes]
    return [dict(zip(names, combination)) for combination in itertools.product(*(values for _, values in axes))]
