"""The HTTP service: typed requests in, the CLI's JSON records out, every error one line.

Handlers only translate: a request becomes an `Item` for the shared `Batcher`, a record becomes
the same JSON `summarize --format json` prints, and each of the API's errors a status (401 a
missing key, 403 a URL without --allow-urls, 404/405 no such route or method, 413 a body over
the limit, 422 settings, input or a limit, 503 a full queue or a stopping server, 504 a request
past its timeout). Every error, the framework's too, is `{"error": "one line"}`; no traceback
reaches a response, and none is logged for a client's mistake. A request whose client goes
away, or whose timeout passes, is cancelled: its queued work is dropped.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as FrameworkError

from ..api import PER_TEXT
from ..errors import InputError, SettingsError, SummarizerError, first_line
from ..pipeline import EMPTY, TOO_LONG, Item
from .batcher import Batcher, Ticket, Unavailable
from .limits import BodyLimit, ServeLimits, send_error
from .metrics import Measured, Metrics

if TYPE_CHECKING:
    from ..api import Summarizer

ATTENTION_KEPT = 32  # attention views kept for the page to ask for other layers and heads
DOCUMENT_SHOWN = 2_000_000  # characters of the text as read a response carries back for the page
_UPLOAD_TYPES = {"text/plain", "text/markdown", "text/html", "application/xhtml+xml", "application/pdf",
                 "application/octet-stream"}


class SummarizeRequest(BaseModel):
    """One text (or, with --allow-urls, a URL) and any per-request generation settings; the
    settings default to the server's, which are the model's own unless the server set them."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(None, description="The text to summarize.")
    url: str | None = Field(None, description="An http(s) URL to fetch and summarize (servers started with --allow-urls).")
    max_length: int | None = None
    min_length: int | None = None
    num_beams: int | None = None
    temperature: float | None = None
    top_k: int | None = None
    top_p: float | None = None
    length_penalty: float | None = None
    no_repeat_ngram_size: int | None = None
    repetition_penalty: float | None = None
    early_stopping: bool | None = None
    seed: int | None = None
    strategy: Literal["map-reduce", "map", "truncate", "extract-then-abstract"] | None = None
    whole_sentences: bool | None = None
    chunk_max_length: int | None = None
    chunk_min_length: int | None = None
    max_words: int | None = Field(None, description="Most words in the summary (cut back to whole words).")
    min_words: int | None = None
    max_sentences: int | None = Field(None, description="Most sentences in the summary, never cut mid-sentence.")
    ratio: float | None = Field(None, description="A summary of about this share of the input's words.")
    target_language: str | None = Field(None, description="mBART: the language code to write in (default: the input's).")
    evidence: bool | None = Field(None, description="Each summary sentence's source sentences (default: the server's, on).")
    parts: bool = Field(False, description="Add the chunk summaries as `parts`.")
    document: bool = Field(False, description="Add the text as read (`document`: what the evidence's spans point into; "
                                              "up to 2 MB), as the web page shows it.")
    attention: bool = Field(False, description="Also compute the cross-attention view (`attention.id`).")

    def settings(self) -> dict[str, Any]:
        return {key: value for key, value in self.model_dump().items() if key in PER_TEXT and value is not None}

    @classmethod
    def setting_names(cls) -> list[str]:
        return sorted(name for name in cls.model_fields if name in PER_TEXT)


class CheckRequest(BaseModel):
    """A summary, written by anything, and the source it claims to summarize."""

    model_config = ConfigDict(extra="forbid")

    summary: str = Field(..., description="The summary to check.")
    source: str = Field(..., description="The document it summarizes.")


class HTTPError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.headers = status, headers


@dataclass
class _State:
    summarizer: "Summarizer"
    batcher: Batcher
    limits: ServeLimits
    attention: "OrderedDict[str, dict[str, Any]]"
    metrics: Metrics


