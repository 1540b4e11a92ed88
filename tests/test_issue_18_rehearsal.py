"""Issue 18, parts 3 and 4: train on a new label without forgetting (rehearsal, replay), and calibrate a label
with few dev positives."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURES, read_jsonl

from tagger import Tagger
from tagger.schema import Span

OLD_TOPICS = ["5G", "cybersecurity", "e-government", "space"]


def _new_label_file(path: Path) -> Path:
    """The fixture texts annotated for the NEW label `telecom-ministers` only (no old labels written)."""
    rows = []
    for r in read_jsonl(FIXTURES / "topics_small.jsonl"):
        mentions = "الاتصالات" in r["text"] or "زروقي" in r["text"]
        rows.append({"id": r["id"], "text": r["text"], "topics": ["telecom-ministers"] if mentions else []})
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in rows), encoding="utf-8")
    return path


def _cfg(trained_topics: Path, tiny_encoder: Path, tmp_path: Path, **extra):
    from tagger.config import TrainConfig

    tmp_path.mkdir(parents=True, exist_ok=True)
    data = _new_label_file(tmp_path / "new.jsonl")
    return TrainConfig.from_dict({
        "task": "topics", "model": str(tiny_encoder), "init_from": str(trained_topics), "train": [str(data)],
        "output_dir": str(tmp_path / "out"), "labels": [*OLD_TOPICS, "telecom-ministers"], "epochs": 3,
        "batch_size": 4, "learning_rate": 3e-3, "max_length": 24, "stride": 4, "seed": 1, **extra})


def _prepared(cfg):
    from tagger.examples import read_all, resolve_labels
    from tagger.model import read_block
    from tagger.rehearsal import prepare
    from tagger.tasks import get_task

    task = get_task(cfg.task)
    docs, annotated = read_all(cfg.train, cfg, task)
    base = read_block(cfg.init_from)
    labels = resolve_labels(cfg, docs, [], base)
    return docs, prepare(cfg, task, base, labels, docs, annotated)


def test_issue_18_rehearsal_topics_kept_labels_take_the_old_scores(trained_topics, tiny_encoder, tmp_path):
    cfg = _cfg(trained_topics, tiny_encoder, tmp_path)
    docs, (rehearsed, _) = _prepared(cfg)
    old = Tagger.from_pretrained(trained_topics).predict_documents(docs)
    for doc, new, pred in zip(docs, rehearsed, old):
        assert set(new.topic_targets) == {*OLD_TOPICS, "telecom-ministers"}
        for lab in OLD_TOPICS:
            assert new.topic_targets[lab] == pytest.approx(pred.topics.scores[lab])
        assert new.topic_targets["telecom-ministers"] == float("telecom-ministers" in (doc.topics or ()))
        assert doc.topic_targets is None  # the caller's documents are not changed


def test_issue_18_rehearsal_is_off_without_new_labels_or_when_asked(trained_topics, tiny_encoder, tmp_path):
    cfg = _cfg(trained_topics, tiny_encoder, tmp_path, rehearsal=False)
    docs, (rehearsed, _) = _prepared(cfg)
    assert all(d.topic_targets is None for d in rehearsed)


def test_issue_18_rehearsal_keeps_old_labels_where_plain_init_from_forgets(trained_topics, tiny_encoder, tmp_path):
    """Continue on documents annotated only for the new label: plain init_from drags the kept labels' scores
    towards 0; rehearsal keeps them near the old model's."""
    from tagger.trainer import train

    texts = [r["text"] for r in read_jsonl(FIXTURES / "topics_small.jsonl") if r["text"].strip()]
    before = Tagger.from_pretrained(trained_topics).topic_scores(texts)
    drift = {}
    for name, rehearsal in (("plain", False), ("rehearsal", True)):
        cfg = _cfg(trained_topics, tiny_encoder, tmp_path / name, rehearsal=rehearsal, calibration_folds=0)
        out = train(cfg).output_dir
        after = Tagger.from_pretrained(out).topic_scores(texts)[:, :4]
        drift[name] = float(np.abs(after - before).mean())
    assert drift["rehearsal"] < 0.5 * drift["plain"], drift


def test_issue_18_rehearsal_ner_user_spans_win_old_spans_fill_in(trained_ner, tiny_encoder, tmp_path):
    from tagger.config import TrainConfig
    from tagger.rehearsal import merge_spans

    user = [Span(0, 5, "TECH")]
    model = [Span(3, 8, "PER"), Span(10, 14, "LOC")]
    assert merge_spans(user, model) == [Span(0, 5, "TECH"), Span(10, 14, "LOC")]

    rows = read_jsonl(FIXTURES / "ner_small.jsonl")
    data = tmp_path / "tech.jsonl"
    with data.open("w", encoding="utf-8") as fh:
        for r in rows:  # annotated for the new type only: Huawei / Ericsson as TECH
            ents = [{"start": r["text"].find(w), "end": r["text"].find(w) + len(w), "label": "TECH"}
                    for w in ("Huawei", "Ericsson") if w in r["text"]]
            fh.write(json.dumps({"id": r["id"], "text": r["text"], "entities": ents}, ensure_ascii=False) + "\n")
    cfg = TrainConfig.from_dict({"task": "ner", "model": str(tiny_encoder), "init_from": str(trained_ner),
                                 "train": [str(data)], "output_dir": str(tmp_path / "o"), "max_length": 24, "stride": 4})
    docs, (rehearsed, _) = _prepared(cfg)
    old = Tagger.from_pretrained(trained_ner).predict_documents(docs)
    for doc, new, pred in zip(docs, rehearsed, old):
        tech = [s for s in new.entities if s.label == "TECH"]
        assert tech == [s for s in doc.entities if s.label == "TECH"]  # the user's spans, all kept
        for e in pred.entities:
            overlaps = any(e.start < u.end and u.start < e.end for u in doc.entities)
            assert (Span(e.start, e.end, e.label) in new.entities) == (not overlaps)


