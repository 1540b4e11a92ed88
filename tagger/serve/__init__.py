"""``tagger serve``: an HTTP service (FastAPI + uvicorn, the optional ``[serve]`` extra) around :class:`Tagger`.

``create_app(tagger_or_model_dir, **options)`` returns the FastAPI application (mount it in yours, or run it
with any ASGI server); :func:`serve` is what the command line runs. FastAPI is imported only here, when the
service is used: the core install does not need it.

Endpoints: ``POST /v1/tag``, ``GET /v1/model``, ``GET /health``, ``GET /ready``, ``GET /metrics`` and the page at
``/`` (see :mod:`tagger.serve.app`); batching in :mod:`tagger.serve.batcher`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from tagger.errors import TaggerError

if TYPE_CHECKING:
    from tagger.predict import Tagger

__all__ = ["create_app", "require_serve_extra", "serve"]


def require_serve_extra() -> None:
    """A clear error when FastAPI / uvicorn are not installed."""
    missing = []
    for module in ("fastapi", "uvicorn"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise TaggerError(f"serving needs {' and '.join(missing)}, which are not installed: "
                          "pip install 'arabic-tagger[serve]'")


def create_app(tagger_or_model_dir: Tagger | str | os.PathLike, **options: Any):
    """The FastAPI app serving a :class:`Tagger` (or a model directory, loaded in the background at startup:
    ``/ready`` answers 503 until it is loaded). ``options``: the fields of :class:`tagger.serve.app.ServeOptions`."""
    require_serve_extra()
    from tagger.serve.app import create_app as _create_app

    return _create_app(tagger_or_model_dir, **options)


def serve(model_dir: str | os.PathLike, host: str = "127.0.0.1", port: int = 8000, **options: Any) -> int:
    """Load the model (before the port is bound: a bad model directory is an error, no server starts), then run
    uvicorn until SIGINT/SIGTERM; in-flight requests finish before it exits."""
    require_serve_extra()
    import uvicorn

    from tagger.predict import Tagger
    from tagger.serve.app import ServeOptions

    opts = ServeOptions(**options)
    tagger = Tagger.from_pretrained(model_dir, device=opts.device)
    app = create_app(tagger, **options)
    mode = (f"batching up to {opts.max_batch_texts} texts / {opts.max_wait_ms:g} ms" if opts.batching
            else "no batching")
    print(f"tagger serve: {model_dir} on http://{host}:{port}/ ({mode}); Ctrl-C or SIGTERM stops it", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=None)
    return 0
