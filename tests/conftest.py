"""Offline fixtures: a tiny random BERT with a WordPiece tokenizer trained on a few Arabic sentences."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

SENTENCES = [
    "التقى وزير الاتصالات الإيراني ستار هاشمي نظيره الكيني في نيروبي",
    "أعلنت وزارة الاتصالات وتكنولوجيا المعلومات عن تشغيل شبكة الجيل الخامس",
    "وقعت الجزائر وكينيا اتفاقا للتعاون في مجال الأمن السيبراني والحكومة الذكية",
    "أطلقت وكالة الفضاء الإماراتية قمرا صناعيا جديدا من قاعدة كيب كانافيرال",
    "قال علي زروقي وزير البريد والاتصالات إن الجزائر تطور البنية التحتية",
    "هجوم إلكتروني ببرمجية الفدية استهدف مستشفى في دبي",
    "منصة الخدمات الحكومية الإلكترونية في السعودية تقدم أكثر من ألف خدمة",
    "فاز فريق الهلال على النصر في الدوري السعودي لكرة القدم",
    "Huawei و Ericsson و SpaceX شركات عالمية 5G LTE 2025",
]


def _build_encoder(path: Path) -> Path:
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import BertConfig, BertForMaskedLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False, clean_text=True,
                                                handle_chinese_chars=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    trainer = trainers.WordPieceTrainer(vocab_size=400, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    tok.train_from_iterator(SENTENCES * 3, trainer)
    from tokenizers.processors import TemplateProcessing

    tok.post_processor = TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))],
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]",
        mask_token="[MASK]", model_max_length=64,
    )
    import torch

    torch.manual_seed(0)
    config = BertConfig(vocab_size=fast.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    model = BertForMaskedLM(config)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    fast.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory) -> Path:
    """Directory of a tiny random BERT + tokenizer (session-wide; copy it before changing it)."""
    return _build_encoder(tmp_path_factory.mktemp("tiny") / "encoder")


@pytest.fixture(scope="session")
def ner_jsonl(tmp_path_factory) -> Path:
    return FIXTURES / "ner_small.jsonl"


@pytest.fixture(scope="session")
def trained_ner(tmp_path_factory, tiny_encoder) -> Path:
    """A tiny NER model trained for a few steps on the fixture data (session-wide, read-only)."""
    from tagger.trainer import train

    out = tmp_path_factory.mktemp("ner") / "model"
    train({
        "task": "ner", "model": str(tiny_encoder), "train": str(FIXTURES / "ner_small.jsonl"),
        "dev": str(FIXTURES / "ner_small.jsonl"), "output_dir": str(out), "epochs": 2, "batch_size": 4,
        "learning_rate": 1e-3, "max_length": 24, "stride": 4, "seed": 1,
    })
    return out


@pytest.fixture(scope="session")
def trained_topics(tmp_path_factory, tiny_encoder) -> Path:
    from tagger.trainer import train

    out = tmp_path_factory.mktemp("topics") / "model"
    train({
        "task": "topics", "model": str(tiny_encoder), "train": str(FIXTURES / "topics_small.jsonl"),
        "dev": str(FIXTURES / "topics_small.jsonl"), "output_dir": str(out), "epochs": 2, "batch_size": 4,
        "learning_rate": 1e-3, "max_length": 24, "stride": 4, "seed": 1,
    })
    return out


def copy_model(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


needs_shared = pytest.mark.skipif(not (SHARED / "models" / "arabic-mini-bert").is_dir(),
                                  reason="../shared (data and the pretrained mini encoder) is not present")
