"""Words -> sub-tokens -> windows; char spans <-> word-level IOB2 tags.

The same functions serve training and prediction: a document becomes word strings (normalised), the fast
tokenizer maps them to sub-tokens (``is_split_into_words``), and a long document is cut into overlapping
windows at word starts, each at most ``max_length`` sub-tokens including [CLS]/[SEP].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tagger.config import NormalizationConfig
from tagger.schema import Document, Span
from tagger.text import normalize_words, pretokenize


@dataclass(frozen=True)
class EncodedDoc:
    """Sub-tokens of one document: ``word_ids[k]`` is the word of sub-token ``k``."""

    word_spans: tuple[tuple[int, int], ...]
    input_ids: tuple[int, ...]
    word_ids: tuple[int, ...]
    first_subtoken: tuple[int, ...]  # per word: index of its first sub-token (-1 if it has none)


@dataclass(frozen=True)
class Window:
    """Sub-tokens ``[start, end)`` of document ``doc``; the model sees [CLS] + ids + [SEP]."""

    doc: int
    start: int
    end: int


def document_words(doc: Document, cfg: NormalizationConfig) -> tuple[tuple[tuple[int, int], ...], tuple[str, ...]]:
    """Word spans (original offsets) and normalised word strings of a document.

    Pre-split words (CoNLL tokens) are kept and normalised one by one; otherwise the text is pre-tokenised.
    """
    if doc.words is not None:
        spans = tuple(doc.words)
        return spans, normalize_words([doc.text[s:e] for s, e in spans], cfg)
    words = pretokenize(doc.text, cfg)
    return words.spans, words.strings


def encode_documents(tokenizer, docs: Sequence[Document], cfg: NormalizationConfig) -> list[EncodedDoc]:
    """Tokenise all documents in one batched fast-tokenizer call (words pre-split)."""
    if not getattr(tokenizer, "is_fast", False):
        raise TypeError("a fast (Rust) tokenizer is required for word alignment; load it with use_fast=True")
    per_doc = [document_words(doc, cfg) for doc in docs]
    nonempty = [i for i, (spans, _) in enumerate(per_doc) if spans]
    encoded: list[EncodedDoc] = [EncodedDoc((), (), (), ()) for _ in docs]
    if not nonempty:
        return encoded
    batch = tokenizer(
        [list(per_doc[i][1]) for i in nonempty],
        is_split_into_words=True,
        add_special_tokens=False,
        return_attention_mask=False,
        return_token_type_ids=False,
        verbose=False,
    )
    unk = tokenizer.unk_token_id
    for row, i in enumerate(nonempty):
        spans, _ = per_doc[i]
        ids = list(batch["input_ids"][row])
        wids = list(batch.word_ids(row))
        first = [-1] * len(spans)
        for k, w in enumerate(wids):
            if w is not None and first[w] < 0:
                first[w] = k
        # a word the tokenizer dropped entirely (e.g. only control characters) gets an [UNK] of its own
        missing = [w for w, f in enumerate(first) if f < 0]
        if missing:
            ids, wids = _insert_unk(ids, wids, missing, unk)
            first = [-1] * len(spans)
            for k, w in enumerate(wids):
                if first[w] < 0:
                    first[w] = k
        encoded[i] = EncodedDoc(tuple(spans), tuple(ids), tuple(int(w) for w in wids), tuple(first))
    return encoded


def _insert_unk(ids: list[int], wids: list, missing: list[int], unk: int) -> tuple[list[int], list[int]]:
    todo = set(missing)
    new_ids: list[int] = []
    new_wids: list[int] = []
    pos = 0
    n_words = max([w for w in wids if w is not None] + missing) + 1
    for w in range(n_words):
        if w in todo:
            new_ids.append(unk)
            new_wids.append(w)
            continue
        while pos < len(wids) and wids[pos] == w:
            new_ids.append(ids[pos])
            new_wids.append(w)
            pos += 1
    return new_ids, new_wids


def make_windows(enc: EncodedDoc, doc_index: int, max_length: int, stride: int) -> list[Window]:
    """Cut a document into windows of at most ``max_length - 2`` sub-tokens, starting at word starts,
    consecutive windows sharing about ``stride`` sub-tokens."""
    n = len(enc.input_ids)
    size = max_length - 2
    if n <= size:
        return [Window(doc_index, 0, n)]
    wids = enc.word_ids
    windows: list[Window] = []
    start = 0
    while True:
        end = min(start + size, n)
        if end < n:
            cut = enc.first_subtoken[wids[end]]  # do not split a word across the window edge
            if cut > start:
                end = cut
        windows.append(Window(doc_index, start, end))
        if end >= n:
            return windows
        nxt = enc.first_subtoken[wids[max(end - stride, start + 1)]]
        start = nxt if nxt > start else end


def entities_to_tags(words: Sequence[tuple[int, int]], spans: Sequence[Span]) -> list[str]:
    """Word-level IOB2 tags: a word overlapping an entity takes its label (B- on the entity's first word)."""
    tags = ["O"] * len(words)
    w = 0
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        while w < len(words) and words[w][1] <= span.start:
            w += 1
        first = True
        k = w
        while k < len(words) and words[k][0] < span.end:
            if tags[k] == "O":
                tags[k] = ("B-" if first else "I-") + span.label
                first = False
            k += 1
    return tags


def word_labels(enc: EncodedDoc, tags: Sequence[str], label2id: dict[str, int]) -> list[int]:
    """Per-sub-token training labels: the word's tag on its first sub-token, -100 elsewhere."""
    labels = [-100] * len(enc.input_ids)
    for w, k in enumerate(enc.first_subtoken):
        if k >= 0:
            labels[k] = label2id[tags[w]]
    return labels
