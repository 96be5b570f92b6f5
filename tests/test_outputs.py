from __future__ import annotations

import io

from summarizer.inputs import collect
from summarizer.outputs import write_atomic


def test_stdin_is_read_once(tmp_path):
    collected = collect(["-", "-"], stdin=io.BytesIO("héllo".encode()))
    assert [d.text for d in collected.documents] == ["héllo"]
    assert collected.errors and "more than once" in collected.errors[0].message


def test_bom_is_dropped_and_latin1_is_refused(tmp_path):
    (tmp_path / "bom.txt").write_bytes("\ufeffhi".encode("utf-8"))
    (tmp_path / "latin.txt").write_bytes("caf\xe9".encode("latin-1"))
    collected = collect([tmp_path / "bom.txt", tmp_path / "latin.txt"])
    assert [d.text for d in collected.documents] == ["hi"]
    assert "not UTF-8" in collected.errors[0].message


def test_hidden_folders_are_not_walked(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.txt").write_text("no", encoding="utf-8")
    (tmp_path / "y.txt").write_text("yes", encoding="utf-8")
    collected = collect([str(tmp_path)])
    assert [d.text for d in collected.documents] == ["yes"]
    assert any(".git" in s.source for s in collected.skipped)


def test_empty_folder_is_noted(tmp_path):
    collected = collect([str(tmp_path)])
    assert not collected.documents and "no files matching" in collected.skipped[0].message


def test_atomic_write_replaces_whole_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "deep" / "out.txt"
    write_atomic(target, "first")
    write_atomic(target, "second")
    assert target.read_text(encoding="utf-8") == "second"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    import os

    target = tmp_path / "out.txt"
    write_atomic(target, "old")

    def boom(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    try:
        write_atomic(target, "new")
    except OSError:
        pass
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]
