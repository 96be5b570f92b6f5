"""The HTTP service: typed requests in, the CLI's JSON records out, every error one line.

Handlers only translate: a request becomes an `Item` for the shared `Batcher`, a record becomes
the same JSON `summarize --format json` prints, and each of the API's errors a status (422
settings or input, 403 a URL without --allow-urls, 413 a body over the limit, 503 a full queue,
504 a request past its timeout). No traceback ever reaches a response.
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
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..api import PER_TEXT
from ..errors import InputError, SettingsError, SummarizerError, first_line
from ..pipeline import Item
from .batcher import Batcher, QueueFull
from .limits import BodyLimit, ServeLimits

if TYPE_CHECKING:
    from ..api import Summarizer

ATTENTION_KEPT = 32  # attention views kept for the page to ask for other layers and heads
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
    parts: bool = Field(False, description="Add the chunk summaries as `parts`.")
    attention: bool = Field(False, description="Also compute the cross-attention view (`attention.id`).")

    def settings(self) -> dict[str, Any]:
        return {key: value for key, value in self.model_dump().items() if key in PER_TEXT and value is not None}

    @classmethod
    def setting_names(cls) -> list[str]:
        return sorted(name for name in cls.model_fields if name in PER_TEXT)


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


def create_app(summarizer: "Summarizer", batcher: Batcher, limits: ServeLimits) -> FastAPI:
    """The service over one open summarizer and its batcher."""
    app = FastAPI(title="summarizer", version=_version(), summary="Summarize text with encoder-decoder models.")
    state = _State(summarizer, batcher, limits, OrderedDict())
    app.add_middleware(BodyLimit, max_bytes=limits.max_body)
    static = resources.files("summarizer.serve") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")

    @app.exception_handler(HTTPError)
    async def _http_error(request: Request, exc: HTTPError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=exc.status, headers=exc.headers)

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
    async def healthz() -> dict[str, Any]:
        """Up, and how full the queue is."""
        return {"status": "ok", "load": batcher.load, "capacity": batcher.capacity}

    @app.get("/v1/model")
    async def model() -> dict[str, Any]:
        """The model, its family, the backend and device, and every default in force with its origin."""
        from ..settings_report import describe_settings

        return {**describe_settings(summarizer), "device": summarizer.device, "limits": limits.public()}

    @app.post("/v1/summarize", openapi_extra=_body_schema())
    async def summarize(request: Request) -> JSONResponse:
        """A text (JSON), or a file (multipart `file`: txt, md, pdf, html), with optional
        settings; returns the record `summarize --format json` prints."""
        body, document = await _parse(request)
        return JSONResponse(await _summarize(state, body, document))

    @app.get("/v1/attention/{view}")
    async def attention(view: str, layer: int | None = None, head: int | None = None) -> dict[str, Any]:
        """One layer's (or the mean of all layers') cross-attention, one head's or the mean of
        all heads: a row per summary token, source weights scaled 0-255 to the row's largest."""
        return _attention_rows(state, view, layer, head)

    return app


async def _parse(request: Request) -> tuple[SummarizeRequest, Any]:
    """The typed request, and the uploaded document if a file came (multipart)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if kind == "multipart/form-data":
            form = await request.form()
            upload = form.get("file")
            fields = {key: value for key, value in form.items() if key != "file"}
            body = SummarizeRequest.model_validate(_form_values(fields))
            document = await _upload(upload) if upload is not None and not isinstance(upload, str) else None
            return body, document
        try:
            data = json.loads(await request.body() or b"null")
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise HTTPError(422, f"the body is not valid JSON ({exc})") from None
        return SummarizeRequest.model_validate(data), None
    except ValidationError as exc:
        raise HTTPError(422, _validation_line(exc.errors())) from None


def _form_values(fields: dict[str, Any]) -> dict[str, Any]:
    """Form fields are strings: JSON-decode the ones that look like numbers or booleans."""
    values: dict[str, Any] = {}
    for key, value in fields.items():
        try:
            values[key] = json.loads(value) if key not in ("text", "url", "strategy") else value
        except (TypeError, json.JSONDecodeError):
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


async def _summarize(state: _State, body: SummarizeRequest, document: Any) -> dict[str, Any]:
    summarizer, batcher = state.summarizer, state.batcher
    sources = [given for given in (body.text is not None, body.url is not None, document is not None) if given]
    if len(sources) != 1:
        raise HTTPError(422, "send exactly one of: text, url, or a file upload")
    try:
        settings = summarizer.per_text(**body.settings())
    except SettingsError as exc:
        raise HTTPError(422, str(exc)) from None
    if body.url is not None:
        document = await _fetched(body.url, state)
    if document is None:
        if not body.text.strip():
            raise HTTPError(422, "text: empty input, nothing to summarize")
        item = Item("text", body.text, settings)
    else:
        item = Item(document.source, document.blocks(), settings)
    try:
        future = batcher.submit(item)
    except QueueFull as exc:
        raise HTTPError(503, str(exc), headers={"Retry-After": str(state.limits.retry_after)}) from None
    try:
        record = await asyncio.wait_for(asyncio.wrap_future(future), timeout=state.limits.timeout)
    except asyncio.TimeoutError:
        raise HTTPError(504, f"timed out after {state.limits.timeout:g} s (the summary is still being made; "
                             "send shorter texts or ask the operator for a longer --timeout)") from None
    if record.error is not None:  # the model failed (500), or the input had nothing to summarize (422)
        raise HTTPError(500 if record.error.startswith("generation failed") else 422, f"{record.source}: {record.error}")
    result = record.to_dict(parts=body.parts)
    if body.attention:
        result["attention"] = await _attention_view(state, record)
    return result


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


def _validation_line(errors: list[dict[str, Any]]) -> str:
    """Pydantic's first complaint, as the CLI would word it: the field, then what is wrong."""
    if not errors:
        return "invalid request"
    first = errors[0]
    field = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body",)) or "request"
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

