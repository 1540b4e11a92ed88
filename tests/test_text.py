from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tagger.config import NormalizationConfig
from tagger.text import normalize, normalize_words, pretokenize

ARABIC = st.sampled_from(list("ابتثجحخدذرزسشصضطظعغفقكلمنهويءأإآةى") + ["\u064e", "\u0650", "\u064b", "\u0651", "\u0640"])
MARKS = st.sampled_from(["\u200e", "\u200f", "\u200c", "\ufeff", "\u200d", "\u202b", "\u061c"])
OTHER = st.sampled_from(list("abcXYZ0123٠١٢٣٩۴۵ ,.،؛؟!«»\"'()-_/\n\t") + ["😀", "ﻻ", "ﷺ", "ـ"])
TEXTS = st.lists(st.one_of(ARABIC, MARKS, OTHER, st.characters()), max_size=60).map("".join)


def test_text_strips_tashkeel_tatweel_marks_and_digits():
    text = "الاتصـــالاتُ\u200f في كِينيا ٢٠٢٥"
    assert normalize(text).text == "الاتصالات في كينيا 2025"


def test_text_spaces_punctuation_and_collapses_whitespace():
    assert normalize("  كينيا،والجزائر.  \n مصر ").text == "كينيا ، والجزائر . مصر"


def test_text_lone_tatweel_is_a_dash():
    assert normalize("المفرق ـ غيث").text == "المفرق - غيث"
    assert normalize_words(["ـ", "\u064e"]) == ("-", "-")


def test_text_settings_can_be_switched_off():
    cfg = NormalizationConfig(strip_tashkeel=False, normalize_digits=False, space_punctuation=False)
    assert normalize("كِينيا، ٢", cfg).text == "كِينيا، ٢"


def test_text_word_spans_include_trailing_diacritics():
    text = "محمدٌ، وزيرُ"
    words = pretokenize(text)
    assert [text[s:e] for s, e in words.spans] == ["محمدٌ", "،", "وزيرُ"]
    assert words.strings == ("محمد", "،", "وزير")


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_text_offsets_map_back_to_the_original(text):
    norm = normalize(text)
    assert len(norm.starts) == len(norm.ends) == len(norm.text)
    for i, ch in enumerate(norm.text):
        s, e = norm.starts[i], norm.ends[i]
        assert 0 <= s <= e <= len(text)
        if ch != " ":
            assert e > s
    words = pretokenize(text)
    prev_end = 0
    for (s, e), w in zip(words.spans, words.strings):
        assert prev_end <= s < e <= len(text)
        assert not text[s].isspace() and not text[e - 1].isspace()
        assert w and " " not in w
        prev_end = e
