"""Micro-batching: concurrent requests are queued and merged into one ``Tagger.predict_documents`` call.

One asyncio task takes the oldest waiting request, then keeps taking requests until the batch holds
``max_batch_texts`` texts or ``max_wait_ms`` have passed since that first request was taken (a request is never
split: one with more texts than the bound forms a batch alone). The batch runs in a single worker thread (torch /
onnxruntime inference never blocks the event loop, and one model call runs at a time), and each request gets its
own slice of the predictions back. While a batch runs, new requests queue up and form the next one.

Per-call thresholds are applied after scoring (:func:`apply_thresholds`), so requests with different thresholds
still share one forward pass. With ``batching=False`` every request is its own model call (the load-test
comparison). :meth:`Batcher.close` stops taking new work and waits until every queued request has its answer.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from tagger.errors import TaggerError
from tagger.schema import Document, Prediction


@dataclass
class _Item:
    docs: list[Document]
    future: asyncio.Future = field(repr=False)


class Batcher:
    """Queue + one worker thread. ``await batcher.submit(docs)`` -> predictions in input order."""

    def __init__(self, predict: Callable[[list[Document]], list[Prediction]], *, max_batch_texts: int = 64,
                 max_wait_ms: float = 5.0, batching: bool = True,
                 on_batch: Callable[[int, int], None] | None = None) -> None:
        self.predict = predict
        self.max_batch_texts = max(1, int(max_batch_texts))
        self.max_wait = max(0.0, float(max_wait_ms)) / 1000.0
        self.batching = batching
        self.on_batch = on_batch or (lambda texts, requests: None)
        self._queue: deque[_Item] = deque()
        self._wakeup: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._closing = False

    @property
    def depth(self) -> int:
        """Texts waiting (not yet in a model call)."""
        return sum(len(item.docs) for item in self._queue)

    @property
    def accepting(self) -> bool:
        return self._task is not None and not self._closing

    def start(self) -> None:
        self._wakeup = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tagger-infer")
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="tagger-batcher")

    async def submit(self, docs: Sequence[Document]) -> list[Prediction]:
        if self._task is None or self._closing:
            raise TaggerError("the server is shutting down")  # answered as 503
        future = asyncio.get_running_loop().create_future()
        self._queue.append(_Item(list(docs), future))
        assert self._wakeup is not None
        self._wakeup.set()
        return await future  # cancelled by a request timeout: the batcher then skips the item

    async def close(self) -> None:
        """Answer every queued request, then stop the loop and the worker thread."""
        self._closing = True
        if self._wakeup is not None:
            self._wakeup.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    # ------------------------------------------------------------------ internals
    async def _loop(self) -> None:
        assert self._wakeup is not None
        while True:
            if not self._queue:
                if self._closing:
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            batch = await self._collect()
            if batch:
                await self._run(batch)

    async def _collect(self) -> list[_Item]:
        batch: list[_Item] = []
        texts = 0
        deadline = time.monotonic() + self.max_wait
        assert self._wakeup is not None
        while True:
            while self._queue:
                item = self._queue[0]
                if item.future.done():  # timed out or its client went away while it waited
                    self._queue.popleft()
                    continue
                if batch and (not self.batching or texts + len(item.docs) > self.max_batch_texts):
                    return batch
                batch.append(self._queue.popleft())
                texts += len(item.docs)
            left = deadline - time.monotonic()
            if not batch and not self._queue:
                return batch
            if not self.batching or texts >= self.max_batch_texts or left <= 0 or self._closing:
                return batch
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout=left)
            except asyncio.TimeoutError:
                return batch

    async def _run(self, batch: list[_Item]) -> None:
        docs = [doc for item in batch for doc in item.docs]
        self.on_batch(len(docs), len(batch))
        loop = asyncio.get_running_loop()
        try:
            preds = await loop.run_in_executor(self._executor, self.predict, docs)
        except Exception as err:  # one failing batch fails its requests, never the loop
            for item in batch:
                if not item.future.done():
                    item.future.set_exception(err)
            return
        pos = 0
        for item in batch:
            part = preds[pos : pos + len(item.docs)]
            pos += len(item.docs)
            if not item.future.done():
                item.future.set_result(part)


def apply_thresholds(preds: Sequence[Prediction], block: Any, override: Mapping[str, float] | None) -> list[Prediction]:
    """The topic decisions of ``Tagger.predict(texts, thresholds=override)``, from predictions scored with the
    saved thresholds: the scores go through :func:`tagger.tasks.topics.topic_predictions` again with ``override``
    (``block``: the topic head's settings; None for a model without topics)."""
    if not override or block is None or not preds:
        return list(preds)
    import numpy as np

    from tagger.tasks.topics import topic_predictions

    labels = list(block.labels)
    scores = np.array([[p.topics.scores[lab] for lab in labels] for p in preds], dtype=np.float64)
    topics = topic_predictions(block, [Document(text=p.text) for p in preds], scores, dict(override))
    return [Prediction(p.text, p.entities, t) for p, t in zip(preds, topics)]
