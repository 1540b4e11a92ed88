"""``Tagger``: the one inference path (also used for dev evaluation during training and by reports).

Texts are pre-tokenised and normalised with the saved settings, tokenised in one batched call, cut into
windows, run length-sorted in batches under ``torch.inference_mode``, merged back per word / pooled per
document, decoded with IOB2 constraints and mapped to offsets in the ORIGINAL strings.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tagger import console
from tagger.align import EncodedDoc, Window, encode_documents, make_windows
from tagger.arabic import CLITIC_OR_CHANGED, clitic_length, leading_titles
from tagger.consistency import propagate_entities
from tagger.decode import (
    allowed_transitions,
    log_softmax,
    merge_windows,
    pool_scores,
    tag_spans,
    viterbi_iob2_many,
)
from tagger.model import ModelLoadError, TaggerBlock, load_tokenizer, load_trained_model, read_block
from tagger.schema import Document, Entity, Prediction, TopicPrediction
from tagger.text import normalize

logger = logging.getLogger(__name__)

# (input_ids [B, T] int64, attention_mask [B, T] int64) -> logits [B, T, L] (ner) or [B, L] (topics), float32
Runner = Callable[[np.ndarray, np.ndarray], np.ndarray]


CPU_BATCH_TOKENS = 512
GPU_BATCH_TOKENS = 16384
PRECISIONS = ("auto", "fp32", "bf16")


class TorchRunner:
    """Runs a transformers model under ``torch.inference_mode``.

    ``precision``: ``"auto"`` (default) = bf16 autocast on CUDA (fp16 where bf16 is unsupported), fp32 on CPU;
    ``"fp32"`` = never autocast; ``"bf16"`` = bf16 autocast on CPU too (fast on CPUs with AMX / AVX512-BF16,
    e.g. Xeon Sapphire Rapids; decisions can differ from fp32 in rare near-ties -- measure on your dev set).
    """

    def __init__(self, model, device: str | None = None, autocast: bool = True, precision: str = "auto") -> None:
        import torch

        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        self.torch = torch
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = model.to(self.device).eval()
        self.autocast = autocast and precision != "fp32" and (self.device.type == "cuda" or precision == "bf16")
        self.dtype = torch.bfloat16
        if self.device.type == "cuda" and precision == "auto" and not torch.cuda.is_bf16_supported():
            self.dtype = torch.float16
        # sub-tokens per forward pass: big batches keep a GPU busy; on CPU activations must stay cache-sized
        self.max_batch_tokens = GPU_BATCH_TOKENS if self.device.type == "cuda" else CPU_BATCH_TOKENS

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        torch = self.torch
        with torch.inference_mode():
            input_ids = torch.from_numpy(ids).to(self.device)
            attention_mask = torch.from_numpy(mask).to(self.device)
            if self.autocast:
                with torch.autocast(self.device.type, dtype=self.dtype):
                    logits = self.model(input_ids=input_ids, attention_mask=attention_mask).logits
            else:
                logits = self.model(input_ids=input_ids, attention_mask=attention_mask).logits
            return logits.float().cpu().numpy()


@dataclass
class Head:
    """One trained head (NER or topics) with its tokenizer, settings and a runner."""

    block: TaggerBlock
    tokenizer: object
    runner: Runner

    def __post_init__(self) -> None:
        self.norm = self.block.norm
        self.vocab = frozenset(self.tokenizer.get_vocab())
        self.tags = list(self.block.labels)
        self.allowed = allowed_transitions(self.tags) if self.block.task == "ner" else None


@console.quiet()  # no transformers loading bars
def _torch_head(model_dir: Path, device: str | None, precision: str = "auto") -> Head:
    from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification

    block = read_block(model_dir)
    cls = AutoModelForTokenClassification if block.task == "ner" else AutoModelForSequenceClassification
    model = load_trained_model(model_dir, cls)
    return Head(block, load_tokenizer(str(model_dir)), TorchRunner(model, device, precision=precision))


def load_head(model_dir: Path, device: str | None = None, precision: str = "auto") -> Head:
    if (model_dir / "model.onnx").is_file():
        from tagger.export import onnx_head  # optional backend (onnxruntime)

        return onnx_head(model_dir, device=device)
    return _torch_head(model_dir, device, precision)


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
        cls, path: str | os.PathLike, device: str | None = None, precision: str = "auto", **kwargs
    ) -> Tagger:
        """Load a model directory saved by this library, or a folder holding ``ner/`` and/or ``topics/`` ones.

        A directory written by ``tagger export --onnx`` runs on onnxruntime; otherwise torch with ``precision``
        (see :class:`TorchRunner`: ``auto`` = bf16 autocast on CUDA, fp32 on CPU; ``bf16`` also on CPU).
        """
        root = Path(path)
        if not root.is_dir():
            raise ModelLoadError(f"{root}: no such model directory")
        if (root / "config.json").is_file():
            head = load_head(root, device, precision)
            return cls(**{head.block.task: head}, **kwargs)
        heads = {name: load_head(root / name, device, precision) for name in ("ner", "topics") if (root / name).is_dir()}
        if not heads:
            raise ModelLoadError(
                f"{root}: neither a model directory (config.json) nor a bundle with ner/ or topics/ subdirectories"
            )
        for name, head in heads.items():
            if head.block.task != name:
                raise ModelLoadError(f"{root / name}: holds a {head.block.task!r} model, expected {name!r}")
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
        entities = self._entities(docs) if self.ner else [() for _ in docs]
        topics: list[TopicPrediction | None] = [None] * len(docs)
        if self.topics:
            scores = self._topic_scores(docs)
            topics = self._topic_predictions(docs, scores, thresholds)
        return [Prediction(d.text, e, t) for d, e, t in zip(docs, entities, topics)]

    def topic_scores(self, texts: Iterable[str]) -> np.ndarray:
        """Raw document scores ``[n_texts, n_labels]`` (label order: :attr:`topic_labels`); ``texts`` as in
        :meth:`predict`."""
        texts = _check_texts(texts)
        if not self.topics:
            raise ValueError("this model has no topic head")
        return self._topic_scores([Document(text=t) for t in texts])

    # ------------------------------------------------------------------ internals
    def _run(
        self, head: Head, encoded: list[EncodedDoc], windows: list[Window] | None = None
    ) -> tuple[list[Window], list[np.ndarray]]:
        """All windows of all documents through the model, length-sorted; outputs in window order.

        ``windows`` default to the head's own (``max_length`` sub-tokens, ``stride`` shared)."""
        block = head.block
        if windows is None:
            windows = [w for i, enc in enumerate(encoded) for w in make_windows(enc, i, block.max_length, block.stride)]
        windows = [w for w in windows if w.end > w.start]
        outputs: list[np.ndarray] = [None] * len(windows)  # type: ignore[list-item]
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
            logits = head.runner(ids, mask)
            for r, j in enumerate(batch):
                w = windows[j]
                outputs[j] = logits[r, 1 : w.end - w.start + 1] if logits.ndim == 3 else logits[r]
        return windows, outputs

    def _entities(self, docs: Sequence[Document]) -> list[tuple[Entity, ...]]:
        head = self.ner
        assert head is not None
        encoded = encode_documents(head.tokenizer, docs, head.norm)
        windows, outputs = self._run(head, encoded)
        by_doc: dict[int, list[int]] = {}
        for j, w in enumerate(windows):
            by_doc.setdefault(w.doc, []).append(j)
        tagged = [i for i in range(len(docs)) if by_doc.get(i)]
        word_logits = [
            merge_windows(
                len(encoded[i].word_spans), encoded[i].first_subtoken,
                [(windows[j].start, windows[j].end) for j in by_doc[i]], [outputs[j] for j in by_doc[i]],
            )
            for i in tagged
        ]
        # log-softmax is row-wise: one call over all words of all documents, then Viterbi for all at once
        logps = np.split(log_softmax(np.concatenate(word_logits)), np.cumsum([len(x) for x in word_logits])[:-1]) \
            if word_logits else []
        paths = viterbi_iob2_many(logps, head.tags, head.allowed)
        results: list[tuple[Entity, ...]] = [()] * len(docs)
        for i, logp, path in zip(tagged, logps, paths):
            results[i] = self._decode_entities(head, docs[i].text, encoded[i], logp, path)
            if head.block.entity_consistency:
                results[i] = propagate_entities(docs[i].text, encoded[i].word_spans, results[i], head.norm)
        return results

    def _decode_entities(
        self, head: Head, text: str, enc: EncodedDoc, logp: np.ndarray, path: list[int]
    ) -> tuple[Entity, ...]:
        tags = [head.tags[k] for k in path]
        chosen = logp[np.arange(len(path)), path]
        entities = []
        for first, end, label in tag_spans(tags):
            if label == "PER" and head.block.trim_titles:
                first += leading_titles([normalize(text[s:e], head.norm).text for s, e in enc.word_spans[first:end]])
            start = enc.word_spans[first][0]
            stop = enc.word_spans[end - 1][1]
            if head.block.clitic_policy == "strip":
                start = _skip_clitic(text, start, enc.word_spans[first][1], head)
                if start >= stop:
                    continue
            score = float(np.exp(np.mean(chosen[first:end])))
            entities.append(Entity(text[start:stop], label, start, stop, score))
        return tuple(entities)

    def _topic_scores(self, docs: Sequence[Document]) -> np.ndarray:
        head = self.topics
        assert head is not None
        encoded = encode_documents(head.tokenizer, docs, head.norm)
        windows, outputs = self._run(head, encoded, topic_windows(encoded, head.block))
        if not windows:
            return np.zeros((len(docs), len(head.block.labels)), dtype=np.float32)
        probs = 1.0 / (1.0 + np.exp(-np.stack(outputs)))
        return pool_scores(probs, [w.doc for w in windows], len(docs), head.block.pooling)

    def _topic_predictions(
        self, docs: Sequence[Document], scores: np.ndarray, override: dict[str, float] | None
    ) -> list[TopicPrediction]:
        head = self.topics
        assert head is not None
        labels = list(head.block.labels)
        thresholds = {lab: float(head.block.thresholds.get(lab, 0.5)) for lab in labels}
        if override:
            unknown = sorted(set(override) - set(labels))
            if unknown:
                raise ValueError(f"thresholds for unknown label(s) {unknown}; labels are {labels}")
            thresholds.update({k: float(v) for k, v in override.items()})
        out = []
        for doc, row in zip(docs, scores):
            empty = not doc.text.strip()
            chosen = () if empty else tuple(lab for j, lab in enumerate(labels) if row[j] >= thresholds[lab])
            out.append(TopicPrediction(chosen, {lab: float(row[j]) for j, lab in enumerate(labels)}, dict(thresholds)))
        return out


