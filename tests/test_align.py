from __future__ import annotations

import numpy as np
from transformers import AutoTokenizer

from tagger.align import EncodedDoc, encode_documents, entities_to_tags, make_windows
from tagger.config import NormalizationConfig
from tagger.decode import merge_windows
from tagger.schema import Document, Span


def test_align_entities_to_tags_word_level():
    words = [(0, 5), (6, 10), (11, 16)]
    spans = [Span(0, 10, "PER"), Span(12, 16, "LOC")]  # second starts after a clitic
    assert entities_to_tags(words, spans) == ["B-PER", "I-PER", "B-LOC"]
    assert entities_to_tags(words, []) == ["O", "O", "O"]


def test_align_windows_cover_long_text_at_word_starts(tiny_encoder):
    tok = AutoTokenizer.from_pretrained(tiny_encoder)
    text = " ".join(["وقال علي زروقي إن التعاون مع كينيا مستمر في مجال الجيل الخامس"] * 12)
    enc = encode_documents(tok, [Document(text=text)], NormalizationConfig())[0]
    windows = make_windows(enc, 0, max_length=32, stride=8)
    assert len(windows) > 3
    assert windows[0].start == 0 and windows[-1].end == len(enc.input_ids)
    for a, b in zip(windows, windows[1:]):
        assert b.start < a.end  # overlap
        assert b.start > a.start
    for w in windows:
        assert w.end - w.start <= 30
        assert enc.first_subtoken[enc.word_ids[w.start]] == w.start  # starts at a word start


def test_align_merge_prefers_window_where_word_is_central():
    enc = EncodedDoc(((0, 1),) * 6, tuple(range(6)), tuple(range(6)), tuple(range(6)))
    windows = [(0, 4), (2, 6)]
    a = np.zeros((4, 2), dtype=np.float32)
    a[:, 0] = 1.0
    b = np.zeros((4, 2), dtype=np.float32)
    b[:, 1] = 1.0
    merged = merge_windows(6, enc.first_subtoken, windows, [a, b])
    # word 2: margin 1 in A (pos 2 of 0..3) and 0 in B -> A; word 3: margin 0 in A, 1 in B -> B
    assert merged[:, 0].tolist() == [1, 1, 1, 0, 0, 0]
    # deterministic: same result again, ties to the earlier window
    assert np.array_equal(merged, merge_windows(6, enc.first_subtoken, windows, [a, b]))
