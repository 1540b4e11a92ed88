"""Weak (rule-based) topic labels for Arabic news: precise regex patterns per label.

The patterns are written in ordinary Arabic and compiled after the same matching normalisation that is applied
to the text (:func:`normalize_for_match`: tashkeel/tatweel removed, alef/hamza/ya/ta-marbuta forms unified,
Arabic-Indic digits to ASCII, Latin lower-cased, ``#``/``_`` of hashtags to spaces), so one pattern matches
every spelling variant. Inside a pattern:

* ``{C}`` is an optional proclitic cluster: conjunction و/ف, preposition ب/ك/ل, definite article ال (or لل);
  after a space (the second word of a compound) it allows no conjunction (``الشبكات والاتصالات`` is a list,
  not ``شبكات الاتصالات``);
* ``{S}`` is an optional suffix: feminine/plural/dual endings, nisba ي, attached pronouns;
* a space matches any run of whitespace;
* each pattern is anchored on word boundaries (no letter before or after the match).

A label is assigned only when the topic is substantive (see ``shared/data/gold/GUIDELINES.md``): a strong
pattern in the title, or at least two hits in the body of which one is strong (two occurrences of the same
strong pattern count). Negative patterns (e.g. القنوات الفضائية, الفضاء الإلكتروني, مقاتلات الجيل الخامس,
اختراق الخلايا الإرهابية) are masked out of the text before the label's positive patterns run, so the words
they cover cannot fire. Two optional pattern sets refine the rule: an ``anchor`` (what the label is about, e.g.
a public body for e-government) turns a weak title hit into a decisive one when it also matches the lead, and a
``title_veto`` (genres where the words occur only in passing: job ads and admission notices for e-government,
war reports and social-media stories for 5G) stops the label for that document. Documents with some positive
evidence that falls short of the rule (or is vetoed) are marked ``abstain`` (unsure): a silver-data builder
should neither use them as positives nor as negatives.

The patterns themselves are data, in :mod:`tagger.data.weak_patterns`; this module is the engine. Add a label
by adding an entry to :data:`tagger.data.weak_patterns.PATTERN_SPECS` (or passing your own mapping).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from tagger.arabic import PROCLITICS_PATTERN, PROCLITICS_PATTERN_NO_CONJUNCTION
from tagger.data.weak_patterns import PATTERN_SPECS
from tagger.errors import TaggerError

DEFAULT_LABELS: tuple[str, ...] = ("5G", "cybersecurity", "e-government", "space")
DEFAULT = DEFAULT_LABELS
LEAD_CHARS = 300  # the "lead" of a document: its title plus this many characters of the body

_TASHKEEL = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_CHAR_MAP = str.maketrans(
    {
        "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي",
        "٠": "0", "١": "1", "٢": "2", "٣": "3", "٤": "4", "٥": "5", "٦": "6", "٧": "7", "٨": "8", "٩": "9",
        "#": " ", "_": " ", "«": " ", "»": " ", '"': " ", "“": " ", "”": " ", "″": " ", "\u200c": "", "\u200d": "", "\u200e": "", "\u200f": "",
    }
)


def normalize_for_match(text: str) -> str:
    """Return the matching form of ``text`` (same length not guaranteed; for matching only)."""
    text = unicodedata.normalize("NFKC", text)
    text = _TASHKEEL.sub("", text)
    return text.translate(_CHAR_MAP).lower()


# Optional proclitics (و/ف + ب/ك/ل + ال, or لل; no conjunction inside a compound) are in tagger.arabic;
# optional suffixes (gender/number endings, nisba, pronouns):
_S = r"(?:ه|ات|ان|ين|ون|تان|تين|يه|يات|يين|يون|ي|يا|ها|هم|هما|نا|كم|ته|تها|تهم|اته|اتها|اتهم)?"


def _split_top(expr: str) -> list[str]:
    """Split a regex at its top-level ``|`` (outside groups and character classes)."""
    parts, depth, start, in_class, i = [], 0, 0, False, 0
    while i < len(expr):
        ch = expr[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(expr[start:i])
            start = i + 1
        i += 1
    parts.append(expr[start:])
    return parts


def _literal_keys(expr: str) -> list[str] | None:
    """Literal substrings one of which every match of ``expr`` must contain (a cheap pre-filter), or None."""
    keys: list[str] = []
    for branch in _split_top(expr):
        while branch.startswith("{c}"):
            branch = branch[3:]
        if branch.startswith("(?:"):
            depth, end = 0, -1
            for j, ch in enumerate(branch):
                depth += ch == "("
                depth -= ch == ")"
                if depth == 0:
                    end = j
                    break
            if end < 0 or branch[end + 1 : end + 2] in ("?", "*"):
                return None
            sub = _literal_keys(branch[3:end])
            if sub is None:
                return None
            keys += sub
            continue
        lit = re.match(r"[^\\\[\](){}|?*+. ]*", branch).group(0)
        if branch[len(lit) : len(lit) + 1] in ("?", "*"):
            lit = lit[:-1]
        if len(lit) < 2:
            return None
        keys.append(lit)
    return keys


@dataclass(frozen=True)
class _Compiled:
    regex: re.Pattern[str]
    keys: tuple[str, ...] | None

    def finditer(self, text: str) -> Iterable[re.Match[str]]:
        if self.keys is not None and not any(k in text for k in self.keys):
            return ()
        return self.regex.finditer(text)

    def sub(self, repl: object, text: str) -> str:
        if self.keys is not None and not any(k in text for k in self.keys):
            return text
        return self.regex.sub(repl, text)  # type: ignore[arg-type]


def _compile(pattern: str) -> _Compiled:
    norm = normalize_for_match(pattern)
    body = norm.replace(" {c}", " " + PROCLITICS_PATTERN_NO_CONJUNCTION).replace("{c}", PROCLITICS_PATTERN)
    body = body.replace("{s}", _S).replace(" ", r"\s+")
    keys = _literal_keys(norm)
    return _Compiled(re.compile(r"(?<!\w)(?:" + body + r")(?!\w)"), tuple(keys) if keys else None)


@dataclass(frozen=True)
class LabelPatterns:
    """Patterns for one label: ``strong`` and ``weak`` positives, ``negative`` spans masked first."""

    strong: Sequence[str]
    weak: Sequence[str] = ()
    negative: Sequence[str] = ()
    max_weak: int = 1  # how many distinct weak hits may count towards the body rule
    # ``anchor``: what the label is about (e.g. a government body for e-government). A weak hit in the title
    # counts like a strong one when an anchor matches the title or the lead (first ``LEAD_CHARS`` of the body)
    # and the body has at least one more hit.
    anchor: Sequence[str] = ()
    # ``title_veto``: titles of genres where the label's words appear only in passing (job ads, admission
    # notices, war reports...). When one matches the title the label is never assigned; any evidence for it
    # makes the document ``abstain`` (left out of silver data, neither positive nor negative).
    title_veto: Sequence[str] = ()
    _compiled: dict[str, list[_Compiled]] = field(default_factory=dict, compare=False, repr=False)

    def compiled(self, kind: str) -> list[_Compiled]:
        if kind not in self._compiled:
            self._compiled[kind] = [_compile(p) for p in getattr(self, kind)]
        return self._compiled[kind]


PATTERNS: dict[str, LabelPatterns] = {label: LabelPatterns(**spec) for label, spec in PATTERN_SPECS.items()}
"""Every label's :class:`LabelPatterns`, built from the data in :mod:`tagger.data.weak_patterns`."""


