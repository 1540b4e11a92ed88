"""``Tagger``: the one inference path (also used for dev evaluation during training and by reports).

Texts are pre-tokenised and normalised with the saved settings, tokenised in one batched call, cut into
windows, run length-sorted in batches under ``torch.inference_mode``, merged back per word / pooled per
document, decoded with IOB2 constraints and mapped to offsets in the ORIGINAL strings.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from tagger.align import EncodedDoc, Window, encode_documents, make_windows
from tagger.backends import CPU_BATCH_TOKENS, Head, load_heads
from tagger.backends.pytorch import TorchRunner
from tagger.errors import ModelLoadError
from tagger.schema import Document, Entity, Prediction, TopicPrediction
from tagger.tasks.ner import decode_entities
from tagger.tasks.topics import document_topic_scores, topic_predictions, topic_windows

__all__ = ["Head", "Tagger", "TorchRunner", "topic_windows"]

logger = logging.getLogger(__name__)


class Tagger:
    """Arabic NER and/or topic tagger. ``Tagger.from_pretrained(dir).predict(texts)``."""

    def __init__(
        self,
        ner: Head | None = None,
        topics: Head | None = None,
        batch_size: int = 64,
        max_batch_tokens: int | None = None,
    ) -> None:
        if ner is None and topics is None:
            raise ValueError("a Tagger needs an NER head, a topic head or both")
        self.ner, self.topics = ner, topics
        self.batch_size = batch_size
        self.max_batch_tokens = max_batch_tokens

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_pretrained(
        cls, path: str | os.PathLike, device: str | None = None, precision: str = "auto",
        threads: int | None = None, **kwargs
    ) -> Tagger:
        """Load a model directory saved by this library, or a folder holding ``ner/`` and/or ``topics/`` ones.

        A directory written by ``tagger export --onnx`` runs on onnxruntime (``threads``: its intra-op threads);
        otherwise torch with ``precision`` (see :class:`TorchRunner`: ``auto`` = bf16 autocast on CUDA, fp32 on
        CPU; ``bf16`` also on CPU).
        """
        root = Path(path)
        if not root.is_dir():
            raise ModelLoadError(f"{root}: no such model directory")
        if (root / "config.json").is_file():
            return cls(**load_heads(root, device, precision, threads), **kwargs)
        heads = {}
        for name in ("ner", "topics"):
            if (root / name).is_dir():
                part = load_heads(root / name, device, precision, threads)
                if set(part) != {name}:
                    raise ModelLoadError(f"{root / name}: holds a model with {sorted(part)} outputs, expected {name!r} alone")
                heads[name] = part[name]
        if not heads:
            raise ModelLoadError(
                f"{root}: neither a model directory (config.json) nor a bundle with ner/ or topics/ subdirectories"
            )
        return cls(**heads, **kwargs)

    @property
    def has_ner(self) -> bool:
        return self.ner is not None

    @property
    def has_topics(self) -> bool:
        return self.topics is not None

    @property
    def ner_labels(self) -> list[str]:
        return sorted({t[2:] for t in self.ner.tags if t != "O"}) if self.ner else []

    @property
    def topic_labels(self) -> list[str]:
        return list(self.topics.block.labels) if self.topics else []

    @property
    def thresholds(self) -> dict[str, float]:
        return dict(self.topics.block.thresholds) if self.topics else {}

    # ------------------------------------------------------------------ public API
    def predict(self, texts: Iterable[str], thresholds: dict[str, float] | None = None) -> list[Prediction]:
        """Entities (and topics) for each text, in input order. ``texts``: any iterable of str (a list, a
        generator, ...); it is read once, into a list, before anything runs."""
        texts = _check_texts(texts)
        return self.predict_documents([Document(text=t) for t in texts], thresholds=thresholds)

    def predict_one(self, text: str, thresholds: dict[str, float] | None = None) -> Prediction:
        if not isinstance(text, str):
            raise TypeError(f"predict_one expects a str, got {type(text).__name__}; use predict(texts) for many")
        return self.predict([text], thresholds=thresholds)[0]

    def predict_documents(self, docs: Sequence[Document], thresholds: dict[str, float] | None = None) -> list[Prediction]:
        """Like :meth:`predict` for :class:`Document` objects; pre-split ``words`` (CoNLL tokens) are kept."""
        names = [name for name, head in (("ner", self.ner), ("topics", self.topics)) if head is not None]
        runs = self._outputs(docs, names)
        entities: list[tuple[Entity, ...]] = [() for _ in docs]
        topics: list[TopicPrediction | None] = [None] * len(docs)
        if self.ner:
            entities = decode_entities(self.ner, docs, *runs["ner"])
        if self.topics:
            scores = document_topic_scores(self.topics, docs, *runs["topics"][1:])
            topics = topic_predictions(self.topics.block, docs, scores, thresholds)  # type: ignore[assignment]
        return [Prediction(d.text, e, t) for d, e, t in zip(docs, entities, topics)]

    def topic_scores(self, texts: Iterable[str]) -> np.ndarray:
        """Raw document scores ``[n_texts, n_labels]`` (label order: :attr:`topic_labels`); ``texts`` as in
        :meth:`predict`."""
        texts = _check_texts(texts)
        if not self.topics:
            raise ValueError("this model has no topic head")
        return self._topic_scores([Document(text=t) for t in texts])

    def tag_dataset(self, data, text_column: str = "text", batch_size: int = 256, **kwargs):
        """A Hugging Face dataset with ``entities``/``topics``/``topic_scores`` columns added by ``Dataset.map``
        (batched; the model loaded once). Arguments: :func:`tagger.integrations.hf_datasets.tag_dataset`."""
        from tagger.integrations.hf_datasets import tag_dataset

        return tag_dataset(self, data, text_column=text_column, batch_size=batch_size, **kwargs)

    # ------------------------------------------------------------------ internals
    def _windows(self, name: str, encoded: list[EncodedDoc]) -> list[Window]:
        head = self.topics if name == "topics" else self.ner
        assert head is not None
        if name == "topics":
            windows = topic_windows(encoded, head.block)
        else:
            windows = [w for i, enc in enumerate(encoded) for w in make_windows(enc, i, head.block.max_length, head.block.stride)]
        return [w for w in windows if w.end > w.start]

    def _outputs(
        self, docs: Sequence[Document], names: list[str]
    ) -> dict[str, tuple[list[EncodedDoc], list[Window], list[np.ndarray]]]:
        """``{output: (encoded documents, windows, one output per window)}``. Heads of one model (joint) that
        score the same windows share one forward pass per window."""
        heads = {name: self.ner if name == "ner" else self.topics for name in names}
        result: dict[str, tuple[list[EncodedDoc], list[Window], list[np.ndarray]]] = {}
        done: dict[int, tuple[list[EncodedDoc], list[Window], list[dict[str, np.ndarray]]]] = {}
        for name, head in heads.items():
            assert head is not None
            shared = done.get(id(head.runner))
            encoded = shared[0] if shared else encode_documents(head.tokenizer, docs, head.norm)
            windows = self._windows(name, encoded)
            if shared is None or [(w.doc, w.start, w.end) for w in shared[1]] != [(w.doc, w.start, w.end) for w in windows]:
                shared = (encoded, *self._run(head, encoded, windows))
                done[id(head.runner)] = shared
            result[name] = (shared[0], shared[1], [out[name] for out in shared[2]])
        return result

    def _run(
        self, head: Head, encoded: list[EncodedDoc], windows: list[Window]
    ) -> tuple[list[Window], list[dict[str, np.ndarray]]]:
        """All windows of all documents through the head's model, length-sorted; its outputs in window order
        (token outputs cut to the window's sub-tokens)."""
        outputs: list[dict[str, np.ndarray]] = [{} for _ in windows]
        order = sorted(range(len(windows)), key=lambda j: windows[j].end - windows[j].start, reverse=True)
        tok = head.tokenizer
        cls_id, sep_id, pad_id = tok.cls_token_id, tok.sep_token_id, tok.pad_token_id or 0
        budget = self.max_batch_tokens or getattr(head.runner, "max_batch_tokens", CPU_BATCH_TOKENS)
        pos = 0
        while pos < len(order):
            longest = windows[order[pos]].end - windows[order[pos]].start + 2
            size = max(1, min(self.batch_size, budget // longest))
            batch = order[pos : pos + size]
            pos += size
            ids = np.full((len(batch), longest), pad_id, dtype=np.int64)
            mask = np.zeros((len(batch), longest), dtype=np.int64)
            for r, j in enumerate(batch):
                w = windows[j]
                seq = [cls_id, *encoded[w.doc].input_ids[w.start : w.end], sep_id]
                ids[r, : len(seq)] = seq
                mask[r, : len(seq)] = 1
            raw = head.runner(ids, mask)
            named = raw if isinstance(raw, Mapping) else {head.output: raw}
            for r, j in enumerate(batch):
                w = windows[j]
                outputs[j] = {k: v[r, 1 : w.end - w.start + 1] if v.ndim == 3 else v[r] for k, v in named.items()}
        return windows, outputs

    def _topic_scores(self, docs: Sequence[Document]) -> np.ndarray:
        assert self.topics is not None
        _, windows, outputs = self._outputs(docs, ["topics"])["topics"]
        return document_topic_scores(self.topics, docs, windows, outputs)


def _check_texts(texts: Iterable[str]) -> list[str]:
    """``texts`` read once into a list (a generator works too); TypeError naming the first non-str item."""
    if isinstance(texts, str):
        raise TypeError("predict expects a list of texts, got a single str; use predict_one(text) or predict([text])")
    if isinstance(texts, (bytes, bytearray, memoryview)):
        raise TypeError(f"predict expects an iterable of str, got {type(texts).__name__}; decode it first")
    try:
        items = iter(texts)
    except TypeError:
        raise TypeError(f"predict expects an iterable of str, got {type(texts).__name__}") from None
    out = list(items)
    for i, t in enumerate(out):
        if not isinstance(t, str):
            hint = "; use predict_documents for Document objects" if isinstance(t, Document) else ""
            raise TypeError(f"texts[{i}] is {type(t).__name__}, expected str{hint}")
    return out
