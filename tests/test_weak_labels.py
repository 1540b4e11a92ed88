"""Weak topic rules (tagger.data.weak) on hand-written Arabic sentences: positives, clitic forms, hard negatives."""

from __future__ import annotations

import pytest

from tagger.data.weak import LabelPatterns, UnknownLabelError, WeakLabeler, normalize_for_match


@pytest.fixture(scope="module")
def labeler() -> WeakLabeler:
    return WeakLabeler()


POSITIVE = [
    # 5G: title strong, clitics and plural forms, dual / feminine endings
    ("5G", "وزير الاتصالات يفتتح أول موقع لشبكة الجيل الخامس في العاصمة\nقال الوزير إن الشبكة ستغطي الأحياء."),
    ("5G", "خطة وطنية للاتصالات\nأعلنت الهيئة مزاد الترددات الجديد، وقالت إن مشغلي الاتصالات سيتنافسون على "
           "الطيف الترددي المخصص لشبكات الجيل الخامس."),
    ("5G", "الشركة تطلق خدمات «5G» التجارية\nبدأت الشركة تشغيل الخدمة في ثلاث مدن."),
    ("5G", "تقرير عن القرى النائية\nتعمل الهيئة على إيصال خدمات الاتصالات إلى القرى، وبمدّ الألياف الضوئية "
           "إلى المدارس وتحسين تغطية الشبكة."),
    ("5G", "رخصة جديدة لمشغل افتراضي\nمنحت الهيئة رخصة لمشغل اتصالات متنقلة افتراضي."),
    # cybersecurity
    ("cybersecurity", "هجمات إلكترونية تستهدف المصارف\nحذر خبراء من موجة برمجيات خبيثة جديدة."),
    ("cybersecurity", "عنوان عام\nأعلنت الهيئة الوطنية للأمن السيبراني عن تمرين، وحذرت من هجوم إلكتروني يستهدف "
                      "خوادم الوزارات."),
    ("cybersecurity", "قراصنة يخترقون حساب الوزارة على تويتر\nتمكن مجهولون من اختراق حساب رسمي."),
    ("cybersecurity", "فضيحة كامبريدج أناليتيكا تتسع\nقالت الشركة إن بيانات ملايين المستخدمين تسربت."),
    ("cybersecurity", "برامج الفدية تضرب المستشفيات\nطالب المهاجمون بفدية مقابل فك تشفير الملفات."),
    # space
    ("space", "وكالة الفضاء الإماراتية تطلق مسباراً إلى المريخ\nانطلق الصاروخ من قاعدة في اليابان."),
    ("space", "خبر علمي\nرصد تلسكوب هابل كويكباً قرب الأرض، وقالت ناسا إنه لا يشكل خطراً."),
    ("space", "إطلاق قمرين صناعيين للاتصالات\nنجحت الشركة في وضع القمرين في المدار."),
    ("space", "رواد الفضاء يعودون إلى الأرض\nهبطت الكبسولة بعد ستة أشهر في محطة الفضاء الدولية."),
    # e-government
    ("e-government", "الحكومة الإلكترونية توفر 300 خدمة جديدة\nأعلنت الوزارة إطلاق البوابة الموحدة."),
    ("e-government", "الوزارة تطلق منصة جديدة\nأطلقت وزارة العدل خدمات إلكترونية لإصدار الوكالات، وأصبح "
                     "بإمكان المواطنين السداد إلكترونياً عبر نظام سداد."),
    ("e-government", "تجديد جوازات السفر عبر أبشر\nأتاحت الجوازات الخدمة للمواطنين."),
    ("e-government", "رقمنة الإدارة العمومية\nقالت الوزيرة إن رقمنة الخدمات الإدارية ستختصر الإجراءات."),
    # a weak title hit anchored by a public body in the lead, plus a body hit
    ("e-government", "إطلاق منصة إلكترونية لتراخيص البناء\nأطلقت أمانة المنطقة المنصة لتمكين المواطنين من "
                     "التقديم دون مراجعة، ويمكن متابعة الطلبات إلكترونياً."),
    ("e-government", "وزارة العمل تبدأ إصدار تأشيرات الاستقدام إلكترونياً\nأطلقت الوزارة الخدمة عبر موقع مساند."),
]

