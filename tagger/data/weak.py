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

Add a label by adding a :class:`LabelPatterns` to :data:`PATTERNS` (or passing your own mapping).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from tagger.arabic import PROCLITICS_PATTERN, PROCLITICS_PATTERN_NO_CONJUNCTION
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


_GEN = r"(?:ال)?(?:خامس|رابع|سادس|ثالث)"
_NET_WORDS = r"(?:شبك|تقني|اتصال|خدم|انترنت|هات|هوات|جوال|محمول|ترددات|باقات|سرع|تغطي|اجهز|موبايل)\w*"

_EGOV_SERVICE = (
    r"{C}(?:خدمات|خدمه|بوابه|بوابات|منصه|منصات|تطبيق|تطبيقات|تعاملات|معاملات|مسار|استعلام|تصاريح|تصريح)"
    r" {C}(?:الكترونيه|الكتروني|ذكيه|ذكي|رقميه|رقمي)"
)
# a public body: government, ministries, municipalities, agencies, public universities and hospitals
_PUBLIC_BODY = (
    r"{C}(?:وزاره|وزارات|وزير|امانه|امانات|بلديه|بلديات|جوازات|احوال مدنيه|ديوان|نيابه|محاكم|محكمه|حكومه|حكومات"
    r"|حكوميه|حكومي|داخليه|عدل|مرور|ولايه|معتمديه|اماره|مديريه|رياسه عامه|مؤسسه عامه|هييه|هيئه|جامعه|جامعات"
    r"|عماده|مستشفي|مستشفيات|شؤون صحيه|مركز المعلومات الوطني|تامينات اجتماعيه|مجلس الوزراء|بريد سعودي"
    r"|دوله|دواير حكوميه|قطاع عام|جهات حكوميه|خدمه مدنيه)"
)
_GOV_BODY = (
    r"{C}(?:وزاره|وزارات|امانه|امانات|بلديه|بلديات|جوازات|احوال مدنيه|ديوان|نيابه عامه|محاكم|محكمه|حكومه"
    r"|حكوميه|حكومي|جهات حكوميه|داخليه|عدل|وزير|هييه الزكاه|مصلحه الزكاه|تامينات اجتماعيه|اداره عامه|مرور"
    r"|بلدي|معتمديه|ولايه)"
)

