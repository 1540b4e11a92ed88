"""Issue 16: NFD Arabic, iterables of texts, and a property test of ``Tagger.predict`` on hostile text.

The property test feeds > 10,000 generated texts (tashkeel, tatweel, three digit scripts, Latin, emoji and
ZWJ sequences, bidi marks, control characters, NFD hamza letters, presentation forms, lone surrogates, long
texts that need windows, empty and blank texts) through the tiny trained NER + topics bundle in batches of
~500 and checks the output contract. Each drawn text is expanded into deterministic variants (NFD, NFC, long,
bidi-wrapped, other digit scripts, ...) so that one example is one ~500-text ``predict`` call.
"""

from __future__ import annotations

import math
import re
import unicodedata

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tagger.text as text_mod
from tagger import Document, Tagger
from tagger.align import encode_documents, make_windows
from tagger.config import NormalizationConfig
from tagger.predict import Head
from tagger.text import TASHKEEL, normalize, normalize_words, pretokenize

NFC_WORDS = ["أعلنت", "الإيراني", "إيران", "وأوغندا", "مؤتمر", "رئيس", "آمال", "الإمارات", "للأمن", "هيئة"]
NFD_PIECES = [
    "\u0627\u0654", "\u0648\u0654", "\u064a\u0654", "\u0627\u0653", "\u0627\u0655",  # أ ؤ ئ آ إ decomposed
    "\u0627\u064e\u0654", "\u0627\u0651\u0655", "\u06d5\u0654", "\u06d2\u0654", "\u0628\u0654",  # mark between; ۀ ۓ; none
    *(unicodedata.normalize("NFD", w) for w in NFC_WORDS),
]
REAL_WORDS = [
    "التقى", "وزير", "الاتصالات", "ستار", "هاشمي", "نيروبي", "الجزائر", "وكينيا", "كينيا", "بالقاهرة", "لـكينيا",
    "وكالة", "الفضاء", "الإماراتية", "كيب", "كانافيرال", "علي", "زروقي", "دبي", "السعودية", "الهلال", "Huawei",
    "SpaceX", "5G", *NFC_WORDS,
]
LETTERS = [chr(c) for c in [*range(0x0621, 0x063B), *range(0x0641, 0x064B)]] + list("پچژگکی")
MARKS = [chr(c) for c in range(0x064B, 0x0656)] + ["\u0670", "\u0640", "\u0640\u0640\u0640"]
DIGITS = list("0123456789") + [chr(c) for c in range(0x0660, 0x066A)] + [chr(c) for c in range(0x06F0, 0x06FA)]
EMOJI = ["😀", "👩\u200d💻", "👨\u200d👩\u200d👧\u200d👦", "🏳\ufe0f\u200d🌈", "🇸🇦", "🇪🇬", "👍🏽", "1\ufe0f\u20e3", "\u2764\ufe0f"]
BIDI = ["\u200e", "\u200f", "\u061c", *(chr(c) for c in range(0x202A, 0x202F)), *(chr(c) for c in range(0x2066, 0x206A)),
        "\u200c", "\u200d", "\ufeff", "\u00ad", "\u2060"]
CONTROLS = [chr(c) for c in range(0x20)] + ["\x7f", "\x85"]
SPACES = [" ", " ", " ", "  ", "\n", "\t", "\r\n", "\u00a0", "\u2003", "\u3000"]
PUNCT = list("،؛؟!.,:«»\"'()[]-–—…/%٪") + ["<\u0338"]  # '<' + U+0338 composes to U+226E in NFC
LATIN = ["a", "Z", "é", "e\u0301", "ñ", "n\u0303", "\u1100\u1161\u11a8"]  # NFD Latin, Hangul jamo

PIECE = st.one_of(
    st.sampled_from(REAL_WORDS).map(lambda w: w + " "),
    st.sampled_from(REAL_WORDS),
    st.sampled_from(LETTERS),
    st.sampled_from(NFD_PIECES),
    st.sampled_from(MARKS),
    st.sampled_from(DIGITS),
    st.sampled_from(SPACES),
    st.sampled_from(PUNCT),
    st.sampled_from(EMOJI + LATIN),
    st.sampled_from(BIDI),
    st.sampled_from(CONTROLS),
    st.characters(min_codepoint=0xFB50, max_codepoint=0xFEFC),  # presentation forms (and gaps in that block)
    st.integers(0xD800, 0xDFFF).map(chr),  # lone surrogates
    st.characters(),
)
TEXT = st.lists(PIECE, max_size=14).map("".join)
EDGE_TEXTS = ["", " ", "\n\t ", "\u200f", "\x00", "\x85", "ـ", "\u064e", "\u0654", "\ud800", "\udfff", "👩\u200d💻",
              "\u0627\u0654", " \u0653 ", "ﷺ", "ﷻ ﷺ", "٠", "\ufeff\u200e\u202b\u202c"]
