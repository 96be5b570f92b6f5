"""Evaluation inputs: documents with reference summaries, and published predictions.

Two layouts for pairs: a JSONL file (`{"id"?, "document", "reference"}` per line), the usual
shape of exported data sets, or a folder of `NAME.txt` + `NAME.ref.txt`, easy to write by hand.
Predictions are one summary per line, as the CNN/DailyMail releases ship them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

REFERENCE_SUFFIX = ".ref.txt"
_NEWLINE_MARK = re.compile(r"[ \t]*<n>[ \t]*")


class PairsError(ValueError):
    """Evaluation data that cannot be read; the message names the file (and line)."""


@dataclass(frozen=True)
class Pair:
    """One document and the summary a person wrote for it."""

    id: str
    document: str
    reference: str


def load_pairs(path: Path, limit: int | None = None) -> list[Pair]:
    """The pairs in PATH (a JSONL file or a folder), in order; the first `limit` if given."""
    if limit is not None and limit < 1:
        raise PairsError(f"--limit must be at least 1 (got {limit})")
    if path.is_dir():
        pairs = _folder_pairs(path)
    elif path.is_file():
        pairs = _jsonl_pairs(path)
    else:
        raise PairsError(f"{path}: no such file or folder")
    return pairs[:limit]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PairsError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise PairsError(f"{path}: cannot read ({exc.strerror})") from None


def _jsonl_pairs(path: Path) -> list[Pair]:
    pairs: list[Pair] = []
    seen: set[str] = set()
    for number, line in enumerate(_read(path).split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path} line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PairsError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(record, dict):
            raise PairsError(f"{where}: expected a JSON object with \"document\" and \"reference\"")
        pair = Pair(
            id=_record_id(record, where, default=str(number)),
            document=_text_field(record, "document", where),
            reference=_text_field(record, "reference", where),
        )
        if pair.id in seen:
            raise PairsError(f"{where}: id {pair.id!r} was used before; ids must be unique")
        seen.add(pair.id)
        pairs.append(pair)
    if not pairs:
        raise PairsError(f"{path}: no pairs (the file is empty)")
    return pairs


def _text_field(record: dict[str, Any], key: str, where: str) -> str:
    if key not in record:
        raise PairsError(f"{where}: missing key {key!r}")
    value = record[key]
    if not isinstance(value, str):
        raise PairsError(f"{where}: {key!r} must be a string, not {type(value).__name__}")
    if not value.strip():
        raise PairsError(f"{where}: {key!r} is empty")
    return value


def _record_id(record: dict[str, Any], where: str, default: str) -> str:
    """Data sets often number their records, so an integer id is taken as its digits."""
    value = record.get("id", default)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise PairsError(f"{where}: 'id' must be a string, not {type(value).__name__}")
    return str(value)


def _folder_pairs(folder: Path) -> list[Pair]:
    files = {p.name: p for p in folder.iterdir() if p.is_file() and p.name.endswith(".txt")}
    references = {name for name in files if name.endswith(REFERENCE_SUFFIX)}
    documents = sorted(set(files) - references)
    for name in sorted(references):
        if name[: -len(REFERENCE_SUFFIX)] + ".txt" not in files:
            raise PairsError(f"{files[name]}: reference without a document ({name[: -len(REFERENCE_SUFFIX)]}.txt)")
    pairs = []
    for name in documents:
        pair_id = name[: -len(".txt")]
        reference = folder / (pair_id + REFERENCE_SUFFIX)
        if reference.name not in references:
            raise PairsError(f"{files[name]}: no reference summary ({reference.name} is missing)")
        pairs.append(Pair(pair_id, _nonempty(files[name]), _nonempty(reference)))
    if not pairs:
        raise PairsError(f"{folder}: no pairs (expected NAME.txt files with NAME{REFERENCE_SUFFIX} beside them)")
    return pairs


def _nonempty(path: Path) -> str:
    text = _read(path)
    if not text.strip():
        raise PairsError(f"{path}: empty file")
    return text


def load_predictions(path: Path) -> list[str]:
    """One summary per line of PATH, in the pairs' order; `<n>` in a line is a line break.

    A blank line is an empty summary (a model may write nothing), so blank lines count.
    """
    if not path.is_file():
        raise PairsError(f"{path}: no such file")
    text = _read(path)
    if text.endswith("\n"):
        text = text[:-1]
    if not text:
        return []
    return [_NEWLINE_MARK.sub("\n", line.rstrip("\r")) for line in text.split("\n")]


def check_counts(pairs: Sequence[Pair], predictions: Sequence[str], pairs_name: str = "PAIRS",
                 predictions_name: str = "PRED") -> None:
    """Predictions are matched to pairs by position, so the counts must agree exactly."""
    if len(predictions) != len(pairs):
        raise PairsError(
            f"{predictions_name} has {_count(len(predictions), 'line')} but {pairs_name} has {_count(len(pairs), 'pair')}"
        )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