def test_issue_18_replay_samples_old_data_without_training_new_labels(trained_topics, tiny_encoder, tmp_path):
    cfg = _cfg(trained_topics, tiny_encoder, tmp_path, replay=[str(FIXTURES / "topics_small.jsonl")], replay_ratio=0.5)
    docs, (mixed, annotated) = _prepared(cfg)
    replayed = mixed[len(docs):]
    assert len(replayed) == round(0.5 * len(docs)) and len(annotated) == len(mixed)
    for d in replayed:
        assert set(d.topic_targets) == set(OLD_TOPICS)  # the new label is not trained on replayed documents
        assert {k for k, v in d.topic_targets.items() if v == 1.0} == set(d.topics or ())
    again = _prepared(cfg)[1][0][len(docs):]
    assert [d.id for d in again] == [d.id for d in replayed]  # deterministic under the seed


def test_issue_18_config_checks(tmp_path):
    from tagger.config import ConfigError, TrainConfig

    base = {"train": ["x.jsonl"], "output_dir": str(tmp_path / "o"), "task": "topics"}
    for bad, match in [({"rehearsal": True}, "init_from"), ({"replay": "old.jsonl"}, "init_from"),
                       ({"calibration_folds": 1}, "calibration_folds"), ({"target_precision": 1.5}, "target_precision")]:
        with pytest.raises(ConfigError, match=match):
            TrainConfig.from_dict({**base, **bad})


def test_issue_18_threshold_for_target_precision():
    from tagger.calibration import threshold_for

    gold = np.array([1, 1, 0, 1, 0, 0], dtype=bool)
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.3, 0.1])
    assert threshold_for(gold, scores, target_precision=1.0) == pytest.approx(0.8)
    assert threshold_for(gold, scores, target_precision=0.75) == pytest.approx(0.6)
    assert 0.3 < threshold_for(gold, scores) <= 0.6  # F1-best: all three positives, one false positive


def test_issue_18_few_dev_positives_threshold_from_cross_validation(trained_topics, tiny_encoder, tmp_path, caplog):
    """Dev has no positive for the new label: its threshold comes from 2-fold cross-validation on the annotated
    documents (with a warning); the evidence behind every threshold is saved and shown in the model card."""
    from tagger.trainer import train

    dev = tmp_path / "dev.jsonl"
    dev.write_text((FIXTURES / "topics_small.jsonl").read_text(encoding="utf-8"), encoding="utf-8")  # old labels only
    cfg = _cfg(trained_topics, tiny_encoder, tmp_path, dev=[str(dev)], calibration_folds=2, min_dev_positives=1,
               epochs=1)
    with caplog.at_level(logging.WARNING):
        out = train(cfg).output_dir
    block = json.loads((out / "config.json").read_text(encoding="utf-8"))["tagger"]
    support = block["threshold_support"]
    assert support["telecom-ministers"]["source"] == "cross-validation"
    assert support["telecom-ministers"]["dev_positives"] == 0 and support["telecom-ministers"]["positives"] > 0
    assert support["5G"] == {"positives": sum("5G" in r["topics"] for r in read_jsonl(dev)), "source": "dev"}
    assert any("telecom-ministers" in r.message and "cross-validation" in r.message for r in caplog.records)
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "positives behind it" in card and "(cross-validation)" in card
    assert 0.0 < block["thresholds"]["telecom-ministers"] <= 1.0


def test_issue_18_few_dev_positives_without_folds_warns(trained_topics, tiny_encoder, tmp_path, caplog):
    from tagger.trainer import train

    cfg = _cfg(trained_topics, tiny_encoder, tmp_path, dev=[str(FIXTURES / "topics_small.jsonl")],
               calibration_folds=0, epochs=1)
    with caplog.at_level(logging.WARNING):
        out = train(cfg).output_dir
    support = json.loads((out / "config.json").read_text(encoding="utf-8"))["tagger"]["threshold_support"]
    assert support["telecom-ministers"] == {"positives": 0, "source": "dev"}
    assert any("telecom-ministers" in r.message and "little evidence" in r.message for r in caplog.records)


def test_issue_18_rehearsal_by_default_only_for_files_without_kept_labels(trained_topics, tiny_encoder, tmp_path):
    """A file annotated for every label keeps its own targets; one annotated only for the new label is rehearsed
    (``rehearsal: true`` rehearses both)."""
    cfg = _cfg(trained_topics, tiny_encoder, tmp_path)
    cfg.train = [*cfg.train, str(FIXTURES / "topics_small.jsonl")]
    docs, (rehearsed, _) = _prepared(cfg)
    n_new = len(read_jsonl(tmp_path / "new.jsonl"))
    assert all(d.topic_targets is not None for d in rehearsed[:n_new])
    assert all(d.topic_targets is None for d in rehearsed[n_new:])
    cfg.rehearsal = True
    _, (forced, _) = _prepared(cfg)
    assert all(d.topic_targets is not None for d in forced)