PATTERNS: dict[str, LabelPatterns] = {
    "5G": LabelPatterns(
        strong=[
            r"(?:[3456]g|[3456] g|[3456]\s*جي|فايف جي|فور جي)",
            r"{C}" + _NET_WORDS + r" (?:من )?{C}جيل " + _GEN,
            r"{C}جيل " + _GEN + r" (?:من )?{C}(?:شبك|اتصال|انترنت|هات|هوات|تقني|جوال|محمول)\w*",
            r"{C}طيف {C}ترددي|{C}(?:ترددات|الترددات) {C}(?:طيف|اتصالات|جوال|اتصال|5g|4g|راديويه|خلويه)\w*",
            r"{C}(?:مزاد|مزايد|تخصيص|بيع|رخص) {C}ترددات",
            r"{C}(?:الياف|ليف) {C}(?:ضويي|بصري)\w*",
            r"{C}نطاق {C}عريض",
            r"{C}(?:ابراج|برج|محطات|محطه|مواقع) {C}(?:اتصالات|جوال|شبكه|شبكات|هاتف|ارسال|تقويه|قاعديه|خلويه)",
            r"{C}(?:شبك|شبكات) {C}(?:اتصالات|هاتف|جوال|محمول|هواتف|خلوي|الياف)\w*",
            r"{C}(?:شبك|شبكات) {C}(?:انترنت) {C}(?:فايق|عالي|متنقل|جوال|لاسلكي|ثابت|سريع)\w*",
            r"{C}(?:مشغل|مشغلي|مشغلو) {C}(?:اتصالات|هاتف|جوال|شبكات|محمول|افتراضي)\w*",
            r"{C}(?:مشغل|مشغلين|مشغلي) {C}(?:اتصالات )?{C}(?:متنقله|افتراضي|افتراضيين|افتراضيه)",
            r"{C}انترنت {C}(?:فايق|عالي|متنقل|جوال|ثابت)\w*",
            r"{C}(?:تغطيه|بنيه تحتيه|بنيه) {C}(?:شبك|اتصال|انترنت|رقميه|تحتيه للاتصالات)\w*",
            r"{C}(?:سوء|ضعف|انقطاع|انقطاعات|رداءه|تحسين|ايصال|توصيل|تعطل|بطء|توفير|تمديد|مد) {C}(?:خدم\w* |شبك\w* "
            r"|تغطيه )?{C}(?:انترنت|اتصالات|الياف)",
            r"{C}(?:سوء|ضعف|انقطاع|انقطاعات|رداءه|تحسين|ايصال|توصيل|تعطل|توفير|تمديد) {C}(?:خدم\w*|شبك\w*|تغطيه)"
            r" {C}(?:جوال|هاتف {C}(?:جوال|محمول|ثابت))",
            r"{C}(?:تجوال) {C}(?:دولي )?{C}(?:بيانات|للبيانات)|{C}(?:خدمات|خدمه) {C}(?:بيانات) {C}(?:جوال|متنقله)",
        ],
        weak=[
            r"{C}(?:اتصالات|الاتصالات) {C}(?:متنقله|سلكيه|لاسلكيه)",
            r"{C}(?:هييه|هيئه) {C}(?:اتصالات|تنظيم {C}اتصالات)",
            r"{C}(?:باق|باقه|باقات) {C}(?:انترنت|بيانات)",
            r"{C}(?:شركه زين|زين السعوديه|موبايلي|فودافون|اوريدو|اورنج|اتصالات سعوديه|stc|اتصالات مصر|اتصالات تونس"
            r"|اتصالات الامارات|تونيزيانا|اريكسون|ericsson)",
            r"{C}(?:سرع|سرعه) {C}(?:انترنت|اتصال|تحميل|شبكه|شبكات)",
            r"{C}(?:lte|ال تي اي|انترنت لاسلكي|انترنت اللاسلكي)",
            r"{C}ربط {C}(?:مناطق|قري|ارياف)\w*",
            r"{C}(?:تجوال) {C}(?:دولي)",
            r"{C}(?:خدم\w*|شبك\w*|تغطي\w*|ارسال) {C}(?:انترنت|اتصالات|جوال)",
            r"{C}(?:قطاع|سوق|شركات|شركه|مشغلي|مشغل) {C}(?:اتصالات)",
            r"{C}(?:مشترك\w*) {C}(?:جوال|اتصالات|انترنت|هاتف)\w*|{C}(?:شريحه|شرايح) {C}(?:اتصال|جوال|بيانات)\w*",
        ],
        negative=[
            r"{C}(?:مقاتل|طاير|طايرات|سفن|سفينه|مدمر|دبابه|دبابات|قاذف|قاذفات|حرب|حروب|غواص)\w* (?:من )?{C}جيل " + _GEN,
            r"{C}جيل " + _GEN + r" من {C}(?:مقاتل|طاير|حروب|حرب|سفن|دبابات|قاذف|غواص)\w*",
            r"{C}(?:شبك|شبكات) {C}(?:ارهابي|اجرامي|تهريب|مخدرات|دعاره|تجسس|عنكبوتيه|اجتماعي|تواصل|طرق|مياه|صرف|كهرباء)\w*",
            r"{C}(?:مواقع|شبكات) {C}تواصل {C}اجتماعي",
            r"{C}(?:نطاق) {C}عريض {C}من",
            # satellite internet is `space`; fibre in company accounts; routers in malware news; phone models
            r"{C}(?:اقمار|قمر|كوكبه) {C}(?:صناعي|اصطناعي)\w*[^.\n]{0,80}?{C}(?:انترنت|نطاق {C}عريض)",
            r"{C}(?:عقود|ايرادات|اصول) {C}(?:الياف)\w* {C}(?:بصري|ضويي)\w*",
            r"{C}(?:اجهزه|جهاز) {C}(?:ايصال|توصيل|توجيه) {C}انترنت",
            r"{C}(?:ايفون|iphone|جالكسي|غالاكسي|galaxy) (?:\S+ ){0,2}?(?:[345] ?(?:جي|g))\w*",
            r"{C}(?:سرعه|سرعات) {C}(?:واي فاي|wifi)",
        ],
        title_veto=[
            # war and security news (internet cut in a besieged city), social-media and gadget stories
            r"{C}(?:قتلي|قتيل|مقتل|قصف|غارات|غاره|اشتباكات|معارك|حوثي\w*|مليشيات|ميليشيات|داعش|هجوم|تفجير|انفجار"
            r"|متابع|متابعين|تغريده|تويتر|رعايه|يرعي|ترعي|مهرجان|جايزه|جوايز"
            r"|سحب|مسابقه|ايفون|جالكسي|غالاكسي|شاحن|بطاريه|اقمار|ستارلينك|سبيس اكس)\w*|{C}قمر {C}(?:صناعي|اصطناعي)",
        ],
    ),
    "cybersecurity": LabelPatterns(
        strong=[
            r"{C}(?:سيبراني|سيبرانيه|سيبرانيين|سيبرانيون|cyber\w*)",
            r"{C}امن {C}(?:معلومات|شبكات|الكتروني|رقمي|معلوماتي|بيانات)\w*",
            r"{C}(?:هجوم|هجمات|هجمه|حرب|حروب|جراي[مم]|جريمه|ارهاب|احتيال|تجسس|قرصنه|ابتزاز|تهديدات|اعتداءات)"
            r" {C}(?:الكترونيه|الكتروني|معلوماتيه|رقميه|رقمي|سيبرانيه|افتراضيه|عبر الانترنت)",
            r"{C}(?:قرصن|قراصن|قرصان)\w*",
            r"{C}(?:هاكر|هاكرز|هكر|هكرز|هاكرز|hackers?|hacking|hacked)",
            r"{C}(?:برمج|برامج|برنامج)\w* {C}(?:خبيث|ضار|تجسس|فدي)\w*",
            r"{C}(?:فيروس|فيروسات) {C}(?:فديه|حاسوب|كمبيوتر|الكتروني|معلوماتي)\w*",
            r"{C}(?:فديه|رانسوم|ransomware|malware|wannacry|واناكراي|وانا كراي|بتيا|petya|ddos|بوت نت|botnet)",
            r"{C}(?:تسريب|تسرب|سرقه|خرق|اختراق|قرصنه) {C}(?:بيانات|معلومات شخصيه|حسابات|بريد|كلمات مرور|خوادم)\w*",
            r"{C}(?:اختراق|اخترق|اخترقت|اختراقات|مخترق|مخترقين|مخترقون|يخترق|تخترق)\w* {C}(?:حساب|موقع|مواقع|بريد"
            r"|خادم|خوادم|انظمه|نظام|شبكه|شبكات|اجهزه|جهاز|هاتف|هواتف|كمبيوتر|حاسوب|بيانات|سيرفر|ايميل|تطبيق|منصه)\w*",
            r"{C}(?:تصيد|تصييد) {C}(?:احتيالي|الكتروني)\w*|{C}phishing",
            r"{C}(?:ثغر|ثغرات|ثغره) {C}(?:امني|امنيه|برمجيه)\w*",
            r"{C}(?:كاسبرسكي|kaspersky|سيمانتك|symantec|مكافي|mcafee|نورتون|norton|ايسيت|eset|فاير اي|fireeye"
            r"|تريند مايكرو|بالو التو|فورتينت|fortinet|سيسكو تالوس)",
            r"{C}(?:كامبريدج|كامبردج) {C}(?:اناليتيكا|انالتيكا)",
            r"{C}(?:تشفير|مشفره|مشفر) {C}(?:بيانات|رسايل|اتصالات|تشفير تام|طرفي)\w*",
            r"{C}(?:ابتزاز|احتيال|نصب) (?:عبر|على) {C}(?:انترنت|شبكه|مواقع|تواصل|رسايل)\w*",
            r"{C}(?:جرايم|جريمه) {C}معلوماتيه|{C}(?:مكافحه|نظام) {C}جرايم {C}معلوماتيه",
        ],
        weak=[
            r"{C}(?:اختراق|اختراقات|مخترق)\w*",
            r"{C}(?:سايبر|سيبر)",
            r"{C}(?:خصوصيه) {C}(?:مستخدمين|بيانات|مستخدم)\w*",
            r"{C}(?:حمايه|امن) {C}(?:بيانات|خصوصيه|حسابات)\w*",
            r"{C}(?:فيروس|فيروسات)",
            r"{C}(?:تشفير|مشفر|مشفره)",
            r"{C}(?:احتيال|ابتزاز)\w*",
            r"{C}(?:كلمه|كلمات) {C}(?:مرور|سر)",
            r"{C}(?:تجسس)",
        ],
        negative=[
            r"{C}(?:عملات?|عمله) {C}(?:مشفره|رقميه مشفره)",
            r"{C}(?:اختراق|اخترق|يخترق|تخترق)\w* {C}(?:خلاي|خليه|صفوف|دفاع|خطوط|حدود|اجواء|مجال|حاجز|جدار|قلب"
            r"|حصون|تنظيم|جماعات|جماعه|مرمي|شباك|منطقه|سوق|اسواق|مستوي|ارقام|طوق|حصار|جبهه|جبهات|سقف|عتبه)\w*",
            r"{C}(?:قرصنه|قراصنه|قرصان) {C}(?:بحري|بحريه|صومالي|صوماليين|سفن|سفينه)\w*",
            r"{C}(?:سفن|سفينه|ناقله) \w+ {C}(?:قرصنه|قراصنه)",
            r"{C}(?:برنامج|برامج) {C}تجسس {C}(?:عسكري)\w*",
            r"{C}(?:فيروس) {C}(?:كورونا|ايبولا|نقص|الكبد|زيكا|انفلونزا|ميرس)\w*",
        ],
    ),
    "space": LabelPatterns(
        strong=[
            r"{C}(?:وكاله|وكالات|هييه|هيئه|مركز|مراكز|برنامج|برامج|صناعه|صناعات|قطاع|علوم|استكشاف|غزو|سباق|رحله|رحلات"
            r"|محطه|رواد|رايد|رايده|رايدات|سياحه|مهمه|مهمات|قوه|قوات|عصر) {C}فضاء",
            r"{C}فضاء {C}(?:خارجي|كوني|الخارجي)\w*",
            r"{C}(?:رحل|مركب|محط|مهم|مكوك|كبسول|بعث|سياح|رحلات|مركبات|مهمات|صواريخ|صاروخ|برامج|برنامج|ابحاث|بحوث"
            r"|تجارب|صناع|وكال)\w* {C}فضاييه",
            r"{C}(?:ناسا|nasa|ايسا|esa|روسكوسموس|روسكوزموس|roscosmos|سبيس ?اكس|spacex|بلو اوريجين|blue origin"
            r"|فيرجن غالاكتيك|virgin galactic|سويوز|soyuz|فالكون 9|فالكون هيفي|falcon|اريان 5|اريان|ariane)",
            r"{C}(?:قمر|قمرين|قمران|اقمار) {C}(?:صناعي|اصطناعي|صناعيه|اصطناعيه)\w*",
            r"{C}(?:مسبار|مسابير|تلسكوب|تلسكوبات|تليسكوب|هابل|hubble|جيمس ويب|كيبلر|مكوك)\w*",
            r"{C}(?:مريخ|زحل|كوكب المشتري|عطارد|بلوتو|نبتون|اورانوس|كويكب|كويكبات|مذنبات|مذنب هالي|نيازك|نيزك|مجره"
            r"|مجرات|مجرتنا)",
            r"{C}(?:سطح|مدار|مداره|فوهات) {C}(?:قمر|مريخ|ارض|كوكب)\w*",
            r"{C}(?:كوكب|كواكب) {C}(?:احمر|جديد|شبيه|خارج|مجموعه|شمسي)\w*|{C}مجموعه {C}شمسيه",
            r"{C}ثقب {C}اسود|{C}ثقوب {C}سوداء",
            r"{C}(?:اطلاق|اطلق|اطلقت|يطلق|تطلق|اطلاقه) {C}(?:قمر|اقمار|صاروخ|مركبه|مسبار|كبسوله) {C}"
            r"(?:صناعي|اصطناعي|فضايي|حامل|اتصالات)\w*",
            r"{C}(?:عرب ?سات|arabsat|نايل ?سات|nilesat|ياه ?سات|yahsat|الثريا|thuraya|ستارلينك|starlink|ون ويب|oneweb)",
            r"{C}(?:علم|علماء|علوم) {C}فلك\w*|{C}(?:جمعيه|مرصد|مراصد|ظاهره|ظواهر|ابحاث) {C}(?:فلكيه|فلكي)",
            r"{C}(?:كسوف|خسوف)\w*",
        ],
        weak=[
            r"{C}(?:فضاء|فضايي|فضاييه)",
            r"{C}(?:صاروخ|صواريخ) (?:\w+ )?{C}(?:فالكون|حامل|اطلاق|مدار)\w*",
            r"{C}(?:مدار|مدارات)",
            r"{C}(?:قمر|اقمار)",
            r"{C}(?:كوكب|كواكب)",
            r"{C}(?:ايلون ماسك|ماسك)",
            r"{C}(?:نجوم|نجم|الشمس)",
            r"{C}(?:فلكي|فلكيه|فلكيين|فلك)",
        ],
        negative=[
            r"{C}(?:قنوات|قناه|محطات|محطه|بث|برامج|برنامج|اعلام)\w* {C}فضايي\w*",
            r"{C}(?:فضاييات|فضاييه)(?! (?:اوروبيه|امريكيه|روسيه|صينيه|سعوديه|اماراتيه|يابانيه|هنديه|دوليه))",
            r"{C}فضاء {C}(?:عنكبوتي|الكتروني|افتراضي|سيبراني|رقمي|معلوماتي|اعلامي|جوي|عام|عمومي|تجاري|ثقافي|حريه"
            r"|حريات|سياسي|اقتصادي|عربي|اسلامي|مغاربي|اوروبي|خليجي|شنغن|اقليمي|مشترك)\w*",
            r"{C}(?:ارض|اراضي|اراض|قطعه|قطع|مساحه|مساحات) {C}فضاء",
            r"{C}(?:فضاءات|فضاء) {C}(?:عرض|بيع|تجاري|ترفيه|للاطفال|للشباب|ثقافي)\w*",
            r"{C}(?:مجال|اجواء) {C}جوي\w*",
            r"{C}(?:صور|صوره|بيانات) {C}(?:اقمار|قمر) {C}(?:صناعي|اصطناعي)\w*",
            r"{C}(?:ارقام|مبالغ|اسعار|ارباح|خساير|تكاليف) {C}فلكيه",
            r"{C}(?:ابراج|برج) {C}(?:حمل|ثور|جوزاء|سرطان|اسد|عذراء|ميزان|عقرب|قوس|جدي|دلو|حوت)",
            r"{C}(?:حظك|طالع|توقعات الابراج|الابراج)",
            r"{C}(?:صاروخ|صواريخ) {C}(?:باليستي|باليستيه|كروز|مضاد|ارض|جو|بالستي|حوثي|ايراني|كاتيوشا|توماهوك)\w*",
            r"{C}(?:نجم|نجوم) {C}(?:فريق|كره|منتخب|سينما|هوليوود|غناء|فن|مسلسل|ريال|برشلونه)\w*",
        ],
    ),
    "e-government": LabelPatterns(
        strong=[
            r"{C}(?:حكومه|حكومات|اداره|اداره عامه) {C}(?:الكترونيه|ذكيه|رقميه)",
            r"{C}(?:تحول|تحويل) {C}(?:رقمي|الكتروني) (?:\w+ ){0,2}{C}(?:حكوم|وزار|اداري|اداره|جهات حكوميه|قطاع عام"
            r"|قطاع حكومي|خدمات عامه|بلدي|دوله)\w*",
            r"{C}(?:خدمات|خدمه|تعاملات|معاملات|منصات|منصه|بوابه|بوابات|انظمه) {C}(?:حكوميه|عامه)"
            r" {C}(?:الكترونيه|ذكيه|رقميه|عبر الانترنت)",
            r"{C}(?:خدمات|خدمه|تعاملات|معاملات) {C}(?:الكترونيه|ذكيه|رقميه) {C}(?:حكوميه|لوزاره|للوزاره|للدوله"
            r"|للبلديه|للامانه|للجوازات|للمرور|للاحوال|لوزارات)\w*",
            _EGOV_SERVICE + r"[^.\n]{0,60}?" + _GOV_BODY,
            _GOV_BODY + r"[^.\n]{0,60}?" + _EGOV_SERVICE,
            r"{C}(?:رقمنه|رقمنه) {C}(?:اداره|خدمات|مرافق|وثايق|قطاع|ادارات|معاملات|اجراءات)\w*",
            r"{C}(?:absher|yesser|برنامج يسر|ابشر اعمال|ابشر افراد|نظام سداد|منصه سداد|نظام مسار|منصه اعتماد"
            r"|منصه ناجز|بوابه ناجز|البوابه الوطنيه|منصه وطنيه موحده|منصه مساند|منصه بلدي|نظام نور|منصه جداره"
            r"|منصه طاقات|نظام فارس|نظام مقيم|منصه مدرستي|منصه اعمال|منصه قوي|بوابه مرور)",
            r"{C}(?:نظام|منصه|بوابه|خدمه|خدمات|عبر|تطبيق|حساب|برنامج|موقع) {C}(?:ابشر|مساند|سداد|مقيم|ناجز"
            r"|بلدي|طاقات|جداره|اجير)|{C}بوابه تكامل",
            r"{C}(?:هويه|هويات|توقيع|بطاقه|جواز) {C}(?:رقميه|رقمي|الكترونيه|الكتروني|بيومتري|بيومتريه)",
            r"{C}(?:بيانات|معطيات) {C}(?:حكوميه )?{C}مفتوحه",
            r"{C}(?:حوكمه) {C}(?:الكترونيه|رقميه)",
            r"{C}(?:مكتب|مكاتب) {C}(?:بلا ورق|لا ورقي)\w*|{C}(?:لا ورقيه|بلا ورق)",
            r"{C}(?:تسجيل|تقديم|حجز|سداد|دفع|تجديد|اصدار|استخراج|طلبات|طلب|اعتماد|تقديم طلبات|ربط|استقبال|انجاز"
            r"|استعلام|متابعه|تحميل|فحص|تصديق|توثيق|تصحيح) (?:[^\s.،]+ ){0,3}"
            r"(?:الكترونيا|الكترونيآ|عبر {C}(?:بوابه|منصه|موقع {C}وزاره|نظام)\w*)",
            r"{C}(?:اتمته|ميكنه|حوسبه|تحويل) {C}(?:خدمات|اجراءات|معاملات|تعاملات|الخدمات الحكوميه)\w*",
            r"{C}(?:تقليص|الغاء|تقليل|الحد من|الاستغناء عن|يلغي|تلغي) {C}(?:معاملات ورقيه|ورق)",
            r"{C}(?:مسار|تسجيل) {C}(?:الكتروني) {C}(?:لحجاج|حجاج)",
        ],
        weak=[
            r"{C}(?:خدمات|خدمه|بوابه|بوابات|منصه|منصات|تطبيق|تطبيقات|نظام|انظمه|مسار|استعلام|استبانه|تصاريح|تصريح"
            r"|اجراءات|تسجيل|تعاملات|معاملات|بطاقه|بطاقات|ربط) {C}(?:الكترونيه|الكتروني|ذكيه|رقميه|رقمي)",
            r"{C}(?:الكترونيا|الكترونيآ)",
            r"{C}(?:تحول|تحويل) {C}(?:رقمي|الكتروني)",
            r"{C}(?:دفع|سداد) {C}(?:الكتروني|رسوم|مخالفات|فواتير)\w*",
            r"{C}(?:ابشر|مساند|ناجز)",
        ],
        anchor=[_PUBLIC_BODY],
        title_veto=[
            # job ads, admission and exam notices, wage-protection and payroll notices: the portal is in passing
            r"{C}(?:وظايف|وظيفه|وظيفي|وظيفيه|توظيف|الوظايف|مرشحين|مرشحات|مرشح|مفاضله|مقابلات|مقابله|مطابقه"
            r"|قبول|المقبولين|مقبولين|مستجدين|مستجدات|تحويل خارجي|نتايج|اختبارات|حركه نقل|نقل المعلمين|حمايه اجور"
            r"|رواتب|مكافات|اعانه|اعانات|تصحيح اوضاع|زواج|وفاه|جريمه|القبض|ضبط)\w*",
        ],
        negative=[
            r"{C}(?:خدمات|تعاملات|معاملات|قنوات|منصه|منصات|تطبيق|تطبيقات) {C}(?:الكترونيه|رقميه|الكتروني|رقمي|ذكي|ذكيه)"
            r" {C}(?:مصرفيه|بنكيه|للبنك|للبنوك|للمصارف|للشركه|لشركه|لعملاء|للعملاء|للمصرف|للمتجر)\w*",
            r"{C}(?:تحول|تحويل) {C}(?:رقمي|الكتروني) {C}(?:لشركه|للشركه|للشركات|لشركات|للبنك|لبنوك|للبنوك"
            r"|في {C}(?:شركه|شركات|بنك|بنوك|مصارف|مصرف|قطاع خاص|قطاع مصرفي|مؤسسات ماليه))\w*",
            r"{C}(?:خدمات|خدمه|قنوات) {C}(?:مصرفيه|بنكيه) {C}(?:الكترونيه|رقميه|ذكيه|جواله)",
            r"{C}(?:بوابه|منصه|موقع|تطبيق) {C}(?:الكترونيه|الكتروني) {C}(?:لشركه|للشركه|لبنك|للبنك|للمتجر|لمتجر)\w*",
            r"{C}(?:تعليم|تعلم|كتب|كتاب|العاب|لعبه|سجاير|سيجاره|بريد|تجاره|تسوق|متاجر|متجر) {C}(?:الكتروني|الكترونيه)",
        ],
    ),
    "digital-economy": LabelPatterns(
        strong=[
            r"{C}اقتصاد {C}(?:رقمي|معرفي|الكتروني|انترنت)",
            r"{C}(?:تجاره|تجارات|تسوق|متجر|متاجر) {C}(?:الكترونيه|الكتروني|رقميه|رقمي)",
            r"{C}(?:تقنيه|تقنيات|تكنولوجيا) {C}(?:ماليه|مالي)|{C}(?:فنتك|fintech|فين تك)",
            r"{C}(?:مدفوعات|دفع) {C}(?:رقميه|الكتروني|الكترونيه|رقمي|عبر الهاتف|بالهاتف|الهاتف المحمول)",
            r"{C}(?:عملات|عمله) {C}(?:رقميه|مشفره|افتراضيه)|{C}(?:بيتكوين|bitcoin|بلوك ?تشين|blockchain|سلسله الكتل)",
            r"{C}(?:شركات|شركه) {C}(?:ناشيه|تقنيه ناشيه)|{C}(?:ستارت ?اب|startups?)",
        ],
        weak=[
            r"{C}(?:تحول|تحويل) {C}(?:رقمي|الكتروني)",
            r"{C}(?:رقمنه)",
            r"{C}(?:امازون|علي بابا|alibaba|amazon|اوبر|uber|كريم|careem|نون)",
            r"{C}(?:محفظه|محافظ) {C}(?:الكترونيه|رقميه)",
        ],
        negative=[],
    ),
}


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