TO_INDIC = str.maketrans("0123456789", "".join(chr(0x0660 + i) for i in range(10)))
TO_PERSIAN = str.maketrans("0123456789", "".join(chr(0x06F0 + i) for i in range(10)))
LONG_FILLER = "وقعت الجزائر وكينيا اتفاقا للتعاون في مجال الأمن السيبراني والحكومة الذكية"


def variants(t: str) -> list[str]:
    """Deterministic relatives of a drawn text; one ``predict`` call covers many kinds of input."""
    nfd = unicodedata.normalize("NFD", t)
    return [
        t,
        nfd,
        unicodedata.normalize("NFC", t),
        " ".join([t, LONG_FILLER, nfd, LONG_FILLER, t]),  # longer than max_length: several windows
        t * 12,  # long, often one huge word that must be cut inside
        "\u202b" + t + "\u202c",
        "\u2067" + t + "\u2069",
        t.translate(TO_INDIC),
        t.translate(TO_PERSIAN),
        "".join(ch + "\u064e\u0651" if "\u0621" <= ch <= "\u064a" else ch for ch in t),  # fully diacritised
        "\u0640".join(t),
        t.replace(" ", "\x85").replace("\n", "\x1f"),
        "\x00".join(t.split(" ")),
        "\u200d".join(t.split(" ")),
    ]


class RowRunner:
    """Deterministic logits from each row's own ids (batch-invariant), with many entities."""

    def __init__(self, n_labels: int, vocab_size: int) -> None:
        rng = np.random.default_rng(16)
        self.emb = (rng.normal(size=(vocab_size, n_labels)) * 3).astype(np.float32)
        self.pos = rng.normal(size=(4096, n_labels)).astype(np.float32)

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self.emb[ids] + 0.5 * self.emb[np.roll(ids, 1, axis=1)] + self.pos[: ids.shape[1]]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, trained_ner, trained_topics):
    root = tmp_path_factory.mktemp("bundle16")
    (root / "ner").symlink_to(trained_ner, target_is_directory=True)
    (root / "topics").symlink_to(trained_topics, target_is_directory=True)
    return root


@pytest.fixture(scope="module")
def taggers(bundle):
    real = Tagger.from_pretrained(bundle, device="cpu")
    head = real.ner
    noisy = Tagger(ner=Head(head.block, head.tokenizer, RowRunner(len(head.tags), len(head.tokenizer))))
    return real, noisy


def check_prediction(tagger: Tagger, text: str, pred) -> None:
    where = f"text {text!r}"
    assert pred.text == text, where
    prev_end = 0
    for e in pred.entities:
        assert prev_end <= e.start < e.end <= len(text), f"{where}: {e} after {prev_end}"
        assert e.text == text[e.start : e.end], where
        assert not e.text[0].isspace() and not e.text[-1].isspace(), f"{where}: {e}"
        assert e.label in tagger.ner_labels and math.isfinite(e.score) and 0.0 <= e.score <= 1.0, f"{where}: {e}"
        assert _cut_keeps_nfc(text, e.start) and _cut_keeps_nfc(text, e.end), f"{where}: {e} splits a character"
        prev_end = e.end
    if tagger.has_topics:
        topics = pred.topics
        assert topics is not None, where
        assert list(topics.scores) == tagger.topic_labels == list(topics.thresholds), where
        assert all(math.isfinite(s) and 0.0 <= s <= 1.0 for s in topics.scores.values()), where
        assert set(topics.labels) <= set(tagger.topic_labels), where
        if not text.strip():
            assert topics.labels == (), where
    else:
        assert pred.topics is None


def _cut_keeps_nfc(text: str, k: int) -> bool:
    """Cutting ``text`` at ``k`` does not split a character that NFC composes (e.g. ا + U+0654 -> أ): the two
    halves compose to as many characters as the whole (NFC may still reorder marks across the cut)."""
    nfc = unicodedata.normalize
    return len(nfc("NFC", text[:k])) + len(nfc("NFC", text[k:])) == len(nfc("NFC", text))


