"""The committed seed corpus: valid, reproducible from its markup sources, and big enough (issue 4)."""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from tagger.data.corpus import SPLITS, load_sources, split_documents
from tagger.data.io import read_jsonl, validate_document
from tagger.data.markup import check_spans
from tagger.schema import DEFAULT_TOPICS, ENTITY_LABELS, Document

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED_SEED = ROOT.parent / "shared" / "seeds"
JSONL_FILES = ["corpus.jsonl", *(f"{name}.jsonl" for name in SPLITS)]


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_seeds", ROOT / "training" / "build_seeds.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus() -> list[Document]:
    return read_jsonl(SEEDS / "corpus.jsonl")


def records(name: str) -> list[dict]:
    return [json.loads(line) for line in (SEEDS / name).read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("name", JSONL_FILES)
def test_seeds_corpus_every_file_validates(name: str) -> None:
    docs = read_jsonl(SEEDS / name)  # the library reader checks ranges, overlaps and word boundaries
    problems = [p for d in docs for p in validate_document(d, ENTITY_LABELS, DEFAULT_TOPICS)]
    problems += [f"{d.id}: {p}" for d in docs for p in check_spans(d.text, d.entities)]
    assert problems == []
    for rec in records(name):
        assert list(rec) == ["id", "text", "entities", "topics"]
        assert rec["topics"] == sorted(set(rec["topics"]))


def test_seeds_corpus_sources_rebuild_to_the_committed_files() -> None:
    assert load_script().main(["--check"]) == 0, "run: python training/build_seeds.py"


def test_seeds_corpus_build_is_deterministic(tmp_path: Path) -> None:
    script = load_script()
    readme = tmp_path / "README.md"
    shutil.copy(SEEDS / "README.md", readme)
    for out in (tmp_path / "one", tmp_path / "two"):
        assert script.main(["--out", str(out), "--readme", str(readme)]) == 0
    for name in JSONL_FILES:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()
        assert (tmp_path / "one" / name).read_bytes() == (SEEDS / name).read_bytes()
    assert readme.read_bytes() == (SEEDS / "README.md").read_bytes()


def test_seeds_corpus_build_reports_markup_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "batch_z.txt").write_text("### doc: z-001\ntopics:\nفي [[دبي|CITY]]\n", encoding="utf-8")
    code = load_script().main(["--src", str(src), "--out", str(tmp_path), "--readme", str(SEEDS / "README.md")])
    assert code == 2
    assert f"{src / 'batch_z.txt'}:3: unknown label 'CITY'" in capsys.readouterr().err


def test_seeds_corpus_meets_the_size_bar(corpus: list[Document]) -> None:
    docs = [d for d in corpus if d.id != "seed-000"]
    assert len(docs) >= 400
    topics = Counter(t for d in docs for t in d.topics or [])
    assert all(topics[label] >= 60 for label in DEFAULT_TOPICS), topics
    assert sum(not d.topics for d in docs) >= 0.30 * len(docs)
    assert sum(len(d.text.split()) > 450 for d in docs) >= 20
    assert sum(len(d.topics or []) >= 2 for d in docs) >= 10
    labels = Counter(s.label for d in docs for s in d.entities)
    assert all(labels[label] >= 100 for label in ENTITY_LABELS), labels


def test_seeds_corpus_splits_partition_the_corpus_by_topic(corpus: list[Document]) -> None:
    ids = {name: [r["id"] for r in records(f"{name}.jsonl")] for name in SPLITS}
    assert sorted(i for name in SPLITS for i in ids[name]) == sorted(d.id for d in corpus)
    assert len(ids["train"]) > 0.75 * len(corpus) and len(ids["dev"]) > 0.08 * len(corpus)
    for name in ("dev", "test"):
        topics = Counter(t for r in records(f"{name}.jsonl") for t in r["topics"])
        assert all(topics[label] >= 3 for label in DEFAULT_TOPICS), (name, topics)


def test_seeds_corpus_split_is_stratified_and_pins_seed() -> None:
    docs = [Document(text="x", topics=["space"] if i % 3 else [], id=f"t-{i:03d}") for i in range(100)]
    docs.append(Document(text="x", topics=["5G"], id="seed-000"))
    splits = split_documents(docs, pinned={"seed-000": "test"})
    assert [len(splits[n]) for n in SPLITS] == [80, 10, 11]
    assert "seed-000" in {d.id for d in splits["test"]}
    for name in ("dev", "test"):
        assert 2 <= sum(not d.topics for d in splits[name]) <= 4  # ~1/3 of each split has no topic
    assert split_documents(docs, pinned={"seed-000": "test"}) == splits


def test_seeds_corpus_seed_article_is_in_test_verbatim() -> None:
    test = {r["id"]: r for r in records("test.jsonl")}
    assert "seed-000" in test
    article = (SEEDS / "seed_article.txt").read_text(encoding="utf-8")
    assert test["seed-000"]["text"] == article.strip()
    assert sorted(test["seed-000"]["topics"]) == list(DEFAULT_TOPICS)
    (doc,) = [d for d in load_sources(SEEDS / "src") if d.id == "seed-000"]
    found = {(doc.text[s.start:s.end], s.label) for s in doc.entities}
    assert {("وزارة الاتصالات وتكنولوجيا المعلومات", "ORG"), ("علي زروقي", "PER"), ("كينيا", "LOC")} <= found


def test_seeds_corpus_seed_article_matches_the_shared_seed() -> None:
    shared = sorted(SHARED_SEED.glob("*.txt")) if SHARED_SEED.is_dir() else []
    if not shared:
        pytest.skip("../shared/seeds is not present")
    assert (SEEDS / "seed_article.txt").read_bytes() == shared[0].read_bytes()