@dataclass(frozen=True)
class WeakLabel:
    """Rule output for one text: assigned labels, matched evidence per label, and whether the rules are unsure."""

    labels: tuple[str, ...]
    evidence: dict[str, list[str]]
    abstain: bool
    negatives: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Hits:
    strong: list[str]
    weak: list[str]
    strong_patterns: set[int]
    weak_patterns: set[int]


class UnknownLabelError(TaggerError, KeyError):
    """A label was requested that has no pattern set."""


class WeakLabeler:
    """Assign topic labels to Arabic text with precise, morphology-aware regex patterns.

    Decision per label (after masking the label's negative patterns):

    * never positive when a ``title_veto`` pattern matches the title (unsure if there is any evidence);
    * positive if a strong pattern matches the title (the first line), or
    * a weak pattern matches the title, an ``anchor`` pattern matches the lead (title + first ``LEAD_CHARS``
      of the body) and the body has another hit, or
    * the body has >= ``min_body_hits`` hits with at least one strong one, where two distinct patterns or
      two occurrences of the same strong pattern count (weak hits add at most ``max_weak`` to the count);
    * ``abstain`` when any label has a strong hit but is not assigned, or a title weak hit plus a body hit.
    """

    def __init__(
        self,
        labels: Iterable[str] = DEFAULT_LABELS,
        patterns: Mapping[str, LabelPatterns] | None = None,
        min_body_hits: int = 2,
        max_weak: int = 1,
    ) -> None:
        table = PATTERNS if patterns is None else patterns
        self.labels: tuple[str, ...] = tuple(labels)
        for label in self.labels:
            if label not in table:
                raise UnknownLabelError(
                    f"no weak-label patterns for label {label!r}; known: {sorted(table)}; add a LabelPatterns "
                    "entry to tagger.data.weak.PATTERNS or pass patterns={...}"
                )
        self.patterns = {label: table[label] for label in self.labels}
        self.min_body_hits = min_body_hits
        self.max_weak = max_weak

    @staticmethod
    def _find(patterns: list[_Compiled], text: str) -> tuple[list[str], set[int], dict[int, int], str]:
        """Matches, pattern ids, per-pattern counts, and ``text`` with the matches masked out."""
        found: list[str] = []
        ids: set[int] = set()
        counts: dict[int, int] = {}
        chars = list(text)
        for i, pat in enumerate(patterns):
            for m in pat.finditer(text):
                if "¤" in chars[m.start()]:
                    continue  # overlaps an earlier pattern's match: one piece of text is one hit
                found.append(m.group(0))
                ids.add(i)
                counts[i] = counts.get(i, 0) + 1
                chars[m.start() : m.end()] = "¤" * (m.end() - m.start())
        return found, ids, counts, "".join(chars)

    def _mask(self, spec: LabelPatterns, text: str) -> tuple[str, list[str]]:
        negs: list[str] = []
        for pat in spec.compiled("negative"):
            def repl(m: re.Match[str]) -> str:
                negs.append(m.group(0))
                return "¤" * len(m.group(0))
            text = pat.sub(repl, text)
        return text, negs

    def score(self, text: str, label: str) -> tuple[bool, bool, list[str], list[str]]:
        """Return (positive, unsure, evidence, negative matches) for one label."""
        return self._score(normalize_for_match(text), label)

    def _score(self, norm: str, label: str) -> tuple[bool, bool, list[str], list[str]]:
        spec = self.patterns[label]
        title, _, body = norm.partition("\n")
        raw_title = title
        title, neg_t = self._mask(spec, title)
        body, neg_b = self._mask(spec, body)
        # weak patterns run on the text with the strong matches masked: a word counts once
        t_strong, _, _, title = self._find(spec.compiled("strong"), title)
        t_weak, t_wids, _, _ = self._find(spec.compiled("weak"), title)
        b_strong, b_sids, b_counts, body = self._find(spec.compiled("strong"), body)
        b_weak, b_wids, _, _ = self._find(spec.compiled("weak"), body)
        evidence = t_strong + b_strong + t_weak + b_weak
        negatives = neg_t + neg_b
        if spec.title_veto and any(True for p in spec.compiled("title_veto") for _ in p.finditer(raw_title)):
            return False, bool(evidence), evidence, negatives
        if t_strong:
            return True, False, evidence, negatives
        if t_weak and (b_strong or b_weak) and spec.anchor:
            lead = title + "\n" + body[:LEAD_CHARS]
            if any(True for p in spec.compiled("anchor") for _ in p.finditer(lead)):
                return True, False, evidence, negatives
        repeated = any(c >= 2 for c in b_counts.values())
        weak_ids = b_wids | t_wids
        max_weak = min(self.max_weak, spec.max_weak)
        count = len(b_sids) + int(repeated) + min(len(weak_ids), max_weak) + int(bool(t_weak and b_sids))
        if b_sids and count >= self.min_body_hits:
            return True, False, evidence, negatives
        unsure = bool(b_sids) or (bool(t_weak) and bool(b_weak) and len(weak_ids) >= 2)
        return False, unsure, evidence, negatives

    def label(self, text: str) -> WeakLabel:
        """Label one text (title on the first line, then the body)."""
        norm = normalize_for_match(text)
        labels: list[str] = []
        evidence: dict[str, list[str]] = {}
        negatives: dict[str, list[str]] = {}
        abstain = False
        for label in self.labels:
            positive, unsure, ev, neg = self._score(norm, label)
            if ev:
                evidence[label] = ev
            if neg:
                negatives[label] = neg
            if positive:
                labels.append(label)
            abstain = abstain or unsure
        return WeakLabel(labels=tuple(labels), evidence=evidence, abstain=abstain, negatives=negatives)

    def label_many(self, texts: Iterable[str]) -> list[WeakLabel]:
        return [self.label(t) for t in texts]