# ------------------------------------------------------------------------------------ property test
def test_issue_16_predict_property_many_hostile_texts(taggers):
    real, noisy = taggers
    counts = {"texts": 0, "long": 0, "entities": 0, "noisy_entities": 0}

    @settings(max_examples=22, deadline=None, derandomize=True, database=None)
    @given(st.lists(TEXT, min_size=34, max_size=36))
    def run(drawn):
        texts = [v for t in drawn for v in variants(t)] + EDGE_TEXTS
        preds = real.predict(texts)
        assert len(preds) == len(texts)
        for text, pred in zip(texts, preds):
            check_prediction(real, text, pred)
        noisy_preds = noisy.predict(iter(texts))
        for text, pred in zip(texts, noisy_preds):
            check_prediction(noisy, text, pred)
        # NFD and NFC forms of a text are the same input for the model: same entities, offsets into each string
        n_var = len(variants(""))
        for k in range(len(drawn)):
            a, b = noisy_preds[k * n_var + 1], noisy_preds[k * n_var + 2]
            assert [(e.label, e.score, unicodedata.normalize("NFC", e.text)) for e in a.entities] == [
                (e.label, e.score, unicodedata.normalize("NFC", e.text)) for e in b.entities
            ], f"NFD {a.text!r} vs NFC {b.text!r}"
        counts["texts"] += len(texts)
        block = real.ner.block
        encoded = encode_documents(real.ner.tokenizer, [Document(t) for t in texts], block.norm)
        counts["long"] += sum(len(make_windows(enc, 0, block.max_length, block.stride)) > 1 for enc in encoded)
        counts["entities"] += sum(len(p.entities) for p in preds)
        counts["noisy_entities"] += sum(len(p.entities) for p in noisy_preds)

    run()
    assert counts["texts"] >= 10_000, counts
    assert counts["long"] >= 500, counts  # texts longer than max_length: several windows
    assert counts["noisy_entities"] >= 10_000, counts  # the decoding / offset paths were exercised


CONFIGS = [
    NormalizationConfig(),
    NormalizationConfig(space_punctuation=False, collapse_whitespace=False),
    NormalizationConfig(strip_tashkeel=False, strip_tatweel=False, remove_invisible=False, unify_alef=True),
]


@settings(max_examples=1500, deadline=None, derandomize=True, database=None)
@given(TEXT, st.sampled_from(range(len(CONFIGS))))
def test_issue_16_normalize_nfd_equals_nfc_and_offsets_point_into_the_original(text, which):
    cfg = CONFIGS[which]
    nfd, nfc = unicodedata.normalize("NFD", text), unicodedata.normalize("NFC", text)
    assert normalize(text, cfg).text == normalize(nfd, cfg).text == normalize(nfc, cfg).text
    for t in (text, nfd):
        norm = normalize(t, cfg)
        assert len(norm.starts) == len(norm.ends) == len(norm.text)
        for ch, s, e in zip(norm.text, norm.starts, norm.ends):
            assert 0 <= s <= e <= len(t)
            assert ch == " " or e > s
        words = pretokenize(t, cfg)
        found = list(re.finditer(r"\S+", norm.text))  # the fast path agrees with the offset map
        assert words.spans == tuple(norm.span(m.start(), m.end()) for m in found)
        assert words.strings == tuple(m.group() for m in found) == pretokenize(nfc, cfg).strings
        prev_end = 0
        for s, e in words.spans:
            assert prev_end <= s < e <= len(t)
            assert _cut_keeps_nfc(t, s) and _cut_keeps_nfc(t, e)
            prev_end = e


# ------------------------------------------------------------------------------------ regressions
def test_issue_16_normalize_composes_nfd_hamza_with_offsets_into_the_original():
    for nfd, nfc in [("\u0627\u0654", "أ"), ("\u0648\u0654", "ؤ"), ("\u064a\u0654", "ئ"), ("\u0627\u0653", "آ"),
                     ("\u0627\u0655", "إ")]:
        norm = normalize(nfd)
        assert (norm.text, norm.starts, norm.ends) == (nfc, (0,), (2,))
    text = "في \u0627\u0655\u064a\u0631\u0627\u0646\u064e، \u0627\u064e\u0654\u0644"  # في إيرانَ، أَل (NFD)
    norm = normalize(text)
    assert norm.text == "في إيران ، أل"
    words = pretokenize(text)
    assert words.strings == ("في", "إيران", "،", "أل")
    # the composed إ starts at the bare alef and the word includes its trailing fatha; أ spans ا + fatha + hamza
    assert [text[s:e] for s, e in words.spans] == ["في", "\u0627\u0655\u064a\u0631\u0627\u0646\u064e", "،",
                                                   "\u0627\u064e\u0654\u0644"]
    assert not set("".join(words.strings)) & TASHKEEL
    assert normalize("\u0628\u0654").text == "\u0628\u0654"  # no composed form: the mark stays (it is not tashkeel)