def topic_windows(encoded: Sequence[EncodedDoc], block: TaggerBlock) -> list[Window]:
    """The windows a topic head scores: whole windows (``max_length``, ``stride``), plus, with
    ``passage_length``, passages of that many sub-tokens overlapping by half, so that a topic carried by one
    paragraph of a long multi-topic document is not diluted by the rest of its window. The document score pools
    over all of them."""
    out: list[Window] = []
    passage = block.passage_length + 2 if block.passage_length else 0
    for i, enc in enumerate(encoded):
        whole = make_windows(enc, i, block.max_length, block.stride)
        out.extend(whole)
        if passage and passage < block.max_length and len(whole) > 0 and len(enc.input_ids) > passage - 2:
            out.extend(make_windows(enc, i, passage, (passage - 2) // 2))
    return out


def _skip_clitic(text: str, start: int, word_end: int, head: Head) -> int:
    """Move an entity start past a glued proclitic (see :func:`tagger.arabic.clitic_length`)."""
    ch = text[start]
    if ch.isalpha() and ch not in CLITIC_OR_CHANGED and not ("\ufb50" <= ch <= "\ufefc"):
        return start  # normalisation keeps this first letter and no proclitic starts with it
    norm = normalize(text[start:word_end], head.norm)
    n = clitic_length(norm.text, head.vocab)
    return start + norm.starts[n] if 0 < n < len(norm.text) else start


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
