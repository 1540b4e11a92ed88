"""The FastAPI application of ``tagger serve``.

``POST /v1/tag``  ``{"texts": [...]}`` or ``{"documents": [{"id"?, "text"}]}``, optional ``"thresholds":
                  {label: value}`` -> ``{"results": [...]}``, one object per input, in order: exactly the records
                  ``tagger predict`` writes (``"id"`` first when the document has one, then ``text``,
                  ``entities``, ``topics``, ``topic_scores``).
``GET /v1/model`` the model's entity labels, topic labels and saved thresholds, and the service limits.
``GET /health``   200 while the process serves; ``GET /ready`` 200 once the model is loaded, else 503.
``GET /metrics``  Prometheus text format (:mod:`tagger.serve.metrics`).
``GET /``         a self-contained page: paste text, see entities and topics (:mod:`tagger.serve.page`).

Errors are JSON ``{"error": message, ...}``: 413 over ``max_texts`` / ``max_chars`` (with ``limit``, ``max`` and
the offending ``index``), 422 for a malformed body (with ``field``), 503 while not ready or shutting down, 504
past ``timeout_s``, 500 for a failure inside the model call.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tagger.schema import Document
from tagger.serve.batcher import Batcher, apply_thresholds
from tagger.serve.metrics import Metrics
from tagger.serve.page import PAGE

log = logging.getLogger("tagger.serve")
PATHS = ("/", "/v1/tag", "/v1/model", "/health", "/ready", "/metrics")


@dataclass(frozen=True)
class ServeOptions:
    """Service settings (``tagger serve --help`` names them the same, with dashes)."""

    max_wait_ms: float = 5.0  # how long the first queued request waits for others to join its batch
    max_batch_texts: int = 64  # texts per model call (a larger single request still runs, alone)
    max_texts: int = 256  # texts per request, else 413
    max_chars: int = 100_000  # characters per text, else 413
    timeout_s: float = 60.0  # per request, queueing included, else 504
    batching: bool = True  # False: one request per model call
    device: str | None = None  # used when a model directory is given


class DocumentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | int | None = None
    text: str


class TagRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    texts: list[str] | None = None
    documents: list[DocumentIn] | None = None
    thresholds: dict[str, Annotated[float, Field(ge=0.0, le=1.0)]] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> TagRequest:
        if (self.texts is None) == (self.documents is None):
            raise ValueError('give exactly one of "texts" (a list of strings) or "documents" (a list of {"id", "text"})')
        return self


class _State:
    def __init__(self, tagger: Any, opts: ServeOptions) -> None:
        self.tagger = tagger
        self.opts = opts
        self.load_error: str | None = None
        self.metrics = Metrics()
        self.batcher = Batcher(self._predict, max_batch_texts=opts.max_batch_texts, max_wait_ms=opts.max_wait_ms,
                               batching=opts.batching, on_batch=self.metrics.batch)
        self.metrics.queue_depth = lambda: self.batcher.depth

    def _predict(self, docs: list[Document]):
        return self.tagger.predict_documents(docs)

    @property
    def ready(self) -> bool:
        return self.tagger is not None and not isinstance(self.tagger, (str, os.PathLike))


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _field(loc: tuple | list) -> str:
    """``("body", "texts", 3)`` -> ``texts[3]``."""
    out = ""
    for part in loc[1:] if loc and loc[0] == "body" else loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def create_app(tagger_or_model_dir: Any, **options: Any) -> FastAPI:
    """See :func:`tagger.serve.create_app`."""
    opts = ServeOptions(**options)
    state = _State(tagger_or_model_dir, opts)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        state.batcher.start()
        loader = None
        if not state.ready:
            loader = asyncio.create_task(_load(state))
        try:
            yield
        finally:
            if loader is not None and not loader.done():
                loader.cancel()
            await state.batcher.close()  # uvicorn has let in-flight requests finish; answer what is still queued

    app = FastAPI(title="arabic-tagger", lifespan=lifespan, docs_url="/docs", redoc_url=None,
                  **_lenient_content_type())
    app.state.tagger_state = state

    app.add_middleware(_CountRequests, metrics=state.metrics)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request body"}
        if first.get("type") == "json_invalid":
            return _error(422, f"body: not valid JSON ({first.get('ctx', {}).get('error', 'decode error')} at "
                               f"character {first.get('loc', ('body', '?'))[-1]})", field="body")
        where = _field(first.get("loc", ("body",)))
        return _error(422, f"{where}: {first.get('msg', 'invalid')}", field=where,
                      detail=[{"field": _field(e.get("loc", ())), "message": e.get("msg", "")} for e in errors])

    @app.post("/v1/tag")
    async def tag(body: TagRequest) -> Response:
        if not state.ready:
            return _error(503, state.load_error or "the model is still loading; see GET /ready")
        ids: list[tuple[bool, Any]]
        if body.texts is not None:
            texts, ids = body.texts, [(False, None)] * len(body.texts)
        else:
            docs_in = body.documents or []
            texts = [d.text for d in docs_in]
            ids = [("id" in d.model_fields_set, d.id) for d in docs_in]
        if len(texts) > opts.max_texts:
            return _error(413, f"too many texts: {len(texts)} in one request, the limit (max_texts) is "
                               f"{opts.max_texts}; texts[{opts.max_texts}] is the first over it; split the request",
                          limit="max_texts", max=opts.max_texts, index=opts.max_texts, count=len(texts))
        for i, text in enumerate(texts):
            if len(text) > opts.max_chars:
                return _error(413, f"texts[{i}] has {len(text)} characters, the limit (max_chars) is "
                                   f"{opts.max_chars}; split the text", limit="max_chars", max=opts.max_chars,
                              index=i, count=len(text))
        labels = state.tagger.topic_labels
        if body.thresholds:
            unknown = sorted(set(body.thresholds) - set(labels))
            if unknown:
                return _error(422, f"thresholds.{unknown[0]}: not a topic label of this model (unknown: {unknown}); "
                                   f"its topic labels are {labels}", field=f"thresholds.{unknown[0]}")
        try:
            preds = await asyncio.wait_for(state.batcher.submit([Document(text=t) for t in texts]), opts.timeout_s)
        except asyncio.TimeoutError:
            return _error(504, f"not answered within timeout_s={opts.timeout_s:g} s; retry, or send fewer texts",
                          limit="timeout_s", max=opts.timeout_s)
        except Exception as err:  # a failure inside the model call (the batcher keeps running)
            if not state.batcher.accepting:
                return _error(503, "the server is shutting down")
            log.exception("tagging failed")
            return _error(500, f"tagging failed: {type(err).__name__}: {err}")
        topics = state.tagger.topics
        preds = apply_thresholds(preds, topics.block if topics else None, body.thresholds)
        results = []
        for (has_id, doc_id), pred in zip(ids, preds):
            record: dict[str, Any] = {"id": doc_id} if has_id else {}
            record.update(pred.to_dict())
            results.append(record)
        return JSONResponse({"results": results})

    @app.get("/v1/model")
    async def model() -> Response:
        if not state.ready:
            return _error(503, state.load_error or "the model is still loading; see GET /ready")
        t = state.tagger
        return JSONResponse({"ner_labels": t.ner_labels, "topic_labels": t.topic_labels, "thresholds": t.thresholds,
                             "limits": {k: v for k, v in asdict(opts).items() if k != "device"}})

    @app.get("/health")
    async def health() -> Response:
        return JSONResponse({"status": "alive"})

    @app.get("/ready")
    async def ready() -> Response:
        if state.ready and state.batcher.accepting:
            return JSONResponse({"status": "ready"})
        reason = state.load_error or ("shutting down" if state.ready else "loading the model")
        return JSONResponse({"status": "not ready", "reason": reason}, status_code=503)

    @app.get("/metrics")
    async def metrics() -> Response:
        return PlainTextResponse(state.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.get("/")
    async def page() -> Response:
        return HTMLResponse(PAGE)

    return app


class _CountRequests:
    """Requests, status codes and latency into :class:`Metrics`: a plain ASGI middleware (Starlette's
    ``@app.middleware("http")`` wraps every request in extra tasks and streams, a cost paid on the CPU that
    inference needs)."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def send_status(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            path = scope["path"] if scope["path"] in PATHS else "other"
            self.metrics.request(scope["method"], path, status, time.perf_counter() - started)


def _lenient_content_type() -> dict[str, Any]:
    """Parse a JSON body sent without ``Content-Type: application/json`` (``curl -d``) where FastAPI can."""
    import inspect

    return {"strict_content_type": False} if "strict_content_type" in inspect.signature(FastAPI).parameters else {}


async def _load(state: _State) -> None:
    from tagger.predict import Tagger

    path = Path(state.tagger)
    try:
        state.tagger = await asyncio.to_thread(Tagger.from_pretrained, path, device=state.opts.device)
    except Exception as err:  # reported by /ready (and 503 on /v1/tag)
        state.load_error = f"the model could not be loaded: {err}"
        log.error(state.load_error)
