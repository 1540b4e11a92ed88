"""Arabic word rules used when decoding entities: the titles kept outside person names.

Both the project's guidelines (``seeds/GUIDELINES.md`` 1.1) and ANERcorp keep titles, honorifics and roles
outside a PER span (``السيد [ستار هاشمي]``, ``الدكتور [...]``); a model trained on a small corpus still
sometimes swallows them. :func:`leading_titles` says how many leading words of a predicted person name are such
titles, so the decoder can drop them (``trim_titles``, saved with the model).
"""

from __future__ import annotations

from collections.abc import Sequence

# Written without tashkeel (words are compared after the model's normalisation); both hamza spellings of alef.
PERSON_TITLES: frozenset[str] = frozenset(
    """
    السيد السيدة السادة الدكتور الدكتورة د. د المهندس المهندسة الأستاذ الأستاذة الاستاذ الاستاذة البروفيسور
    الشيخ الشيخة الحاج الحاجة سماحة فضيلة معالي سعادة فخامة سمو صاحب
    الوزير الوزيرة السفير السفيرة الرئيس الرئيسة النائب النائبة المستشار المستشارة القاضي القاضية
    الملك الملكة الأمير الأميرة الامير الاميرة العقيد اللواء العميد الفريق المشير الجنرال الرائد النقيب
    """.split()
)


def leading_titles(words: Sequence[str]) -> int:
    """How many leading ``words`` (normalised strings of one PER span) are titles; never all of them."""
    k = 0
    while k < len(words) - 1 and (words[k] in PERSON_TITLES or words[k].rstrip(".") in PERSON_TITLES):
        k += 1
    return k
