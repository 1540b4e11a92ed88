"""Issue 19 (part 2): Hugging Face ``datasets`` in and out -- train from a dataset, tag a dataset (offline)."""

from __future__ import annotations

import shutil

import pytest
from conftest import FIXTURES, read_jsonl

datasets = pytest.importorskip("datasets")

from datasets import ClassLabel, Dataset, DatasetDict, List, Value  # noqa: E402

from tagger import Tagger  # noqa: E402
from tagger.errors import ConfigError, DataError  # noqa: E402
from tagger.integrations.hf_datasets import to_documents  # noqa: E402
from tagger.model import read_block  # noqa: E402
from tagger.trainer import train  # noqa: E402

# the settings of conftest's trained_ner / trained_topics (trained from the JSONL fixtures)
TINY = {"epochs": 2, "batch_size": 4, "learning_rate": 1e-3, "max_length": 24, "stride": 4, "seed": 1}
TOPICS = ["5G", "cybersecurity", "e-government", "space"]


def _texts(name: str) -> list[str]:
    return [r["text"] for r in read_jsonl(FIXTURES / name)]


def _same_entities(a, b) -> None:
    for pa, pb in zip(a, b):
        assert [(e.text, e.label, e.start, e.end) for e in pa.entities] == \
            [(e.text, e.label, e.start, e.end) for e in pb.entities]
        assert [e.score for e in pa.entities] == pytest.approx([e.score for e in pb.entities], abs=1e-5)


# ---------------------------------------------------------------------------------------------- training
def test_issue_19_ner_from_a_dataset_with_renamed_columns_predicts_like_jsonl(tmp_path, tiny_encoder, trained_ner):
    rows = [{"doc": r["id"], "body": r["text"], "spans": r["entities"]} for r in read_jsonl(FIXTURES / "ner_small.jsonl")]
    ds = Dataset.from_list(rows)
    out = tmp_path / "ner"
    train({"task": "ner", "model": str(tiny_encoder), "train": ds, "dev": ds, "output_dir": str(out),
           "columns": {"text": "body", "entities": "spans", "id": "doc"}, **TINY})
    texts = _texts("ner_small.jsonl")
    _same_entities(Tagger.from_pretrained(out).predict(texts), Tagger.from_pretrained(trained_ner).predict(texts))
    saved = (out / "training_config.yaml").read_text(encoding="utf-8")
    assert f"<Dataset: {len(rows)} rows>" in saved and "body" in saved


def test_issue_19_topics_from_parquet_with_classlabel_ints_predicts_like_jsonl(tmp_path, tiny_encoder, trained_topics):
    rows = [{"body": r["text"], "cats": r.get("topics")} for r in read_jsonl(FIXTURES / "topics_small.jsonl")]
    ds = Dataset.from_list(rows).cast_column("cats", List(Value("string")))
    ds = ds.map(lambda r: {"cats": [TOPICS.index(t) for t in r["cats"]] if r["cats"] is not None else None})
    ds = ds.cast_column("cats", List(ClassLabel(names=TOPICS)))
    path = tmp_path / "topics.parquet"
    ds.to_parquet(str(path))
    out = tmp_path / "topics"
    # a path as a YAML config gives it: parquet is read with datasets, ClassLabel names from the file's features
    train({"task": "topics", "model": str(tiny_encoder), "train": str(path), "dev": [str(path)],
           "output_dir": str(out), "columns": {"text": "body", "topics": "cats"}, **TINY})
    mine, ref = Tagger.from_pretrained(out), Tagger.from_pretrained(trained_topics)
    assert mine.topic_labels == ref.topic_labels
    texts = _texts("topics_small.jsonl")
    assert mine.topic_scores(texts) == pytest.approx(ref.topic_scores(texts), abs=1e-5)
    assert [p.topics.labels for p in mine.predict(texts)] == [p.topics.labels for p in ref.predict(texts)]


def _conll_rows() -> list[dict]:
    words = [("التقى وزير الاتصالات ستار هاشمي نظيره الكيني في نيروبي".split(), [0, 0, 0, 1, 2, 0, 0, 0, 3]),
             ("أطلقت وكالة الفضاء الإماراتية قمرا صناعيا".split(), [0, 5, 6, 6, 0, 0]),
             ("قال علي زروقي إن الجزائر تطور البنية التحتية".split(), [0, 1, 2, 0, 3, 0, 0, 0]),
             ("وقعت الجزائر وكينيا اتفاقا للتعاون".split(), [0, 3, 3, 0, 0])]
    return [{"words": w, "iob": t} for w, t in words]


TAGS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]


def test_issue_19_ner_from_tokens_and_classlabel_tags_predicts_like_conll(tmp_path, tiny_encoder):
    ds = Dataset.from_list(_conll_rows()).cast_column("iob", List(ClassLabel(names=TAGS)))
    docs = to_documents(ds, {"tokens": "words", "tags": "iob"})
    assert docs[0].text == " ".join(_conll_rows()[0]["words"])
    assert [(docs[0].text[s.start:s.end], s.label) for s in docs[0].entities] == [("ستار هاشمي", "PER"), ("نيروبي", "LOC")]
    conll = tmp_path / "train.conll"
    conll.write_text("\n\n".join("\n".join(f"{w}\t{TAGS[t]}" for w, t in zip(r["words"], r["iob"]))
                                 for r in _conll_rows()) + "\n", encoding="utf-8")
    base = {"task": "ner", "model": str(tiny_encoder), **TINY, "early_stopping_patience": None}
    train({**base, "train": str(conll), "dev": str(conll), "output_dir": str(tmp_path / "from-conll")})
    # a DatasetDict through the keyword arguments: its train split trains, its validation split selects
    dd = DatasetDict({"train": ds, "validation": ds})
    run = train({**base, "output_dir": str(tmp_path / "from-ds"), "columns": {"tokens": "words", "tags": "iob"}},
                train_data=dd, dev_data=dd)
    mine, ref = Tagger.from_pretrained(run.output_dir), Tagger.from_pretrained(tmp_path / "from-conll")
    assert mine.ner_labels == ref.ner_labels == ["LOC", "ORG", "PER"]
    texts = [" ".join(r["words"]) for r in _conll_rows()]
    _same_entities(mine.predict(texts), ref.predict(texts))
    assert read_block(run.output_dir).labels == read_block(tmp_path / "from-conll").labels