def create_app(summarizer: "Summarizer", batcher: Batcher, limits: ServeLimits, metrics: Metrics) -> FastAPI:
    """The service over one open summarizer and its batcher; `limits` are fitted to its settings."""
    app = FastAPI(title="summarizer", version=_version(), summary="Summarize text with encoder-decoder models.")
    state = _State(summarizer, batcher, limits, OrderedDict(), metrics)
    app.add_middleware(BodyLimit, max_bytes=limits.max_body)  # the last added runs first
    if limits.api_key is not None:
        app.add_middleware(KeyRequired, key=limits.api_key)
    app.add_middleware(Measured, metrics=metrics)
    static = resources.files("summarizer.serve") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.exception_handler(HTTPError)
    async def _http_error(request: Request, exc: HTTPError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(FrameworkError)
    async def _framework_error(request: Request, exc: FrameworkError) -> JSONResponse:
        return JSONResponse({"error": _framework_line(request, exc)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": _validation_line(exc.errors())}, status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"error": f"internal error: {type(exc).__name__}: {first_line(exc)}"}, status_code=500)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse((static / "index.html").read_text(encoding="utf-8"))

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        """Whether the server can summarize (200 "ok"; 503 "stopping" or "down"), and how full
        the queue is."""
        load = {"load": batcher.load, "capacity": batcher.capacity}
        if not batcher.alive:
            return JSONResponse({"status": "down", "error": f"the model's thread stopped ({batcher.failure})", **load}, 503)
        if batcher.closed is not None:
            return JSONResponse({"status": "stopping", "error": batcher.closed, **load}, 503)
        return JSONResponse({"status": "ok", **load})

    @app.get("/metrics", include_in_schema=False)
    async def metrics_text() -> Response:
        """Prometheus' text format: requests, latency, queue, batches, tokens."""
        content, kind = metrics.render()
        return Response(content, media_type=kind)

    @app.get("/v1/model")
    async def model() -> dict[str, Any]:
        """The model, its family, the backend and device, and every default in force with its origin."""
        from ..settings_report import describe_settings

        return {**describe_settings(summarizer), "device": summarizer.device, "limits": limits.public()}

    @app.post("/v1/summarize", openapi_extra=_body_schema())
    async def summarize(request: Request) -> JSONResponse:
        """A text (JSON), or a file (multipart `file`: txt, md, pdf, html), with optional
        settings; returns the record `summarize --format json` prints."""
        body, document = await _parse(request, limits.max_body)
        return JSONResponse(await _summarize(state, request, body, document))

    @app.post("/v1/check")
    async def check(request: Request) -> dict[str, Any]:
        """The evidence in `source` for each sentence of `summary`: what `summarize check
        --format json` prints. No model runs: the check is text alignment, off the model's thread."""
        try:
            body = CheckRequest.model_validate(_json(await request.body() or b"null"))
        except ValidationError as exc:
            raise HTTPError(422, _validation_line(exc.errors())) from None
        from ..api import check as check_summary

        try:
            limits.check_length(len(body.source))
            evidence = await asyncio.to_thread(check_summary, body.summary, body.source)
        except SummarizerError as exc:
            raise HTTPError(422, str(exc)) from None
        return evidence.to_dict()

    @app.get("/v1/attention/{view}")
    async def attention(view: str, layer: int | None = None, head: int | None = None) -> dict[str, Any]:
        """One layer's (or the mean of all layers') cross-attention, one head's or the mean of
        all heads: a row per summary token, source weights scaled 0-255 to the row's largest."""
        return _attention_rows(state, view, layer, head)

    return app


async def _parse(request: Request, max_part: int) -> tuple[SummarizeRequest, Any]:
    """The typed request, and the uploaded document if a file came (multipart)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if kind == "multipart/form-data":
            try:  # a text field may be as long as the body may be (the framework's default: 1 MB)
                form = await request.form(max_part_size=max_part)
            except FrameworkError as exc:
                raise HTTPError(422, f"the body is not valid multipart/form-data ({exc.detail})") from None
            upload = form.get("file")
            fields = {key: value for key, value in form.items() if key != "file"}
            body = SummarizeRequest.model_validate(_form_values(fields))
            document = await _upload(upload) if upload is not None and not isinstance(upload, str) else None
            return body, document
        return SummarizeRequest.model_validate(_json(await request.body() or b"null")), None
    except ValidationError as exc:
        raise HTTPError(422, _validation_line(exc.errors())) from None


def _json(data: bytes | str) -> Any:
    """JSON, or a 422 that says why not: Python's parser raises RecursionError for nesting
    deeper than the interpreter's stack and ValueError for a number of over 4,300 digits."""
    try:
        return json.loads(data)
    except RecursionError:
        raise HTTPError(422, "the body is not valid JSON (nested too deeply)") from None
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise HTTPError(422, f"the body is not valid JSON ({first_line(exc)})") from None


def _form_values(fields: dict[str, Any]) -> dict[str, Any]:
    """Form fields are strings: JSON-decode the ones that look like numbers or booleans."""
    values: dict[str, Any] = {}
    for key, value in fields.items():
        try:
            values[key] = json.loads(value) if key not in ("text", "url", "strategy") else value
        except (TypeError, ValueError, RecursionError):
            values[key] = value
    return values


async def _upload(upload: Any):
    """The uploaded file as a Document (parsed off the event loop: a PDF takes a while)."""
    from ..readers import document_from_bytes

    name = upload.filename or "upload"
    data = await upload.read()
    kind = (upload.content_type or "application/octet-stream").split(";")[0].strip().lower()
    if kind not in _UPLOAD_TYPES:
        raise HTTPError(422, f"{name}: cannot summarize a {kind} upload; send text, Markdown, HTML or PDF")
    try:
        return await asyncio.to_thread(document_from_bytes, data, name, kind)
    except InputError as exc:
        raise HTTPError(422, f"{name}: {exc}") from None


async def _summarize(state: _State, request: Request, body: SummarizeRequest, document: Any) -> dict[str, Any]:
    summarizer, limits = state.summarizer, state.limits
    sources = [given for given in (body.text is not None, body.url is not None, document is not None) if given]
    if len(sources) != 1:
        raise HTTPError(422, "send exactly one of: text, url, or a file upload")
    try:
        settings = summarizer.per_text(**body.settings())
        limits.check(settings or summarizer.settings)
    except SettingsError as exc:
        raise HTTPError(422, str(exc)) from None
    if body.url is not None:
        document = await _fetched(body.url, state)
    text = body.text if document is None else document.blocks()
    if isinstance(text, str):
        if not text.strip():
            raise HTTPError(422, f"{'text' if document is None else document.source}: {EMPTY}")
        try:
            limits.check_length(len(text))
        except SettingsError as exc:
            raise HTTPError(422, str(exc)) from None
    item = Item("text" if document is None else document.source, text, settings, max_input_tokens=limits.max_input_tokens,
                max_new_tokens=limits.max_new_tokens, pages=() if document is None else document.pages)
    record = await _outcome(state, request, _submitted(state, item))
    state.metrics.summary(record)
    if record.error is not None:  # the input had nothing to summarize or too much (422), or it failed (500)
        status = 422 if record.error == EMPTY or record.error.startswith(TOO_LONG) else 500
        raise HTTPError(status, f"{record.source}: {record.error}")
    result = record.to_dict(parts=body.parts)
    if body.document:
        from ..characters import clean

        read = clean(body.text) if document is None else document.text
        result["document"] = read if len(read) <= DOCUMENT_SHOWN else None
    language = summarizer.language_warning(record.language)
    if language is not None:
        result["warning"] = "; ".join(filter(None, (result.get("warning"), language)))
    if body.attention:
        result["attention"] = await _attention_view(state, record)
    return result


def _submitted(state: _State, item: Item) -> Ticket:
    try:
        return state.batcher.submit(item)
    except Unavailable as exc:
        raise HTTPError(503, str(exc), headers={"Retry-After": str(state.limits.retry_after)}) from None


async def _outcome(state: _State, request: Request, ticket: Ticket) -> Any:
    """The request's record; or, when its client goes away or its timeout passes first, the
    request cancelled (its queued work is dropped) and the error said."""
    waiting = asyncio.wrap_future(ticket.future)
    waiting.add_done_callback(_retrieved)
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        done, _ = await asyncio.wait({waiting, gone}, timeout=state.limits.timeout, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:  # the server cancelled this handler (a shutdown past its grace)
        state.batcher.cancel(ticket)
        raise
    finally:
        gone.cancel()
    if waiting in done:
        try:
            return waiting.result()
        except Unavailable as exc:
            raise HTTPError(503, str(exc), headers={"Retry-After": str(state.limits.retry_after)}) from None
    state.batcher.cancel(ticket)
    if gone in done:  # nobody reads this answer; the status is for the log and the metrics
        raise HTTPError(499, "the client went away before its summary was made; its work was dropped")
    raise HTTPError(504, f"timed out after {state.limits.timeout:g} s; its work was dropped (send shorter texts "
                         "or ask the operator for a longer --timeout)")


async def _disconnected(request: Request) -> None:
    """Returns once the client has gone away (the body is read by now, so the next message
    the server hands over is the disconnect)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _retrieved(future: asyncio.Future) -> None:
    """Read a late outcome's exception, so asyncio does not log it as never retrieved."""
    if not future.cancelled():
        future.exception()


async def _fetched(url: str, state: _State) -> Any:
    if not state.limits.allow_urls:
        raise HTTPError(403, "URL inputs are off on this server: a server that fetches any URL it is given "
                             "can be made to reach internal hosts (start it with --allow-urls to allow them)")
    from ..readers import ReadError, ReadLimits, TooLarge, discover, read

    listing = discover([url])
    if listing.errors or not listing.sources or listing.sources[0].kind != "url":
        message = listing.errors[0].message if listing.errors else "not an http(s) URL"
        raise HTTPError(422, f"{url}: {message}")
    limits = ReadLimits(max_bytes=state.summarizer.settings.max_input_size)
    try:
        return await asyncio.to_thread(read, listing.sources[0], limits=limits)
    except TooLarge as exc:
        raise HTTPError(413, f"{url}: {exc}") from None
    except ReadError as exc:
        raise HTTPError(422, f"{url}: {exc}") from None


async def _attention_view(state: _State, record) -> dict[str, Any]:
    """Compute the record's attention on the model's thread; keep it for the page's questions."""
    try:
        view = await asyncio.wrap_future(state.batcher.call(lambda: state.summarizer.attention(record)))
    except (SummarizerError, ValueError) as exc:
        return {"error": str(exc)}
    key = secrets.token_urlsafe(8)
    state.attention[key] = view
    while len(state.attention) > ATTENTION_KEPT:
        state.attention.popitem(last=False)
    layers, heads = view["weights"].shape[:2]
    return {"id": key, "layers": layers, "heads": heads, "source_tokens": view["source_tokens"],
            "summary_tokens": view["summary_tokens"], "read": view["read"]}


def _attention_rows(state: _State, key: str, layer: int | None, head: int | None) -> dict[str, Any]:
    view = state.attention.get(key)
    if view is None:
        raise HTTPError(404, "no such attention view (views are kept for the last few summaries only)")
    weights = view["weights"]  # (layers, heads, summary, source)
    layers, heads = weights.shape[:2]
    if layer is not None and not 0 <= layer < layers:
        raise HTTPError(422, f"layer must be between 0 and {layers - 1}")
    if head is not None and not 0 <= head < heads:
        raise HTTPError(422, f"head must be between 0 and {heads - 1}")
    chosen = weights.mean(dim=0) if layer is None else weights[layer]
    chosen = chosen.mean(dim=0) if head is None else chosen[head]  # (summary, source)
    import torch

    peaks = chosen.max(dim=-1, keepdim=True).values.clamp(min=1e-12)
    scaled = (chosen / peaks * 255).round().to(dtype=torch.uint8)
    return {"layer": layer, "head": head, "rows": scaled.tolist(), "peaks": [round(float(p), 4) for p in peaks[:, 0]]}


def _framework_line(request: Request, exc: FrameworkError) -> str:
    """The framework's own errors (no such route, a method the route does not take) worded
    like the API's."""
    where = f"{request.method} {_shown(request.url.path)}"
    if exc.status_code == 404:
        return f"no such route: {where} (the API is POST /v1/summarize, POST /v1/check, GET /v1/model, GET /healthz; see /docs)"
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        return f"method not allowed: {where}" + (f" (it takes {allowed})" if allowed else "")
    return first_line(Exception(exc.detail)) if exc.detail else f"HTTP {exc.status_code}"


def _shown(path: str) -> str:
    return path if len(path) <= 80 else path[:80] + "..."


class KeyRequired:
    """ASGI middleware: /v1/* needs `Authorization: Bearer KEY` (401 otherwise). The key is
    compared in constant time, so its bytes cannot be found one by one from response times."""

    def __init__(self, app, key: str):
        self.app = app
        self.key = key.encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].startswith("/v1/"):
            scheme, _, given = dict(scope["headers"]).get(b"authorization", b"").strip().partition(b" ")
            if scheme.lower() != b"bearer" or not secrets.compare_digest(given.strip(), self.key):
                message = ("this server needs an API key: send 'Authorization: Bearer KEY'" if not scheme
                           else "the API key was not accepted")
                return await send_error(send, 401, message, [(b"www-authenticate", b'Bearer realm="summarizer"')])
        await self.app(scope, receive, send)


def _validation_line(errors: list[dict[str, Any]]) -> str:
    """Pydantic's first complaint, as the CLI would word it: the field, then what is wrong."""
    if not errors:
        return "invalid request"
    first = errors[0]
    field = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")) or "request"
    if first.get("type") == "extra_forbidden":
        return (f"{field}: not a per-request setting (requests may set {', '.join(SummarizeRequest.setting_names())}; "
                "the model, backend and device are the server's)")
    if first.get("type") in ("model_type", "model_attributes_type"):
        return "the body must be a JSON object such as {\"text\": \"...\"}"
    return f"{field}: {first.get('msg', 'invalid')}"


def _body_schema() -> dict[str, Any]:
    schema = SummarizeRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": schema},
        "multipart/form-data": {"schema": {"type": "object", "properties": {
            "file": {"type": "string", "format": "binary"}, **schema.get("properties", {})}}},
    }}}


def _version() -> str:
    from .. import __version__

    return __version__