def test_issue_16_fast_paths_send_nfd_and_surrogates_to_the_full_path():
    cfg = NormalizationConfig()
    nfd = unicodedata.normalize("NFD", "أعلنت إيران")
    assert text_mod._plain_words("أعلنت إيران", cfg) is not None
    assert text_mod._plain_words(nfd, cfg) is None
    assert text_mod._plain_words("\u1100\u1161", cfg) is None  # Hangul jamo: letters, but not NFC
    assert text_mod._plain_words("ab\ud800", cfg) is None
    assert pretokenize(nfd).strings == ("أعلنت", "إيران")
    assert normalize_words([unicodedata.normalize("NFD", w) for w in NFC_WORDS]) == tuple(NFC_WORDS)
    assert normalize_words(["\u1100\u1161\u11a8", "\ud800"]) == ("각", "\ufffd")


def test_issue_16_starter_compositions_and_lone_surrogates_keep_offsets():
    text = "\u1100\u1161\u11a8 a\ud800b \u0915\u093c"  # Hangul L+V+T; lone surrogate; Devanagari QA (excluded)
    norm = normalize(text)
    assert norm.text == "각 a \ufffd b \u0915\u093c"  # U+FFFD is a symbol: a word of its own
    assert (norm.starts[0], norm.ends[0]) == (0, 3)
    assert [text[s:e] for s, e in pretokenize(text).spans] == ["\u1100\u1161\u11a8", "a", "\ud800", "b", "\u0915\u093c"]


def test_issue_16_nfd_text_gets_the_nfc_tokens_and_predictions(taggers):
    real, noisy = taggers
    nfc = "أعلنت وزارة الاتصالات الإيراني في إيران عن الأمن في الإمارات وأوغندا رئيس هيئة للأمن إلكتروني"
    nfd = unicodedata.normalize("NFD", nfc)
    assert len(nfd) > len(nfc)
    tok = real.ner.tokenizer
    enc_nfc, enc_nfd = encode_documents(tok, [Document(nfc), Document(nfd)], real.ner.norm)
    assert enc_nfd.input_ids == enc_nfc.input_ids
    assert tok.unk_token_id not in enc_nfd.input_ids  # used to be [UNK] for every hamza word
    assert [nfd[s:e] for s, e in enc_nfd.word_spans] == nfd.split(" ")
    for tagger in (real, noisy):
        a, b = tagger.predict_one(nfd), tagger.predict_one(nfc)
        assert len(a.entities) == len(b.entities)
        for ea, eb in zip(a.entities, b.entities):
            assert ea.text == nfd[ea.start : ea.end]
            assert unicodedata.normalize("NFC", ea.text) == eb.text and (ea.label, ea.score) == (eb.label, eb.score)
        if tagger.has_topics:
            assert a.topics == b.topics
    assert noisy.predict_one(nfd).entities  # the offset mapping was exercised


def test_issue_16_predict_accepts_any_iterable(taggers):
    real, noisy = taggers
    texts = ["وقعت الجزائر وكينيا اتفاقا", "", "أطلقت وكالة الفضاء الإماراتية قمرا"]
    expected = real.predict(texts)
    assert real.predict(t for t in texts) == expected  # a generator used to give []
    assert real.predict(iter(texts)) == expected
    assert real.predict(tuple(texts)) == expected
    assert real.predict(dict.fromkeys(texts).keys()) == expected
    assert noisy.predict(t for t in texts) == noisy.predict(texts)
    assert np.array_equal(real.topic_scores(t for t in texts), real.topic_scores(texts))
    assert real.predict(t for t in []) == []


def test_issue_16_predict_rejects_what_is_not_texts(taggers):
    real, _ = taggers
    with pytest.raises(TypeError, match="single str"):
        real.predict("كينيا")
    with pytest.raises(TypeError, match=r"texts\[2\] is int"):
        real.predict(t for t in ["a", "b", 3])
    with pytest.raises(TypeError, match=r"texts\[0\] is Document.*predict_documents"):
        real.predict([Document("كينيا")])
    with pytest.raises(TypeError, match="iterable of str, got int"):
        real.predict(5)
    with pytest.raises(TypeError, match="bytes"):
        real.predict("كينيا".encode())
    with pytest.raises(TypeError, match=r"texts\[1\] is NoneType"):
        real.topic_scores(iter(["a", None]))
    with pytest.raises(TypeError, match="predict_one expects a str"):
        real.predict_one(["كينيا"])
