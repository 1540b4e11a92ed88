"""The fast prediction path gives exactly what the straightforward reference code gives.

Fast paths under test: plain-text pre-tokenisation without the per-character offset map, word normalisation
that skips unchanged words, vectorised window merging, Viterbi over many sequences at once, the clitic
short-cut, and dynamic (length-sorted, token-budgeted) batching.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tagger.tasks.ner as ner_task_mod
import tagger.text as text_mod
from tagger import Tagger
from tagger.arabic import clitic_length
from tagger.config import NormalizationConfig
from tagger.decode import (
    allowed_transitions,
    log_softmax,
    merge_windows,
    viterbi_iob2,
    viterbi_iob2_many,
)
from tagger.text import Words, normalize, normalize_words, pretokenize

ARABIC = st.sampled_from(list("ابتثجحخدذرزسشصضطظعغفقكلمنهويءأإآةى") + ["\u064e", "\u0650", "\u0651", "\u0640", "\u0654"])
OTHER = st.sampled_from(list("abc0123٠١٣ ,.،؛؟!«»\"'()-_/\n\t") + ["😀", "ﻻ", "ﷺ", "\u200f", "\u200c", "  "])
TEXTS = st.lists(st.one_of(ARABIC, ARABIC, ARABIC, OTHER, st.characters()), max_size=50).map("".join)
CONFIGS = [
    NormalizationConfig(),
    NormalizationConfig(space_punctuation=False),
    NormalizationConfig(collapse_whitespace=False),
    NormalizationConfig(strip_tashkeel=False, strip_tatweel=False, normalize_digits=False, unify_alef=True),
]
TAGS = ["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-PER", "I-PER"]
SENTENCES = [
    "التقى وزير الاتصالات الإيراني ستار هاشمي نظيره الكيني في نيروبي.",
    "وقعت الجزائر وكينيا اتفاقا للتعاون في مجال الأمن السيبراني والحكومة الذكية",
    "وَقَّعَتْ الجزائرُ وكينيا اتفاقاً للأمن السيبراني ـ ٢٠٢٥",
    "",
    "  ",
    "قال علي زروقي: «الجزائر تطور البنية التحتية»، وبالقاهرة ﻻ شيء",
    " ".join(["أطلقت وكالة الفضاء الإماراتية قمرا صناعيا جديدا من قاعدة كيب كانافيرال"] * 6),
]


# ------------------------------------------------------------------------------------------ references
def reference_pretokenize(text: str, cfg: NormalizationConfig) -> Words:
    norm = normalize(text, cfg)
    found = list(re.finditer(r"\S+", norm.text))
    return Words(tuple(norm.span(m.start(), m.end()) for m in found), tuple(m.group() for m in found))


def reference_merge_windows(n_words, first_subtoken, windows, window_scores):
    n_labels = window_scores[0].shape[-1] if len(window_scores) else 0
    out = np.zeros((n_words, n_labels), dtype=np.float32)
    best = np.full(n_words, -1, dtype=np.int64)
    for (start, end), scores in zip(windows, window_scores):
        for w in range(n_words):
            k = first_subtoken[w]
            if k < start or k >= end:
                continue
            margin = min(k - start, end - 1 - k)
            if margin > best[w]:
                best[w] = margin
                out[w] = scores[k - start]
    return out


def reference_skip_clitic(text, start, word_end, head):
    norm = normalize(text[start:word_end], head.norm)
    n = clitic_length(norm.text, head.vocab)
    return start + norm.starts[n] if 0 < n < len(norm.text) else start


# ------------------------------------------------------------------------------------------ units
@settings(max_examples=300, deadline=None)
@given(TEXTS, st.sampled_from(range(len(CONFIGS))))
def test_predict_speed_pretokenize_fast_path_is_exact(text, which):
    cfg = CONFIGS[which]
    assert pretokenize(text, cfg) == reference_pretokenize(text, cfg)
    words = text.split()
    assert normalize_words(words, cfg) == tuple(normalize(w, cfg).text or "-" for w in words)


def test_predict_speed_fast_path_taken_for_plain_text():
    cfg = NormalizationConfig()
    assert text_mod._plain_words("قال الوزير، في نيروبي: 5G!", cfg) is not None
    assert text_mod._plain_words("قالَ", cfg) is None  # tashkeel: needs the offset map
    assert text_mod._plain_words("a\u0654b", cfg) is None  # a combining mark that is not punctuation


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=0, max_size=30), st.sampled_from([0.3, 3.0, 30.0]), st.integers(8, 2000))
def test_predict_speed_batched_viterbi_matches_one_by_one(lengths, scale, max_cells):
    rng = np.random.default_rng(len(lengths) * 7 + int(scale))
    seqs = [log_softmax((rng.normal(size=(n, len(TAGS))) * scale).astype(np.float32)) for n in lengths]
    allowed = allowed_transitions(TAGS)
    assert viterbi_iob2_many(seqs, TAGS, allowed, max_cells=max_cells) == [viterbi_iob2(s, TAGS, allowed) for s in seqs]


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 60), st.integers(1, 20), st.integers(0, 6), st.integers(0, 10**6))
def test_predict_speed_vectorised_merge_matches_loop(n_sub, size, stride, seed):
    rng = np.random.default_rng(seed)
    # words of 1-3 sub-tokens, some words without any (first sub-token -1)
    first, k = [], 0
    while k < n_sub:
        first.append(k if rng.random() > 0.1 else -1)
        k += int(rng.integers(1, 4)) if first[-1] >= 0 else 0
    windows, start = [], 0
    while n_sub and start < n_sub:
        end = min(start + size, n_sub)
        windows.append((start, end))
        start = end if end >= n_sub else max(start + 1, end - min(stride, size - 1))
    scores = [rng.normal(size=(e - s, 5)).astype(np.float32) for s, e in windows]
    assert np.array_equal(merge_windows(len(first), first, windows, scores),
                          reference_merge_windows(len(first), first, windows, scores))


# ------------------------------------------------------------------------------------------ end to end
class RandomRunner:
    """Deterministic pseudo-logits from the input ids: many entities, so every decoding branch runs."""

    def __init__(self, n_labels: int) -> None:
        self.n_labels = n_labels
        self.shapes: list[tuple[int, int, int]] = []

    def __call__(self, ids, mask):
        self.shapes.append((*ids.shape, int(mask.sum(axis=1).max())))
        rng = np.random.default_rng(ids * 31 + np.arange(ids.shape[1]))
        return (rng.normal(size=(*ids.shape, self.n_labels)) * 3).astype(np.float32)


def _reference_predictions(monkeypatch, tagger, texts):
    with monkeypatch.context() as m:
        m.setattr(text_mod, "_plain_words", lambda text, cfg: None)
        m.setattr(text_mod, "_plain_word_re", lambda cfg: re.compile(r"(?!x)x"))
        m.setattr(ner_task_mod, "merge_windows", reference_merge_windows)
        m.setattr(ner_task_mod, "viterbi_iob2_many", lambda lps, tags, allowed: [viterbi_iob2(x, tags, allowed) for x in lps])
        m.setattr(ner_task_mod, "_skip_clitic", reference_skip_clitic)
        return tagger.predict(texts)


@pytest.mark.parametrize("max_length", [None, 12])
def test_predict_speed_same_predictions_as_reference(trained_ner, monkeypatch, max_length):
    tagger = Tagger.from_pretrained(trained_ner)
    tagger.ner.runner = RandomRunner(len(tagger.ner.tags))
    if max_length:
        tagger.ner.block.max_length = max_length  # many overlapping windows
    texts = SENTENCES * 3
    fast = tagger.predict(texts)
    assert sum(len(p.entities) for p in fast) > 20
    assert fast == _reference_predictions(monkeypatch, tagger, texts)


def test_predict_speed_same_predictions_trained_model(trained_ner, monkeypatch):
    tagger = Tagger.from_pretrained(trained_ner)
    assert tagger.predict(SENTENCES) == _reference_predictions(monkeypatch, tagger, SENTENCES)


def test_predict_speed_dynamic_padding_and_token_budget(trained_ner):
    tagger = Tagger.from_pretrained(trained_ner, batch_size=4, max_batch_tokens=60)
    runner = RandomRunner(len(tagger.ner.tags))
    tagger.ner.runner = runner
    texts = ["نص قصير", "نص أطول قليلا من الأول في نيروبي", "كلمة", *SENTENCES]
    tagger.predict(texts)
    widths = [w for _, w, _ in runner.shapes]
    assert widths == sorted(widths, reverse=True)  # length-sorted: longest windows first
    for batch, width, longest in runner.shapes:
        assert batch <= 4 and (batch * width <= 60 or batch == 1)  # token budget
        assert longest == width  # padded to the batch's longest window, not to max_length
    assert max(widths) <= tagger.ner.block.max_length and min(widths) < tagger.ner.block.max_length


def test_predict_speed_precision_option(trained_ner):
    default = Tagger.from_pretrained(trained_ner)
    assert default.ner.runner.autocast is False  # CPU default stays fp32: same outputs as before
    fast = Tagger.from_pretrained(trained_ner, device="cpu", precision="bf16")
    assert fast.ner.runner.autocast is True
    preds = fast.predict(SENTENCES)
    for text, pred in zip(SENTENCES, preds):
        assert all(e.text == text[e.start : e.end] and 0 <= e.score <= 1 for e in pred.entities)
    with pytest.raises(ValueError, match="precision"):
        Tagger.from_pretrained(trained_ner, precision="int4")