# ---------------------------------------------------------------------------------------------- validation
def _error(data, columns=None, **kw) -> str:
    with pytest.raises(DataError) as err:
        to_documents(data, columns, **kw)
    return str(err.value)


def test_issue_19_bad_rows_name_the_split_row_and_column(tmp_path, tiny_encoder):
    good = {"body": "التقى ستار هاشمي نظيره في نيروبي", "spans": [{"start": 6, "end": 16, "label": "PER"}]}
    out_of_range = {"body": "نيروبي", "spans": [{"start": 0, "end": 60, "label": "LOC"}]}
    cut = {"body": "التقى ستار هاشمي", "spans": [{"start": 7, "end": 16, "label": "PER"}]}
    cols = {"text": "body", "entities": "spans"}
    msg = _error(Dataset.from_list([good, good, out_of_range]), cols, name="train")
    assert "train row 2, column 'spans'" in msg and "out of range" in msg
    msg = _error(Dataset.from_list([good, cut]), cols, name="dev")
    assert "dev row 1, column 'spans'" in msg and "inside a word" in msg
    msg = _error(Dataset.from_list([{"body": 3}]), {"text": "body"})
    assert "row 0, column 'body'" in msg
    assert "'text'" in _error(Dataset.from_list([good]), {"text": "missing"}) and "body" in _error(
        Dataset.from_list([good]), {"text": "missing"})
    ints = Dataset.from_list([{"tokens": ["a", "b"], "ner_tags": [0, 1]}])
    assert "row 0, column 'ner_tags'" in _error(ints) and "ClassLabel" in _error(ints)
    bad_tag = Dataset.from_list([{"tokens": ["a", "b"], "ner_tags": ["O", "X-PER"]}])
    assert "row 0, column 'ner_tags'" in _error(bad_tag)
    hot = Dataset.from_list([{"text": "نص", "topics": [0, 1, 0, 0]}, {"text": "نص", "topics": [1, 1]}])
    assert "row 0, column 'topics'" in _error(hot) and "labels" in _error(hot)
    assert "row 1, column 'topics'" in _error(hot, topic_labels=TOPICS)
    assert to_documents(hot.select([0]), topic_labels=TOPICS)[0].topics == ["cybersecurity"]
    # through train(): the dev split of a DatasetDict is named in the error
    dd = DatasetDict({"train": Dataset.from_list([good]), "validation": Dataset.from_list([good, cut])})
    with pytest.raises(DataError, match=r"validation row 1, column 'spans'"):
        train({"task": "ner", "model": str(tiny_encoder), "output_dir": str(tmp_path / "m"), "columns": cols},
              train_data=dd, dev_data=dd)
    with pytest.raises(ConfigError, match="columns"):
        train({"task": "ner", "model": str(tiny_encoder), "output_dir": str(tmp_path / "m"), "columns": {"txt": "x"}},
              train_data=dd)


# ---------------------------------------------------------------------------------------------- tagging
@pytest.fixture()
def bundle(tmp_path, trained_ner, trained_topics):
    root = tmp_path / "bundle"
    shutil.copytree(trained_ner, root / "ner")
    shutil.copytree(trained_topics, root / "topics")
    return Tagger.from_pretrained(root)


def test_issue_19_tag_dataset_matches_predict_on_a_memory_mapped_dataset(tmp_path, bundle):
    texts = _texts("ner_small.jsonl") + _texts("topics_small.jsonl")
    ds = Dataset.from_list([{"id": i, "text": t} for i, t in enumerate(texts)] + [{"id": -1, "text": None}])
    ds.save_to_disk(str(tmp_path / "ds"))
    on_disk = datasets.load_from_disk(str(tmp_path / "ds"))  # memory-mapped arrow
    tagged = bundle.tag_dataset(on_disk, batch_size=3)
    assert tagged.cache_files and all(str(tmp_path / "ds") in f["filename"] for f in tagged.cache_files)
    assert tagged.column_names == ["id", "text", "entities", "topics", "topic_scores"]
    expected = bundle.predict(texts)
    for row, pred in zip(tagged, expected):
        assert [(e["text"], e["label"], e["start"], e["end"]) for e in row["entities"]] == \
            [(e.text, e.label, e.start, e.end) for e in pred.entities]
        assert [e["score"] for e in row["entities"]] == pytest.approx([e.score for e in pred.entities], abs=1e-6)
        assert row["topics"] == list(pred.topics.labels)
        assert row["topic_scores"] == pytest.approx(dict(pred.topics.scores), abs=1e-6)
    assert tagged[len(texts)]["entities"] == [] and tagged[len(texts)]["topics"] == []
    # splits, a prefix for a dataset that already has such columns, and thresholds pass through
    again = bundle.tag_dataset(DatasetDict({"test": tagged}), prefix="pred_", thresholds={x: 0.0 for x in TOPICS})
    assert again["test"][0]["pred_topics"] == TOPICS
    with pytest.raises(DataError, match="prefix"):
        bundle.tag_dataset(tagged)
    with pytest.raises(DataError, match="text_column"):
        bundle.tag_dataset(tagged, text_column="body")
