"""`summarize serve` under load: one client against 16, and against a naive server.

The same documents (about 480 tokens each, cut from samples/) go to each server (a) one request
at a time from one client and (b) from 16 concurrent clients; each server runs a random-weight
model of t5-small's exact shape with 64 output tokens forced (min = max), greedy. Printed per
server and load: throughput (documents/s), p50 and p95 latency, and the share of requests that
came back 200 (every response is accounted for). The naive server is the quick FastAPI wrapper
a new user writes, defined below: one `model.generate()` per request, in FastAPI's thread pool.
Ratios are against the naive server under the same load, measured in the same run.

    python benchmarks/bench_serve.py [--documents 48] [--clients 16] [--threads 2]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench_speed import NEW_TOKENS, make_documents, shaped_model

NAIVE = r'''
import sys
import torch
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

model_dir, port, new_tokens = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
tokenizer = AutoTokenizer.from_pretrained(model_dir)
model = AutoModelForSeq2SeqLM.from_pretrained(model_dir).eval()
app = FastAPI()


class Request(BaseModel):
    text: str


@app.get("/healthz")
def healthz():
    return {"status": "ok"}


@app.post("/v1/summarize")
def summarize(request: Request):
    inputs = tokenizer("summarize: " + request.text, return_tensors="pt", truncation=True, max_length=512)
    with torch.no_grad():
        ids = model.generate(**inputs, max_new_tokens=new_tokens, min_new_tokens=new_tokens, num_beams=1, do_sample=False)
    return {"summary": tokenizer.decode(ids[0], skip_special_tokens=True)}


uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
'''


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def started(command: list[str], port: int, env: dict[str, str]) -> subprocess.Popen:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while True:
        if process.poll() is not None:
            raise SystemExit(f"server exited: {process.stderr.read().decode()[-2000:]}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return process
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("server did not come up") from None
            time.sleep(0.3)


def load(port: int, texts: list[str], clients: int) -> dict:
    """Send every text once, from `clients` threads each on its own keep-alive connection."""
    latencies: list[float] = []
    statuses: list[int] = []
    pending = list(enumerate(texts))
    lock = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        while True:
            with lock:
                if not pending:
                    return
                _, text = pending.pop(0)
            body = json.dumps({"text": text})
            began = time.perf_counter()
            connection.request("POST", "/v1/summarize", body=body, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            with lock:
                latencies.append(time.perf_counter() - began)
                statuses.append(response.status)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    latencies.sort()
    return {
        "docs_per_s": len(texts) / wall, "p50": statistics.median(latencies),
        "p95": latencies[max(0, int(round(0.95 * len(latencies))) - 1)],
        "ok": sum(status == 200 for status in statuses), "sent": len(texts),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=48)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    from transformers import AutoTokenizer

    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "TOKENIZERS_PARALLELISM": "false"}
    results: dict[str, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env["SUMMARIZER_CACHE"] = str(tmp / "cache")
        model, _ = shaped_model("t5", tmp / "t5-small-shaped")
        make_documents(tmp / "docs", AutoTokenizer.from_pretrained(model), args.documents)
        texts = [p.read_text(encoding="utf-8") for p in sorted((tmp / "docs").glob("*.txt"))]
        forced = ["--max-length", str(NEW_TOKENS), "--min-length", str(NEW_TOKENS), "--num-beams", "1",
                  "--no-repeat-ngram-size", "0", "--threads", str(args.threads), "--queue-size", str(4 * args.documents), "-q"]
        servers = {
            "naive: generate() per request": lambda port: [sys.executable, "-c", NAIVE, str(model), str(port), str(NEW_TOKENS)],
            "summarize serve --backend torch": lambda port: [sys.executable, "-m", "summarizer", "serve", "--model", str(model),
                                                             "--port", str(port), "--backend", "torch", *forced],
            "summarize serve --backend ctranslate2": lambda port: [sys.executable, "-m", "summarizer", "serve", "--model",
                                                                   str(model), "--port", str(port), "--backend", "ctranslate2", *forced],
        }
        for label, command in servers.items():
            port = free_port()
            process = started(command(port), port, env)
            try:
                load(port, texts[:4], 1)  # warm-up: first calls allocate and compile kernels
                results[label] = {"one client": load(port, texts, 1), f"{args.clients} clients": load(port, texts, args.clients)}
            finally:
                process.terminate()
                process.wait(60)
            print(f"{label}: {json.dumps(results[label])}", file=sys.stderr)

    naive = results["naive: generate() per request"]
    print(f"{args.documents} documents x ~480 tokens, {NEW_TOKENS} forced output tokens, t5-small shape, greedy, "
          f"{args.threads} threads")
    print(f"{'server':<40} {'load':<11} {'docs/s':>7} {'p50 s':>7} {'p95 s':>7} {'x naive':>8} {'200s':>8}")
    for label, loads in results.items():
        for name, row in loads.items():
            print(f"{label:<40} {name:<11} {row['docs_per_s']:>7.2f} {row['p50']:>7.2f} {row['p95']:>7.2f} "
                  f"{row['docs_per_s'] / naive[name]['docs_per_s']:>8.2f} {row['ok']:>4}/{row['sent']}")
    for label, loads in results.items():
        one, many = loads.values()
        print(f"{label}: {args.clients} clients / one client = {many['docs_per_s'] / one['docs_per_s']:.2f}x")


if __name__ == "__main__":
    main()
