"""Arabic word rules, kept in one place: proclitics, clitic splitting, and the titles kept outside person names.

Proclitics are the conjunctions و/ف, the prepositions ب/ك/ل and the article ال glued to the front of a word
(``وبالقاهرة`` = و + ب + ال + قاهرة). The corpus and decoding policy keeps a glued و/ف/ب/ك/ل OUTSIDE an entity
span and the article ``ال`` inside it. Each rule below serves one consumer and is stated exactly as that consumer
needs it; they are not interchangeable:

* :func:`clitic_length` (with :data:`PROCLITICS`): how many leading characters of a predicted entity's first word
  the decoder leaves outside the span (``clitic_policy: strip``); :data:`CLITIC_OR_CHANGED` is its fast path.
* :func:`is_proclitic_prefix` and :func:`starts_with_clitic` (with :data:`CLITIC_LOOKALIKES`): the annotation
  policy checks of gold spans (seed markup, JSONL/CoNLL validation).
* :func:`split_clitics`: proclitics / stem / enclitic of a word, as features of the CRF baseline.
* :data:`PROCLITICS_PATTERN` and :data:`PROCLITICS_PATTERN_NO_CONJUNCTION`: the ``{C}`` cluster of the weak topic
  rules' pattern language (text in :func:`tagger.data.weak.normalize_for_match` form).

Titles: both the project's guidelines (``seeds/GUIDELINES.md`` 1.1) and ANERcorp keep titles, honorifics and
roles outside a PER span (``السيد [ستار هاشمي]``, ``الدكتور [...]``); a model trained on a small corpus still
sometimes swallows them. :func:`leading_titles` says how many leading words of a predicted person name are such
titles, so the decoder can drop them (``trim_titles``, saved with the model).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence

# ------------------------------------------------------------------------------------ decoding: clitic policy
PROCLITICS: tuple[str, ...] = ("وب", "وك", "ول", "فب", "فك", "فل", "و", "ف", "ب", "ك", "ل")

# First letters for which the decoder must look closer: a proclitic's letters and tatweel (which normalisation
# removes). A word starting with any other letter (outside the presentation forms) has no proclitic.
CLITIC_OR_CHANGED: frozenset[str] = frozenset("وفبكل\u0640")


def clitic_length(word: str, vocab: Collection[str] | None = None) -> int:
    """How many leading characters of ``word`` are a glued proclitic to leave outside an entity.

    Documented policy (``clitic_policy: strip``), first rule that applies:
    1. و/ف (+ ب/ك/ل) before the definite article: والجزائر, وبالقاهرة -> strip;
    2. ب/ك/ل before the definite article when the rest is a vocabulary word (بالجزائر; not كاليفورنيا);
    3. و/ف before a hamza-alef: وإسرائيل, وأوغندا -> strip;
    4. any proclitic when the rest (3+ letters) is a whole word of the encoder's vocabulary and the full word is
       not (وكينيا when كينيا is a vocabulary word).
    لل (ل + an elided ال) is never split: the entity keeps the whole word.
    """
    for p in PROCLITICS:
        if not word.startswith(p):
            continue
        rest = word[len(p) :]
        if len(rest) < 3 or rest.startswith("ل" + "ل"):
            continue
        if rest.startswith("ال") and len(rest) >= 4:
            if p[0] in "وف" or vocab is None or rest in vocab:
                return len(p)
        if p in ("و", "ف") and rest[0] in "أإآ":
            return len(p)
        if vocab is not None and word not in vocab and rest in vocab:
            return len(p)
    return 0


# ------------------------------------------------------------------------------------ annotation span policy
# Names that really begin like a proclitic + article (و/ف/ب/ل + ال, or لل); the policy check lets them pass.
# (ك + ال is not checked: a glued ك is rare before names, many names begin with كال, and وكالة = "agency".)
CLITIC_LOOKALIKES: tuple[str, ...] = (
    "والت", "والاس", "والمارت", "والونيا", "والدو", "بالي", "بالتيمور", "بالو", "بالم", "بالاو", "باليرمو",
    "بالما", "بالكان", "فالكون", "فالنسيا", "فالنتينو", "فالديز", "فاليتا", "فالفو",
)
_CLITIC_ARTICLE_RE = re.compile(r"^(?:[وف]?[بل]ال|[وف]ال|[وف]?لل)")
# What may stand glued in front of a span: optional و/ف, optional ب/ل/ك, optional tatweel (لـ).
_PROCLITICS_RE = re.compile(r"^[وف]?[بلك]?\u0640*$")


def starts_with_clitic(surface: str) -> bool:
    """True when ``surface`` begins with a glued proclitic + article (``بالجزائر``, ``للاتحاد``).

    Names that only look like that (``فالكون``, ``بالي``, ``وكالة``, ``كاليفورنيا``) are not flagged.
    """
    return bool(_CLITIC_ARTICLE_RE.match(surface)) and not surface.startswith(CLITIC_LOOKALIKES)


def is_proclitic_prefix(glued: str) -> bool:
    """True when ``glued`` (the letters between a word start and a span start) is only proclitics.

    Allowed: optional و/ف, optional ب/ل/ك, optional tatweel (``لـ``), diacritics anywhere (``وَ``).
    """
    return bool(_PROCLITICS_RE.match("".join(ch for ch in glued if unicodedata.category(ch) != "Mn")))


# ------------------------------------------------------------------------------------ CRF features: clitic split
_PROCLITIC_RE = re.compile(r"^(?P<conj>[وف])?(?P<prep>[بكل])?(?P<det>ال)?(?=\w{2,})")
_LAM_LAM_RE = re.compile(r"^(?P<conj>[وف])?لل(?=\w{2,})")  # li + al -> لل
_ENCLITIC_RE = re.compile(r"(?<=\w{2})(?:هما|كما|هم|هن|كم|كن|نا|ها|ه|ك|ي)$")


def split_clitics(word: str) -> tuple[str, str, str]:
    """``(proclitics, stem, enclitic)`` by a conservative rule: keep at least two letters in the stem."""
    pro = ""
    m = _LAM_LAM_RE.match(word)
    if m:
        pro = m.group(0)
    else:
        m = _PROCLITIC_RE.match(word)
        if m and m.group(0):
            pro = m.group(0)
    rest = word[len(pro) :]
    e = _ENCLITIC_RE.search(rest) if not pro.endswith("ال") and not pro.endswith("لل") else None
    enc = e.group(0) if e else ""
    stem = rest[: len(rest) - len(enc)] if enc else rest
    return pro, stem, enc


# ------------------------------------------------------------------------------------ weak topic rules: {C}
# Regex sources (not compiled) for text in matching form: an optional proclitic cluster (و/ف + ب/ك/ل + ال, or لل),
# and the same inside a compound (after a space: article/preposition, no conjunction).
PROCLITICS_PATTERN = r"(?:[وف]?(?:[بكل]?ال|لل|[بكل])?)"
PROCLITICS_PATTERN_NO_CONJUNCTION = r"(?:[بكل]?ال|لل|[بكل])?"

# ------------------------------------------------------------------------------------ person titles
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
    """How many leading ``words`` (normalised strings of one PER span) are titles, with the punctuation that
    follows one (``د .`` once punctuation is spaced off); never all of them, and never up to punctuation only."""
    k = 0
    while k < len(words) - 1 and (words[k] in PERSON_TITLES or words[k].rstrip(".") in PERSON_TITLES):
        k += 1
        while k < len(words) - 1 and words[k] in (".", "،", ","):
            k += 1
    return k
