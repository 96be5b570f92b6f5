"""`--engine ray` on a real local Ray (2 CPUs), against `--engine local` on the same inputs.

Ray starts once for the module and the CLI joins it with --ray-address; the CLI's own
start-and-stop path runs once, in a subprocess. Deselect with `-m "not ray"`.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import invoke

pytestmark = pytest.mark.ray

ROOT = Path(__file__).resolve().parent.parent
FAST = ("--num-beams", "1", "--dtype", "float32", "--threads", "1", "--format", "jsonl")


@pytest.fixture(scope="module")
def ray_address():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="module")
def model(tiny_model_dir) -> str:
    return str(tiny_model_dir)


@pytest.fixture(scope="module")
def folder(tmp_path_factory, samples_dir) -> Path:
    """30 documents cut from the samples: 1 to 11 chunks of the tiny model's 128-token window,
    up to 3 reduction levels; plus two that fail: an empty file, and a binary one that the
    folder walk leaves out (not a text name) and the inputs name."""
    words = " ".join((samples_dir / name).read_text(encoding="utf-8") for name in ("article.md", "short.txt")).split()
    rng = random.Random(0)
    root = tmp_path_factory.mktemp("ray-docs")
    for i in range(30):
        n = rng.choice([20, 60, 150, 400])
        start = rng.randrange(len(words) - n)
        (root / f"doc{i:02d}.txt").write_text(" ".join(words[start:start + n]) + "\n", encoding="utf-8")
    (root / "empty.txt").write_text("", encoding="utf-8")
    (root / "blob.bin").write_bytes(bytes(range(256)) * 4)
    return root


@pytest.fixture(scope="module")
def inputs(folder) -> tuple[str, str]:
    return str(folder), str(folder / "blob.bin")


def _records(stdout: str) -> dict[str, dict]:
    """JSON lines by source, without timings (the only field that may differ between runs)."""
    records = {}
    for line in stdout.splitlines():
        record = json.loads(line)
        record.pop("seconds")
        records[record["source"]] = record
    return records


@pytest.fixture(scope="module")
def local_records(inputs, model) -> dict[str, dict]:
    result = invoke(*inputs, "--model", model, *FAST)
    assert result.exit_code == 1, result.stderr  # empty.txt and blob.bin
    return _records(result.stdout)


@pytest.mark.parametrize("replicas", [1, 2])
def test_same_records_as_the_local_engine(ray_address, inputs, folder, model, local_records, replicas):
    result = invoke(*inputs, "--model", model, *FAST, "--engine", "ray", "--ray-address", ray_address, "--replicas", replicas)
    records = _records(result.stdout)
    assert records == local_records
    assert {r["levels"] for r in records.values()} >= {1, 2, 3}, "documents of one, two and three levels"
    assert result.exit_code == 1
    empty, blob = str(folder / "empty.txt"), str(folder / "blob.bin")
    assert records[empty]["error"] == "empty input, nothing to summarize" and records[blob]["error"]
    assert f"{empty}: empty input" in result.stderr and f"{blob}: {records[blob]['error']}" in result.stderr
    assert "2 of 32 inputs failed" in result.stderr
    assert sum(1 for r in records.values() if r["summary"]) == 30


def test_resume_redoes_nothing(ray_address, folder, model, tmp_path):
    inputs = [folder / f"doc0{i}.txt" for i in range(4)]
    out = tmp_path / "out"
    args = (*inputs, "--model", model, *FAST[:-2], "--engine", "ray", "--ray-address", ray_address, "-o", out, "--resume")
    first = invoke(*args)
    assert first.exit_code == 0, first.stderr
    written = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.glob("*.txt")}
    assert len(written) == 4
    second = invoke(*args)
    assert second.exit_code == 0, second.stderr
    assert "resumed: 4 of 4 inputs" in second.stderr
    assert {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.glob("*.txt")} == written


def test_a_replica_killed_mid_run_loses_nothing(ray_address, inputs, model, local_records):
    """SIGKILL one replica after the first result: Ray restarts it and retries its batches."""
    from summarizer.engines import Prepare
    from summarizer.engines.ray import run_on_ray
    from summarizer.readers import discover
    from summarizer.report import Summary

    sources = discover(inputs).sources
    layers = ({"model": model, "num_beams": 1, "dtype": "float32", "threads": 1},)
    outcomes = run_on_ray(sources, Prepare(model=model, device="cpu"), layers, None, replicas=2)
    first = next(outcomes)
    replicas = _replica_pids()
    assert replicas, "replicas are running"
    os.kill(replicas[0], signal.SIGKILL)
    records = {}
    for outcome in [first, *outcomes]:
        record = Summary.to_dict(outcome.record)
        record.pop("seconds")
        records[record["source"]] = record
    assert records == local_records


def _replica_pids() -> list[int]:
    """Model replicas of this test's Ray: actor processes whose raylet this process started."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            title = (entry / "cmdline").read_bytes()
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            grandparent = int((Path("/proc") / str(parent) / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if title.startswith(b"ray::MapWorker(MapBatches(Replica))") and grandparent == os.getpid():
            pids.append(int(entry.name))
    return pids


def test_without_ray_says_how_to_get_it(monkeypatch, folder, model):
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets where Ray is not installed
    result = invoke(folder / "doc00.txt", "--model", model, "--engine", "ray")
    assert result.exit_code == 2
    assert result.stderr == "summarize: error: the ray engine needs the 'ray' extra: pip install 'summarizer[ray]'\n"


def test_help_and_local_runs_never_import_ray(folder):
    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from summarizer.cli import app\n"
        "assert CliRunner().invoke(app, ['--help']).exit_code == 0\n"
        "assert 'ray' not in sys.modules\n"
        f"result = CliRunner().invoke(app, [{str(folder / 'doc00.txt')!r}, '--method', 'lead'])\n"
        "assert result.exit_code == 0, result.output\n"
        "assert 'ray' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=120)


def test_cli_starts_its_own_ray_and_stops_it_quietly(folder, model, local_records):
    """No --ray-address: the run starts a local Ray, shuts it down, and stderr stays ours."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    inputs = [str(folder / f"doc0{i}.txt") for i in range(3)]
    done = subprocess.run(
        [sys.executable, "-m", "summarizer", *inputs, "--model", model, *FAST, "--engine", "ray"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert _records(done.stdout) == {name: local_records[name] for name in inputs}


def test_another_family_on_ray_equals_local(ray_address, folder, bart_model_dir):
    """A BART (and its defaults, its backend) runs the same on the Ray replicas as locally."""
    inputs = [folder / f"doc0{i}.txt" for i in range(3)]
    args = (*inputs, "--model", bart_model_dir, "--max-length", 8, "--min-length", 8, *FAST)
    local = invoke(*args)
    on_ray = invoke(*args, "--engine", "ray", "--ray-address", ray_address)
    assert on_ray.exit_code == local.exit_code == 0, on_ray.stderr
    records = _records(on_ray.stdout)
    assert records == _records(local.stdout)
    assert {(r["model_type"], r["backend"]) for r in records.values()} == {("bart", "ctranslate2")}
