"""`summarize serve` through a real HTTP client against a real uvicorn on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import signal
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

import pytest

from helpers import local_server, request, running_server
from trained_t5 import held_out_pairs, training_sentences

GREEDY = ("--num-beams", 1, "--min-length", 0, "--max-length", 48)


def post(base: str, body: object, path: str = "/v1/summarize", timeout: float = 120) -> tuple[int, dict, Any]:
    return request(base, path, body, timeout=timeout)


def get(base: str, path: str) -> dict:
    return request(base, path, timeout=30)[1]


def wait_for_load(base: str, load: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while get(base, "/healthz")["load"] < load:
        assert time.monotonic() < deadline, "the request never reached the queue"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def texts(trained_model_dir) -> list[tuple[str, str]]:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(trained_model_dir)
    return [(f"{a} {b}", a) for a, b in held_out_pairs(training_sentences(tokenizer), 16)]


@pytest.fixture(scope="module")
def server(trained_model_dir):
    with running_server("--model", trained_model_dir, *GREEDY, "-q") as base:
        yield base


@pytest.fixture(scope="module")
def long_text(samples_dir) -> str:
    return (samples_dir / "long_report.txt").read_text(encoding="utf-8")


def test_concurrent_clients_each_get_exactly_their_own_summary(server, texts):
    alone = [post(server, {"text": text})[1]["summary"] for text, _ in texts]
    assert alone == [first for _, first in texts], "the trained model copies the first sentence"
    with ThreadPoolExecutor(len(texts)) as pool:
        together = list(pool.map(lambda pair: post(server, {"text": pair[0]}), texts))
    assert [status for status, _, _ in together] == [200] * len(texts)
    assert [body["summary"] for _, body, _ in together] == alone


def test_a_response_is_the_record_summarize_prints(server, texts):
    status, body, _ = post(server, {"text": texts[0][0], "max_length": 5})
    assert status == 200
    assert set(body) >= {"source", "summary", "input_tokens", "summary_tokens", "compression_ratio", "chunks",
                         "levels", "model", "model_type", "backend", "device", "seconds"}
    assert body["summary_tokens"] <= 5 and body["model_type"] == "t5"


@pytest.mark.parametrize("body, message", [
    ({"text": "A text.", "model": "t5-base"}, "model: not a per-request setting"),
    ({"text": "A text.", "num_beams": 0}, "--num-beams must be at least 1 (got 0)"),
    ({"text": "A text.", "max_length": "long"}, "max_length: Input should be a valid integer"),
    ({"text": "   "}, "empty input, nothing to summarize"),
    ({"text": "A text.", "url": "http://127.0.0.1/"}, "send exactly one of"),
    (b"{not json", "the body is not valid JSON"),
    ([1, 2], "the body must be a JSON object"),
])
def test_bad_requests_are_422_with_one_line_and_no_traceback(server, body, message):
    status, answer, _ = post(server, body)
    assert status == 422
    assert message in answer["error"] and "\n" not in answer["error"] and "Traceback" not in answer["error"]


def test_urls_are_refused_unless_the_server_allows_them(server):
    status, answer, _ = post(server, {"url": "http://127.0.0.1:9/secret"})
    assert status == 403 and "--allow-urls" in answer["error"]


def test_model_health_and_openapi(server):
    model = get(server, "/v1/model")
    assert model["family"] == "T5" and model["settings"]["max_length"] == {"value": 48, "from": "flag"}
    assert model["limits"]["allow_urls"] is False
    assert get(server, "/healthz")["status"] == "ok"
    assert "/v1/summarize" in get(server, "/openapi.json")["paths"]


def test_the_attention_view_of_a_summary(server, texts):
    status, body, _ = post(server, {"text": texts[1][0], "attention": True})
    view = body["attention"]
    assert status == 200 and view["read"] == "the document"
    assert view["source_tokens"][-1] == "</s>" and len(view["summary_tokens"]) == body["summary_tokens"] + 1
    mean = get(server, f"/v1/attention/{view['id']}")
    one = get(server, f"/v1/attention/{view['id']}?layer=0&head=1")
    for rows in (mean["rows"], one["rows"]):
        assert len(rows) == len(view["summary_tokens"]) and all(len(row) == len(view["source_tokens"]) and max(row) == 255 for row in rows)
    assert mean["rows"] != one["rows"], "a head is not the mean of all"


def upload(base: str, name: str, data: bytes, kind: str, **fields) -> tuple[int, dict]:
    """A multipart/form-data POST with one `file`, as `curl -F file=@NAME` sends it."""
    boundary = "----summarizer-test"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
             for key, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                 f"Content-Type: {kind}\r\n\r\n".encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{base}/v1/summarize", data=body,
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def test_uploads_of_text_html_and_pdf_through_the_same_readers(server, texts):
    from test_readers import make_pdf

    text, first = texts[4]
    html = f"<!doctype html><html><body><nav>Home | News</nav><article><p>{text}</p></article></body></html>"
    for name, data, kind in (
        ("notes.txt", text.encode("cp1252"), "text/plain"),
        ("page.html", html.encode(), "text/html"),
        ("paper.pdf", make_pdf([text]), "application/pdf"),
    ):
        status, body = upload(server, name, data, kind, max_length="48")
        assert (status, body["source"], body["summary"]) == (200, name, first), body
    status, body = upload(server, "image.png", b"\x89PNG\r\n\x1a\n" + bytes(200), "image/png")
    assert status == 422 and "cannot summarize a image/png upload" in body["error"]
    status, body = upload(server, "zeros.txt", bytes(10_000), "text/plain")
    assert status == 422 and "binary" in body["error"]


class _Page(BaseHTTPRequestHandler):
    release = threading.Event()
    text = ""

    def do_GET(self):
        data = self.text.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_limits_of_a_public_facing_service(trained_model_dir, texts, long_text):
    """Body size (413, declared or streamed), a full queue (503 with Retry-After), URLs when
    allowed, and SIGTERM: stop accepting, finish the request in flight (within the default 30 s
    grace), exit 0."""
    _Page.release, _Page.text = threading.Event(), texts[2][0]
    with local_server(_Page) as page, running_server(
        "--model", trained_model_dir, *GREEDY, "--queue-size", 1, "--max-body-size", "200K", "--allow-urls", "-q",
    ) as base:
        status, answer, _ = post(base, {"text": "x" * 300_000})
        assert status == 413 and "200 KB" in answer["error"]
        streamed = http.client.HTTPConnection(*urlsplit(base).netloc.split(":"), timeout=30)
        streamed.request("POST", "/v1/summarize", body=iter([b'{"text": "', b"x" * 150_000, b"x" * 150_000, b'"}']),
                         headers={"Content-Type": "application/json"}, encode_chunked=True)
        assert streamed.getresponse().status == 413, "a body without Content-Length is counted as it comes"
        streamed.close()

        assert post(base, {"url": f"{page}/article.txt"})[1]["summary"] == texts[2][1]

        slow: dict = {}
        worker = threading.Thread(target=lambda: slow.update(answer=post(base, {"text": long_text})))
        worker.start()
        wait_for_load(base, 1)
        status, answer, headers = post(base, {"text": texts[3][0]})
        assert status == 503 and "queue is full" in answer["error"] and int(headers["Retry-After"]) > 0

        process = running_server.process
        process.send_signal(signal.SIGTERM)
        worker.join(120)
        assert slow["answer"][0] == 200 and slow["answer"][1]["chunks"] > 1, "the request in flight was finished"
        assert process.wait(60) == 0