NEGATIVE = [
    # space rulings
    ("space", "القنوات الفضائية تتنافس على الدراما\nبثت القنوات الفضائية العربية عشرات المسلسلات."),
    ("space", "مخاطر الفضاء العنكبوتي على الأطفال\nيقضي الأطفال ساعات في الفضاء الإلكتروني."),
    ("space", "بيع أرض فضاء في حي الملقا\nعرضت الأمانة قطعة أرض فضاء للبيع."),
    ("space", "حظك اليوم\nبرج الحمل: يوم مناسب للعمل. برج الثور: انتبه للمال."),
    ("space", "خرق المجال الجوي\nاخترقت طائرة حربية المجال الجوي للبلاد."),
    ("space", "افتتاح فضاء تجاري جديد\nافتتح فضاء تجاري كبير في وسط المدينة."),
    # 5G rulings
    ("5G", "مقاتلات الجيل الخامس في المعرض\nعرضت الشركة مقاتلة من الجيل الخامس وطائرات الجيل الرابع."),
    ("5G", "حروب الجيل الرابع\nحذر الخبير من حروب الجيل الرابع التي تستهدف المجتمعات."),
    ("5G", "مراجعة هاتف جديد\nيأتي الهاتف بشاشة كبيرة وكاميرا ممتازة وبطارية تدوم يومين."),
    ("5G", "تفكيك شبكة تهريب\nأطاحت الشرطة بشبكة إجرامية وشبكات تهريب المخدرات."),
    # cybersecurity rulings
    ("cybersecurity", "الأمن يخترق خلية إرهابية\nتمكنت الأجهزة الأمنية من اختراق الخلايا الإرهابية."),
    ("cybersecurity", "المهاجم يخترق دفاعات الخصم\nنجح اللاعب في اختراق الدفاع وسجل هدفاً."),
    ("cybersecurity", "المؤشر يفشل في اختراق حاجز 8000 نقطة\nتراجعت الأسهم في ختام التعاملات."),
    ("cybersecurity", "ارتفاع العملات المشفرة\nصعدت العملات المشفرة بعد قرار البنك."),
    # e-government rulings
    ("e-government", "البنك يطلق خدمات إلكترونية للعملاء\nأطلق البنك تطبيقاً جديداً."),
    ("e-government", "التحول الرقمي للشركات\nتحدث المؤتمر عن التحول الرقمي في القطاع الخاص والبنوك."),
    ("e-government", "الوزير يزور المنطقة\nقالت الوزارة على موقعها الإلكتروني إن الزيارة تستمر يومين."),
    # job ads and admission notices: the portal is in passing (title veto), even with strong body evidence
    ("e-government", "وظائف شاغرة في وزارة الصحة\nعلى الراغبين التقديم إلكترونياً عبر البوابة الإلكترونية "
                     "للوزارة، وحجز موعد المقابلة إلكترونياً."),
    ("e-government", "بنك يطلق منصة إلكترونية جديدة\nأطلق البنك الخدمات المصرفية الإلكترونية لعملائه."),
    # 5G: satellite internet is space, internet cut in war news, fibre in company accounts, phone models
    ("5G", "أكثر من 4 آلاف قمر صناعي لتوفير الإنترنت\nوافقت هيئة الاتصالات على خدمات النطاق العريض عبر الأقمار."),
    ("5G", "قتلى في قصف على المدينة\nأدى القصف إلى انقطاع خدمة الإنترنت وانقطاع الاتصالات عن الأحياء."),
    ("5G", "الشركة تغير سياستها المحاسبية\nقررت الاعتراف بإيرادات عقود الألياف البصرية على مدى العقد، وإيرادات "
           "الألياف البصرية الأخرى."),
    ("5G", "عودة آيفون 3 جي إس إلى الأسواق\nستبيع الشركة هاتف آيفون 3 جي إس بسعر منخفض."),
]


@pytest.mark.parametrize(("label", "text"), POSITIVE)
def test_weak_labels_positive(labeler: WeakLabeler, label: str, text: str) -> None:
    result = labeler.label(text)
    assert label in result.labels, result


@pytest.mark.parametrize(("label", "text"), NEGATIVE)
def test_weak_labels_hard_negative(labeler: WeakLabeler, label: str, text: str) -> None:
    result = labeler.label(text)
    assert label not in result.labels, result


def test_weak_labels_passing_mention_is_not_enough(labeler: WeakLabeler) -> None:
    text = "الأسهم الخليجية ترتفع\nارتفعت الأسهم، وقال محلل إن قطاع الفضاء أحد القطاعات الواعدة مع السياحة."
    result = labeler.label(text)
    assert result.labels == ()
    assert result.abstain  # one strong body hit: unsure, not a negative


def test_weak_labels_normalisation_tashkeel_tatweel_alef() -> None:
    assert normalize_for_match("الأمْنُ السـيـبرانيّ") == "الامن السيبراني"
    assert normalize_for_match("إطلاق ٥G") == "اطلاق 5g"
    assert WeakLabeler().label("الأمـْنُ السِّيبرانيّ أولوية\nنص").labels == ("cybersecurity",)


def test_weak_labels_evidence_and_negatives_recorded(labeler: WeakLabeler) -> None:
    result = labeler.label("ناسا تطلق تلسكوباً جديداً\nلا علاقة له بالقنوات الفضائية.")
    assert result.labels == ("space",)
    assert any("ناسا" in e for e in result.evidence["space"])
    assert result.negatives["space"]


def test_weak_labels_digital_economy_and_custom_labels() -> None:
    de = WeakLabeler(labels=("digital-economy",))
    assert de.label("نمو التجارة الإلكترونية في المنطقة\nقال التقرير إن الاقتصاد الرقمي يتوسع.").labels == (
        "digital-economy",
    )
    custom = WeakLabeler(labels=("ai",), patterns={"ai": LabelPatterns(strong=[r"{C}ذكاء {C}اصطناعي"])})
    assert custom.label("الذكاء الاصطناعي في التعليم\nنص").labels == ("ai",)
    with pytest.raises(UnknownLabelError, match="no weak-label patterns"):
        WeakLabeler(labels=("sports",))


def test_weak_labels_title_veto_abstains_instead_of_negative(labeler: WeakLabeler) -> None:
    text = "مقابلات المرشحين للوظائف التعليمية\nأطلقت الوزارة خدمات إلكترونية للوزارة لحجز المواعيد إلكترونياً."
    result = labeler.label(text)
    assert "e-government" not in result.labels
    assert result.abstain  # vetoed evidence: left out of silver data, not used as a negative
