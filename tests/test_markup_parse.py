from __future__ import annotations

from pathlib import Path

import pytest

from tagger.data.markup import MarkupError, check_spans, parse_markup, read_markup
from tagger.schema import Span


def surfaces(text: str, spans: list[Span]) -> list[tuple[str, str]]:
    return [(text[s.start:s.end], s.label) for s in spans]


def test_markup_parse_offsets_are_exact() -> None:
    text, spans = parse_markup("أعلنت [[هيئة تنظيم الاتصالات|ORG]] في [[الإمارات|LOC]] اليوم")
    assert text == "أعلنت هيئة تنظيم الاتصالات في الإمارات اليوم"
    assert spans == [Span(6, 26, "ORG"), Span(30, 38, "LOC")]
    assert surfaces(text, spans) == [("هيئة تنظيم الاتصالات", "ORG"), ("الإمارات", "LOC")]


def test_markup_parse_offsets_across_lines_and_at_the_edges() -> None:
    text, spans = parse_markup("[[ناسا|ORG]] تعلن\n\nوقال [[بيل نيلسون|PER]]\nفي [[فلوريدا|LOC]]")
    assert text == "ناسا تعلن\n\nوقال بيل نيلسون\nفي فلوريدا"
    assert spans[0].start == 0 and spans[-1].end == len(text)
    assert surfaces(text, spans) == [("ناسا", "ORG"), ("بيل نيلسون", "PER"), ("فلوريدا", "LOC")]


def test_markup_parse_keeps_clitic_outside_the_span() -> None:
    text, spans = parse_markup("وزيري الاتصالات في [[كينيا|LOC]] و[[الجزائر|LOC]] ولـ[[هواوي|ORG]]")
    assert surfaces(text, spans) == [("كينيا", "LOC"), ("الجزائر", "LOC"), ("هواوي", "ORG")]
    assert text[spans[1].start - 1] == "و"
    assert check_spans(text, spans) == []


def test_markup_parse_keeps_diacritics_and_latin_names_verbatim() -> None:
    raw = "أَعْلَنَتْ [[وكالة الفضاء الأوروبية|ORG]] أن [[Starlink|MISC]] و[[رؤية ٢٠٣٠|MISC]]"
    text, spans = parse_markup(raw)
    assert text == raw.replace("[[", "").replace("|ORG]]", "").replace("|MISC]]", "")
    assert surfaces(text, spans)[1:] == [("Starlink", "MISC"), ("رؤية ٢٠٣٠", "MISC")]


@pytest.mark.parametrize(
    ("markup", "problem"),
    [
        ("[[بالجزائر|LOC]]", "starts with a clitic"),
        ("[[للاتحاد الأفريقي|ORG]]", "starts with a clitic"),
        ("الإ[[مارات|LOC]]", "starts inside the word"),
        ("[[مصر|LOC]]ية", "ends inside a word"),
        ("[[مِصْر|LOC]]َ", "diacritic outside"),
        ("«[[«أبشر|MISC]]»", "punctuation"),
    ],
)
def test_markup_check_spans_flags_policy_breaks(markup: str, problem: str) -> None:
    text, spans = parse_markup(markup)
    problems = check_spans(text, spans)
    assert any(problem in p for p in problems), problems


def test_markup_check_spans_accepts_names_that_look_like_clitics() -> None:
    text, spans = parse_markup("[[فالكون 9|MISC]] من [[كاليفورنيا|LOC]] إلى [[وكالة الفضاء المصرية|ORG]] و[[e&|ORG]]")
    assert check_spans(text, spans) == []


def test_markup_check_spans_flags_range_overlap_and_label() -> None:
    problems = check_spans("كينيا والجزائر", [Span(0, 5, "LOC"), Span(3, 8, "LOC"), Span(9, 99, "LOC")])
    assert any("overlaps" in p for p in problems) and any("out of range" in p for p in problems)
    assert any("unknown label" in p for p in check_spans("كينيا", [Span(0, 5, "GPE")]))


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "batch_x.txt"
    path.write_text(body, encoding="utf-8")
    return path


def test_markup_read_documents_with_sources_and_sorted_topics(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "### doc: x-001\ntopics: space, 5G\n\nأطلقت [[سبيس إكس|ORG]] القمر\n\nفقرة ثانية\n\n"
        "### doc: x-002\ntopics:\nخبر رياضي عن [[الهلال|ORG]]\n",
    )
    docs = read_markup(path)
    assert [d.id for d in docs] == ["x-001", "x-002"]
    assert docs[0].topics == ["5G", "space"] and docs[1].topics == []
    assert docs[0].text == "أطلقت سبيس إكس القمر\n\nفقرة ثانية"
    assert docs[0].source == f"{path}:1" and docs[1].source == f"{path}:8"
    assert surfaces(docs[1].text, docs[1].entities) == [("الهلال", "ORG")]


GOOD = "### doc: x-001\ntopics: 5G\nنص سليم\n"


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        (GOOD + "### doc: x-002\ntopics:\nأعلنت [[هواوي|ORG في دبي\n", 6, "unclosed '[['"),
        (GOOD + "### doc: x-002\ntopics:\n\nأعلنت [[هواوي|COMPANY]]\n", 7, "unknown label 'COMPANY'"),
        ("### doc: x-001\ntopics:\nفي [[جامعة [[القاهرة|LOC]]|ORG]]\n", 3, "nested brackets"),
        ("### doc: x-001\ntopics:\nسطر\nفي [[|LOC]] اليوم\n", 4, "empty span"),
        ("### doc: x-001\ntopics:\nفي [[ الجزائر|LOC]]\n", 3, "whitespace"),
        ("### doc: x-001\ntopics:\nفي [[الجزائر |LOC]]\n", 3, "whitespace"),
        ("### doc: x-001\ntopics: 5G, space-industry\nنص\n", 2, "unknown topic 'space-industry'"),
        ("### doc: x-001\ntopics: 5G, 5G\nنص\n", 2, "repeated"),
        (GOOD + "### doc: x-001\ntopics:\nنص آخر\n", 4, "duplicate id 'x-001'"),
        ("### doc: x-001\nأعلنت الوزارة\n", 2, "expected a 'topics:' line"),
        ("### doc: x-001\ntopics:\nنص ]] زائد\n", 3, "without an opening"),
        ("### doc: x-001\ntopics:\nفي [[الجزائر]] اليوم\n", 3, "no '|LABEL'"),
        ("### doc: X1\ntopics:\nنص\n", 1, "bad document id"),
        ("نص بلا رأس\n### doc: x-001\ntopics:\nنص\n", 1, "before the first"),
        (GOOD + "### doc: x-002\ntopics:\n\n", 4, "has no text"),
    ],
)
def test_markup_errors_name_file_line_and_problem(tmp_path: Path, body: str, line: int, message: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(MarkupError) as info:
        read_markup(path)
    assert str(info.value).startswith(f"{path}:{line}: "), str(info.value)
    assert message in str(info.value)
    assert info.value.line == line


def test_markup_parse_error_names_source_and_line() -> None:
    with pytest.raises(MarkupError, match=r"^snippet:3: unclosed"):
        parse_markup("سطر\nسطر\nفي [[دبي|LOC", source="snippet")
    assert isinstance(MarkupError("f", 1, "x"), ValueError)
