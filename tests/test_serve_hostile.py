"""`summarize serve` against hostile and careless clients, on a real uvicorn on 127.0.0.1.

Each attack is answered as documented (a one-line `{"error": ...}` and the right status), and a
normal request still succeeds right after it: text the tokenizer cannot take, absurd settings,
a book as one request, clients that vanish or time out, SIGTERM while busy, deep JSON, wrong
methods and routes, idle and surplus connections; and the key and the metrics an operator
needs. The model is the trained tiny T5 (it copies a text's first sentence).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import pytest

from helpers import request, running_server
from trained_t5 import held_out_pairs, training_sentences

pytest.importorskip("prometheus_client", reason="summarize serve needs the serve extra")

GREEDY = ("--num-beams", 1, "--min-length", 0, "--max-length", 48, "--chunk-max-length", 48, "--chunk-min-length", 0, "--threads", 1)
KEY = "s3cret-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


def summarize(base: str, body: Any, **kwargs) -> tuple[int, Any, Any]:
    return request(base, "/v1/summarize", body, **kwargs)


def one_line(answer: Any) -> str:
    """The error line, checked to be one line with no traceback in it."""
    line = answer["error"]
    assert isinstance(line, str) and line and "\n" not in line and "Traceback" not in line, answer
    return line


def load(base: str) -> int:
    return request(base, "/healthz")[1]["load"]


def wait_for(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} did not happen in {timeout:g} s"
        time.sleep(0.02)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process (all its threads), from /proc."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def assert_goes_idle(base: str, pid: int) -> None:
    """The queue empties, and then the process stops burning CPU (a busy model thread takes a
    whole core; an idle server wakes a few times a second)."""
    wait_for(lambda: load(base) == 0, "the queue emptying")
    before = cpu_seconds(pid)
    time.sleep(1.0)
    assert cpu_seconds(pid) - before < 0.25, "the server still works for a request nobody waits for"


@pytest.fixture(scope="module")
def texts(trained_model_dir) -> list[tuple[str, str]]:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(trained_model_dir)
    return [(f"{a} {b}", a) for a, b in held_out_pairs(training_sentences(tokenizer), 8)]


@pytest.fixture(scope="module")
def book(samples_dir) -> str:
    """About 1 MB of prose: a quarter of a minute of the tiny model's time, in thousands of
    chunks; every test gives it up long before it could finish."""
    return "\n\n".join([(samples_dir / "long_report.txt").read_text(encoding="utf-8")] * 60)


@pytest.fixture(scope="module")
def guarded(trained_model_dir):
    """A server with a key and small limits."""
    with running_server("--model", trained_model_dir, *GREEDY, "--max-input-tokens", 400, "--max-new-tokens", 64,
                        "--max-beams", 2, "--keep-alive", 2, "--max-connections", 6, "-q",
                        env={"SUMMARIZER_API_KEY": KEY}) as base:
        yield base


@pytest.fixture(scope="module")
def busy(trained_model_dir):
    """A server that takes a book, with a short timeout and a small queue."""
    with running_server("--model", trained_model_dir, *GREEDY, "--max-input-tokens", 10**7, "--timeout", 3,
                        "--queue-size", 8, "-q") as base:
        yield base


def assert_still_serves(base: str, texts, headers: dict[str, str] | None = None) -> None:
    text, first = texts[0]
    status, answer, _ = summarize(base, {"text": text}, headers=headers)
    assert (status, answer.get("summary")) == (200, first), answer


# --- 1. no request can take the server down ------------------------------------------------------

@pytest.mark.parametrize("odd", ["\ud800", "\udfff", "\x00", "\uffff", "\ufdd0", "\U0010fffe"])
def test_text_the_tokenizer_cannot_take_is_cleaned_not_fatal(guarded, texts, odd):
    """A lone surrogate made the tokenizer raise and killed the model's thread; every such
    character is now replaced with U+FFFD, in the server as in the API and the readers."""
    text, first = texts[1]
    status, answer, _ = summarize(guarded, {"text": f"{text}{odd} {odd}"}, headers=AUTH)
    assert status == 200 and answer["summary"] == first, answer
    status, answer, _ = summarize(guarded, {"text": odd * 40}, headers=AUTH)
    assert status == 200, answer
    status, answer, _ = request(guarded, "/v1/check", {"summary": f"{first}{odd}", "source": f"{odd}{text}"}, headers=AUTH)
    assert status == 200 and answer["supported"] == 1, answer
    cited = answer["sentences"][0]["evidence"][0]
    assert f"\ufffd{text}"[cited["start"]:cited["end"]] == cited["text"], "one character for one: spans still hold"
    assert_still_serves(guarded, texts, AUTH)


def test_a_dead_model_thread_is_reported_and_the_process_exits_non_zero(trained_model_dir, texts):
    """If the model's thread dies anyway (here an out-of-memory error injected into generate(),
    which fails the whole batch, not one document), the requests waiting hear why in one line,
    and the process exits 1 so that a supervisor starts a new one."""
    launcher = (
        "import sys\n"
        "from summarizer.backends import torch as backend\n"
        "generate = backend.TorchBackend.generate\n"
        "def failing(self, rows, settings):\n"
        "    if settings.max_length == 13:\n"
        "        raise MemoryError('injected: out of memory')\n"
        "    return generate(self, rows, settings)\n"
        "backend.TorchBackend.generate = failing\n"
        "sys.argv[0] = 'summarize'\n"
        "from summarizer.cli import main\n"
        "main()\n"
    )
    with running_server("--model", trained_model_dir, *GREEDY, "--backend", "torch", "-q", launcher=launcher) as base:
        assert_still_serves(base, texts)
        status, answer, _ = summarize(base, {"text": texts[2][0], "max_length": 13})
        assert status == 503 and "the model's thread stopped (MemoryError: injected: out of memory)" in one_line(answer)
        process = running_server.process
        assert process.wait(30) == 1
        assert "exiting" in running_server.log(base)


def test_health_says_down_once_the_model_thread_is_gone(trained_model_dir):
    """/healthz means "can summarize": 503 once the model's thread has stopped (a real uvicorn
    in this process, over a batcher whose pipeline run fails)."""
    import uvicorn

    from summarizer.api import Summarizer
    from summarizer.serve.app import create_app
    from summarizer.serve.batcher import Batcher
    from summarizer.serve.limits import ServeLimits
    from summarizer.serve.metrics import Metrics

    summarizer = Summarizer(str(trained_model_dir), backend="torch")

    def broken_run(items, **kwargs):
        next(iter(items))
        raise RuntimeError("the pipeline broke")
        yield  # a generator, as Summarizer.run is

    summarizer.run = broken_run
    batcher = Batcher(summarizer)
    wait_for(lambda: not batcher.alive, "the thread stopping")
    limits = ServeLimits().fitted(summarizer.settings)
    app = create_app(summarizer, batcher, limits, Metrics(lambda: batcher.load, batcher.capacity))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: server.started, "uvicorn starting")
        status, answer, _ = request(base, "/healthz")
        assert status == 503 and answer["status"] == "down" and "the pipeline broke" in one_line(answer)
        status, answer, _ = summarize(base, {"text": "A text."})
        assert status == 503 and "the model's thread stopped" in one_line(answer)
    finally:
        server.should_exit = True
        thread.join(30)


# --- 2. every request's cost bounded before it is queued ----------------------------------------

@pytest.mark.parametrize("settings, limit", [
    ({"num_beams": 10**9}, "num_beams 1,000,000,000 is over this server's limit of 2 beams (--max-beams)"),
    ({"num_beams": 3}, "(--max-beams)"),
    ({"min_length": 5000, "max_length": 5000}, "max_length 5,000 is over this server's limit of 64 tokens a summary (--max-new-tokens)"),
    ({"chunk_max_length": 65}, "chunk_max_length 65 is over this server's limit of 64 tokens"),
])
def test_settings_over_the_operators_limits_are_422_naming_the_limit(guarded, texts, settings, limit):
    status, answer, _ = summarize(guarded, {"text": texts[0][0], **settings}, headers=AUTH)
    assert status == 422 and limit in one_line(answer)
    assert_still_serves(guarded, texts, AUTH)


@pytest.mark.parametrize("body, message", [
    (b'{"text": "A text.", "temperature": NaN}', "--temperature must be a finite number, not nan"),
    (b'{"text": "A text.", "top_p": Infinity}', "--top-p must be a finite number, not inf"),
    (b'{"text": "A text.", "length_penalty": -Infinity}', "--length-penalty must be a finite number, not -inf"),
    ({"text": "A text.", "seed": 2**70}, "--seed must be a whole number from 0 to 4,294,967,295"),
    ({"text": "A text.", "no_repeat_ngram_size": 2**40}, "--no-repeat-ngram-size must be at most 2,147,483,647"),
    (b'{"text": "A text.", "seed": ' + b"9" * 5000 + b"}", "the body is not valid JSON (Exceeds the limit (4300 digits)"),
])
def test_nan_infinity_and_huge_numbers_are_refused(guarded, texts, body, message):
    status, answer, _ = summarize(guarded, body, headers=AUTH)
    assert status == 422 and message in one_line(answer)
    assert_still_serves(guarded, texts, AUTH)


def test_input_tokens_are_bounded_before_and_while_they_are_counted(guarded, texts, book):
    """A book is refused from its length alone, before any tokenizing; a text under that but
    over --max-input-tokens fails when the pipeline has counted that many tokens, and so does
    an uploaded file."""
    status, answer, _ = summarize(guarded, {"text": book}, headers=AUTH)
    assert status == 422 and "(--max-input-tokens)" in one_line(answer) and "before they are tokenized" in answer["error"]
    over = " ".join([texts[3][0]] * 40)  # about 1,000 tokens in about 4,000 characters
    status, answer, _ = summarize(guarded, {"text": over}, headers=AUTH)
    assert status == 422 and "more than 400 input tokens (--max-input-tokens)" in one_line(answer)
    boundary = "----hostile"
    form = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="long.txt"\r\n'
            f"Content-Type: text/plain\r\n\r\n{over}\r\n--{boundary}--\r\n").encode()
    status, answer, _ = summarize(guarded, form, headers={**AUTH, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert status == 422 and "long.txt: more than 400 input tokens" in one_line(answer)
    model = request(guarded, "/v1/model", headers=AUTH)[1]
    assert {key: model["limits"][key] for key in ("max_input_tokens", "max_new_tokens", "max_beams", "api_key")} == {
        "max_input_tokens": 400, "max_new_tokens": 64, "max_beams": 2, "api_key": True}
    assert_still_serves(guarded, texts, AUTH)


# --- 3, 4. fair across requests; abandoned work stops -------------------------------------------

def test_a_book_does_not_starve_small_requests_and_is_dropped_at_its_timeout(busy, texts, book):
    """Small requests sent while a book is in flight are answered before it (they used to wait
    for all of its chunks); the book then times out (504), its work is dropped, and the CPU
    goes idle."""
    answers: dict[str, Any] = {}

    def send_book() -> None:
        answers["book"] = summarize(busy, {"text": book})
        answers["book at"] = time.monotonic()

    started = threading.Thread(target=send_book)
    started.start()
    wait_for(lambda: load(busy) >= 1, "the book reaching the queue")
    for text, first in texts[:4]:
        status, answer, _ = summarize(busy, {"text": text})
        assert (status, answer.get("summary")) == (200, first)
        assert started.is_alive(), "the small request was answered only after the book"
    smalls_at = time.monotonic()
    started.join(60)
    status, answer, _ = answers["book"]
    assert status == 504 and "timed out after 3 s; its work was dropped" in one_line(answer)
    assert smalls_at < answers["book at"]
    assert_goes_idle(busy, running_server.processes[busy].pid)
    assert_still_serves(busy, texts)


def test_a_client_that_goes_away_has_its_work_dropped(busy, texts, book):
    host, port = urlsplit(busy).netloc.split(":")
    body = json.dumps({"text": book}).encode()
    with socket.create_connection((host, int(port))) as client:
        client.sendall(b"POST /v1/summarize HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        wait_for(lambda: load(busy) >= 1, "the book reaching the queue")
    assert_goes_idle(busy, running_server.processes[busy].pid)
    metrics = request(busy, "/metrics")[1]
    assert 'summarizer_requests_total{method="POST",route="/v1/summarize",status="499"} 1.0' in metrics
    assert_still_serves(busy, texts)


def test_clients_that_give_up_do_not_fill_the_queue(busy, texts, book):
    """Eight clients (the queue's size) that give up after half a second: their work is
    dropped, so the next client is served instead of being told the queue is full."""
    def impatient() -> None:
        with pytest.raises(OSError):  # the client's own timeout
            summarize(busy, {"text": book}, timeout=0.5)

    clients = [threading.Thread(target=impatient) for _ in range(8)]
    for client in clients:
        client.start()
    for client in clients:
        client.join(30)
    assert_goes_idle(busy, running_server.processes[busy].pid)
    assert_still_serves(busy, texts)


# --- 5. stops when told -------------------------------------------------------------------------

def test_sigterm_with_a_book_in_flight_exits_within_the_grace_period(trained_model_dir, texts, book):
    with running_server("--model", trained_model_dir, *GREEDY, "--max-input-tokens", 10**7, "--grace", 1, "-q") as base:
        answers: dict[str, Any] = {}
        in_flight = threading.Thread(target=lambda: answers.update(book=summarize(base, {"text": book})))
        in_flight.start()
        wait_for(lambda: load(base) >= 1, "the book reaching the queue")
        process = running_server.process
        process.send_signal(signal.SIGTERM)
        in_flight.join(30)
        status, answer, _ = answers["book"]
        assert status == 503 and "its 1 s grace period ended before this summary was made" in one_line(answer)
        assert process.wait(15) == 0
        with pytest.raises(OSError):
            request(base, "/healthz", timeout=5)
        assert "Traceback" not in running_server.log(base)


# --- 6. malformed input: a 4xx with one line ----------------------------------------------------

@pytest.mark.parametrize("method, path, body, headers, status, message", [
    ("POST", "/v1/summarize", b"[" * 100_000 + b"]" * 100_000, {}, 422, "the body is not valid JSON (nested too deeply)"),
    ("POST", "/v1/summarize", b'{"text": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_001, {}, 422, "nested too deeply"),
    ("POST", "/v1/summarize", b"garbage", {"Content-Type": "multipart/form-data; boundary=xx"}, 422,
     "the body is not valid multipart/form-data"),
    ("POST", "/v1/summarize", b"--xx\r\nnot a part\r\n", {"Content-Type": "multipart/form-data"}, 422,
     "the body is not valid multipart/form-data"),
    ("GET", "/v1/summarize", None, {}, 405, "method not allowed: GET /v1/summarize (it takes POST)"),
    ("DELETE", "/healthz", None, {}, 405, "method not allowed: DELETE /healthz (it takes GET"),
    ("GET", "/v2/summarize", None, {}, 404, "no such route: GET /v2/summarize"),
    ("GET", "/static/nothing.js", None, {}, 404, "no such route: GET /static/nothing.js"),
    ("GET", "/v1/attention/nope?layer=x", None, {}, 422, "layer: Input should be a valid integer"),
])
def test_malformed_requests_are_4xx_with_one_line_and_no_traceback_in_the_log(guarded, texts, method, path, body,
                                                                               headers, status, message):
    got, answer, _ = request(guarded, path, body, headers={**AUTH, **headers}, method=method)
    assert got == status and message in one_line(answer)
    assert_still_serves(guarded, texts, AUTH)
    assert "Traceback" not in running_server.log(guarded)


# --- 7. operator features -----------------------------------------------------------------------

def test_the_api_key_is_required_on_v1_only(guarded, texts):
    for headers, message in (({}, "this server needs an API key: send 'Authorization: Bearer KEY'"),
                             ({"Authorization": "Bearer wrong"}, "the API key was not accepted"),
                             ({"Authorization": f"Basic {KEY}"}, "the API key was not accepted")):
        status, answer, response = summarize(guarded, {"text": texts[0][0]}, headers=headers)
        assert status == 401 and one_line(answer) == message and response["WWW-Authenticate"].startswith("Bearer")
        assert request(guarded, "/v1/model", headers=headers)[0] == 401
    assert request(guarded, "/v1/model", headers={"Authorization": f"bearer {KEY}"})[0] == 200
    for path in ("/healthz", "/metrics", "/"):
        assert request(guarded, path)[0] == 200, path
    assert_still_serves(guarded, texts, AUTH)


def test_metrics_in_prometheus_text_format(guarded, texts):
    from prometheus_client.parser import text_string_to_metric_families

    assert_still_serves(guarded, texts, AUTH)
    summarize(guarded, {"text": "  "}, headers=AUTH)
    status, text, headers = request(guarded, "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    samples = {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
               for family in text_string_to_metric_families(text) for sample in family.samples}

    def value(name: str, **labels: str) -> float:
        return samples.get((name, tuple(sorted(labels.items()))), 0.0)

    assert value("summarizer_requests_total", route="/v1/summarize", method="POST", status="200") >= 1
    assert value("summarizer_requests_total", route="/v1/summarize", method="POST", status="422") >= 1
    assert value("summarizer_request_seconds_count", route="/v1/summarize") >= 2
    assert value("summarizer_queue_documents") == 0 and value("summarizer_queue_capacity") == 64
    assert value("summarizer_batch_rows_count") >= 1 and value("summarizer_batch_rows_sum") >= 1
    assert value("summarizer_generation_seconds_count") == value("summarizer_batch_rows_count")
    assert value("summarizer_input_tokens_total") > value("summarizer_output_tokens_total") > 0
    assert value("summarizer_documents_total", outcome="summarized") >= 1


def test_idle_and_surplus_connections(guarded, texts):
    """A connection that never sends a request, or idles after one, is closed after
    --keep-alive seconds; past --max-connections a request is answered 503 in one line."""
    host, port = urlsplit(guarded).netloc.split(":")
    silent = socket.create_connection((host, int(port)))
    silent.settimeout(15)
    assert silent.recv(1) == b"", "the server closed the connection that sent nothing"
    silent.close()

    kept = http.client.HTTPConnection(host, int(port), timeout=15)
    kept.request("GET", "/healthz")
    assert kept.getresponse().read()
    kept.sock.settimeout(15)
    assert kept.sock.recv(1) == b"", "the server closed the idle keep-alive connection"
    kept.close()

    idle = [socket.create_connection((host, int(port))) for _ in range(6)]
    try:
        status, answer, headers = request(guarded, "/healthz")
        assert status == 503 and "--max-connections is 6" in one_line(answer) and int(headers["Retry-After"]) > 0
    finally:
        for connection in idle:
            connection.close()
    wait_for(lambda: request(guarded, "/healthz")[0] == 200, "a connection freeing")
    assert_still_serves(guarded, texts, AUTH)
