"""Issue 18, part 1: `tagger suggest` ranks an unlabelled pool for annotation (tagger.suggest)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import FIXTURES, read_jsonl

from tagger.cli import main
from tagger.errors import ConfigError, DataError
from tagger.predict import Tagger
from tagger.suggest import choose, read_pool, suggest, topic_distance
from tagger.suggest.rank import interleave

PHRASE = "مرصد النيازك الفلكي في الصحراء"  # the distinctive phrase of the new label's documents


def base_texts() -> list[str]:
    texts = [json.loads(line)["text"] for line in (FIXTURES / "topics_small.jsonl").read_text(encoding="utf-8").splitlines()]
    texts += [json.loads(line)["text"] for line in (FIXTURES / "ner_small.jsonl").read_text(encoding="utf-8").splitlines()]
    return texts


def planted_pool() -> tuple[list[dict], set[str]]:
    """The fixture texts (ids a-*) with four documents about the new label (ids new-*) at spread positions."""
    pool = [{"id": f"a-{i}", "text": t} for i, t in enumerate(base_texts())]
    planted = [
        f"رصد {PHRASE} سقوط شهب ليلة أمس",
        f"افتتح {PHRASE} قاعة جديدة للزوار",
        f"نشر {PHRASE} صورا لمذنب يقترب من الأرض",
        f"قال مدير {PHRASE} إن النيازك نادرة هذا العام",
    ]
    for k, text in enumerate(planted):
        pool.insert(3 + 7 * k, {"id": f"new-{k}", "text": text})
    return pool, {f"new-{k}" for k in range(len(planted))}


EXAMPLES = [f"زار الطلاب {PHRASE} لمشاهدة النيازك", f"يستقبل {PHRASE} الباحثين في علم الفلك"]


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------- new label
def test_new_label_examples_rank_similar_documents_first(trained_topics):
    pool, planted = planted_pool()
    got = suggest(trained_topics, pool, n=6, label="astronomy", examples=EXAMPLES, random_share=0.0, dedup=None)
    assert [s.reason for s in got] == ["similar"] * 6
    assert {s.id for s in got[:4]} == planted
    assert [s.rank for s in got] == [1, 2, 3, 4, 5, 6]
    assert all(got[k].score >= got[k + 1].score for k in range(5))
    assert all(pool[s.index]["id"] == s.id and pool[s.index]["text"] == s.text for s in got)


def test_new_label_terms_only_and_no_model_for_char(trained_topics):
    pool, planted = planted_pool()
    got = suggest(None, pool, n=4, label="astronomy", terms=["النيازك", "مرصد فلكي"], random_share=0.0)
    assert {s.id for s in got} == planted
    with_model = suggest(trained_topics, pool, n=4, label="astronomy", terms=["النيازك", "مرصد فلكي"], random_share=0.0)
    assert {s.id for s in with_model} == planted


@pytest.mark.parametrize("source", ["trained", "tagger", "plain"])
def test_encoder_method_runs_on_model_dir_tagger_and_plain_encoder(source, trained_topics, tiny_encoder):
    pool, _ = planted_pool()
    src = {"trained": trained_topics, "tagger": Tagger.from_pretrained(trained_topics), "plain": tiny_encoder}[source]
    got = suggest(src, pool, n=5, label="astronomy", examples=EXAMPLES, terms=["النيازك"], method="encoder", seed=3)
    again = suggest(src, pool, n=5, label="astronomy", examples=EXAMPLES, terms=["النيازك"], method="encoder", seed=3)
    assert [(s.index, s.reason) for s in got] == [(s.index, s.reason) for s in again]
    assert len(got) == 5 and len({s.index for s in got}) == 5
    assert [s.reason for s in got].count("random") == 1
    ranked = [s.score for s in got if s.reason == "similar"]
    assert ranked == sorted(ranked, reverse=True) and all(-1.0001 <= x <= 1.0001 for x in ranked)


def test_deterministic_under_seed_and_random_share_respected(trained_topics):
    pool, _ = planted_pool()
    kwargs = {"n": 10, "label": "astronomy", "examples": EXAMPLES, "dedup": None}
    a = suggest(trained_topics, pool, random_share=0.3, seed=7, **kwargs)
    b = suggest(trained_topics, pool, random_share=0.3, seed=7, **kwargs)
    assert [s.to_dict() for s in a] == [s.to_dict() for s in b]
    assert [s.reason for s in a].count("random") == 3 and [s.reason for s in a].count("similar") == 7
    assert len({s.index for s in a}) == 10
    others = [suggest(trained_topics, pool, random_share=0.3, seed=seed, **kwargs) for seed in range(5)]
    assert len({tuple(s.index for s in o if s.reason == "random") for o in others}) > 1  # the seed draws them
    none = suggest(trained_topics, pool, random_share=0.0, seed=7, **kwargs)
    assert all(s.reason == "similar" for s in none)
    everything = suggest(trained_topics, pool, random_share=1.0, seed=7, **kwargs)
    assert all(s.reason == "random" for s in everything) and len({s.index for s in everything}) == 10


def test_random_documents_are_spread_not_appended():
    order = interleave([10, 11, 12, 13, 14, 15, 16, 17], [90, 91])
    assert [p for p, _ in order] == [10, 11, 90, 12, 13, 14, 15, 91, 16, 17]
    assert interleave([1, 2], []) == [(1, "ranked"), (2, "ranked")]
    assert interleave([], [5, 6]) == [(5, "random"), (6, "random")]


def test_near_and_exact_duplicates_removed(trained_topics):
    pool, planted = planted_pool()
    first = next(r for r in pool if r["id"] == "new-0")
    pool.append({"id": "near", "text": first["text"] + " ."})  # a near-duplicate (a full stop added)
    pool.append({"id": "exact", "text": "  " + first["text"].replace("رصد", "رَصَدَ") + " "})  # same after normalisation
    pool.append({"id": "example", "text": EXAMPLES[0]})  # an example is already known: never suggested
    with_dedup = suggest(trained_topics, pool, n=8, label="x", examples=EXAMPLES, random_share=0.25, dedup=0.9)
    ids = [s.id for s in with_dedup]
    assert "near" not in ids and "exact" not in ids and "example" not in ids and planted <= set(ids)
    without = suggest(trained_topics, pool, n=8, label="x", examples=EXAMPLES, random_share=0.0, dedup=None)
    ids = [s.id for s in without]
    assert "near" in ids and "exact" not in ids and "example" not in ids


def test_choose_skips_near_duplicates_and_never_repeats():
    vectors = np.eye(5)
    vectors[1] = vectors[0]  # item 1 duplicates item 0
    got = choose([0, 1, 2, 3, 4], n=5, random_share=0.4, seed=0, vectors=vectors, dedup=0.9)
    positions = [p for p, _ in got]
    assert len(positions) == len(set(positions)) == 4 and 1 not in positions  # the pool runs out: 4 usable


def test_pool_smaller_than_n_returns_every_usable_document(trained_topics):
    pool = ["أطلقت وكالة الفضاء قمرا صناعيا", "", "   ", "أطلقت وكالة الفضاء قمرا صناعيا", "فاز فريق الهلال"]
    got = suggest(trained_topics, pool, n=10, label="space", terms=["قمر صناعي"])
    assert sorted(s.index for s in got) == [0, 4]


# ---------------------------------------------------------------------------------------------- uncertainty
def logit(p: float) -> float:
    return float(np.log(p) - np.log1p(-p))


def sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


def test_topic_distance_is_min_gap_to_threshold_in_logit_space():
    scores = np.array([[0.9, 0.1], [0.55, 0.001], [0.2, 0.35]])
    got = topic_distance(scores, ["a", "b"], {"a": 0.5, "b": 0.05})
    expected = [[abs(logit(s) - logit(t)) for s, t in zip(row, (0.5, 0.05))] for row in scores]
    assert np.allclose(got.values, np.min(expected, axis=1))
    assert [d["label"] for d in got.details] == ["b", "a", "a"]
    # a confident negative of a label with a low threshold (0.001 vs 0.05) is not mistaken for an unsure one
    assert got.details[1]["label"] == "a" and got.details[1]["score"] == 0.55


def test_uncertainty_ranking_orders_by_distance_to_threshold(trained_topics, monkeypatch):
    tagger = Tagger.from_pretrained(trained_topics)
    labels = tagger.topic_labels
    tagger.topics.block.thresholds = {lab: 0.5 for lab in labels} | {labels[0]: 0.2}
    pool = [f"نص رقم {k} عن الاتصالات" for k in range(6)]
    gaps = [1.5, 0.25, 1.0, 0.5, 0.25, 1.75]  # logit distances; docs 1 and 4 tie: pool order decides
    table = {}
    for k, gap in enumerate(gaps):
        near = k % len(labels)
        row = [sigmoid(logit(tagger.thresholds[lab]) + 4.0) for lab in labels]  # every other label 4 logits away
        row[near] = sigmoid(logit(tagger.thresholds[labels[near]]) + (gap if k % 2 else -gap))
        table[pool[k]] = row

    def fake_scores(self, texts):
        return np.array([table[t] for t in texts])

    monkeypatch.setattr(Tagger, "topic_scores", fake_scores)
    got = suggest(tagger, pool, n=6, random_share=0.0, dedup=None)
    assert [s.index for s in got] == [1, 4, 3, 2, 0, 5]
    assert [s.reason for s in got] == ["uncertain"] * 6
    assert np.allclose([s.score for s in got], sorted(gaps))
    assert got[0].detail["label"] == labels[1 % len(labels)] and got[0].detail["threshold"] == 0.5
    assert got[1].detail["label"] == labels[4 % len(labels)]


def test_ner_margin_ranking_on_trained_ner(trained_ner):
    pool = read_pool(FIXTURES / "ner_small.jsonl")
    got = suggest(trained_ner, pool, n=8, random_share=0.25, dedup=None)
    ranked = [s for s in got if s.reason == "uncertain"]
    assert len(ranked) == 6 and sum(s.reason == "random" for s in got) == 2
    assert [s.score for s in ranked] == sorted(s.score for s in ranked)
    for s in got:
        assert 0.0 <= s.score <= 1.0
        d = s.detail
        assert d["ner_margin"] == pytest.approx(s.score, abs=1e-6) and s.text[d["start"]:d["end"]] == d["word"]
        assert d["word_margin"] <= s.score + 1e-6
    # the score is the mean over words of p1 - p2, from the model's own merged word logits
    from tagger.decode import merge_windows
    from tagger.schema import Document

    tagger = Tagger.from_pretrained(trained_ner)
    docs = [Document(text=ranked[0].text)]
    encoded, windows, outputs = tagger._outputs(docs, ["ner"])["ner"]
    logits = merge_windows(len(encoded[0].word_spans), encoded[0].first_subtoken,
                           [(w.start, w.end) for w in windows], outputs)
    probs = np.exp(logits - logits.max(1, keepdims=True))
    probs = np.sort(probs / probs.sum(1, keepdims=True), axis=1)
    assert float(np.mean(probs[:, -1] - probs[:, -2])) == pytest.approx(ranked[0].score, abs=1e-5)


@pytest.fixture(scope="module")
def joint_model(tiny_encoder, tmp_path_factory) -> Path:
    from tagger.trainer import train

    out = tmp_path_factory.mktemp("joint") / "model"
    return train({"task": "joint", "model": str(tiny_encoder), "train": str(FIXTURES / "ner_small.jsonl"),
                  "dev": str(FIXTURES / "ner_small.jsonl"), "output_dir": str(out), "epochs": 1, "batch_size": 4,
                  "learning_rate": 1e-3, "max_length": 24, "stride": 4, "seed": 1}).output_dir


def test_joint_model_takes_the_smaller_rank_fraction_and_has_an_encoder(joint_model):
    from tagger.schema import Document
    from tagger.suggest.uncertainty import model_certainty, ner_margin, rank_fraction

    tagger = Tagger.from_pretrained(joint_model)
    texts = [t for t in base_texts()[:12] if t.strip()]
    both = model_certainty(tagger, texts)
    topics = topic_distance(tagger.topic_scores(texts), tagger.topic_labels, tagger.thresholds).values
    docs = [Document(text=t) for t in texts]
    ner = ner_margin(docs, *tagger._outputs(docs, ["ner"])["ner"]).values
    assert np.allclose(both.values, np.minimum(rank_fraction(topics), rank_fraction(ner)))
    assert {"topic_distance", "label", "ner_margin", "word"} <= set(both.details[0])
    got = suggest(joint_model, texts, n=4, random_share=0.0, dedup=None)
    assert [s.reason for s in got] == ["uncertain"] * 4 and [s.score for s in got] == sorted(s.score for s in got)
    for source in (joint_model, tagger):  # the joint model's encoder: from its directory, or from the loaded Tagger
        sims = suggest(source, texts, n=3, terms=["الفضاء"], method="encoder", random_share=0.0)
        assert len(sims) == 3 and all(s.reason == "similar" for s in sims)


# ---------------------------------------------------------------------------------------------- errors
def test_library_errors(trained_topics):
    with pytest.raises(ConfigError, match="needs example texts"):
        suggest(trained_topics, ["نص"], n=3, label="new")
    with pytest.raises(ConfigError, match="positive integer"):
        suggest(trained_topics, ["نص"], n=0, terms=["نص"])
    with pytest.raises(ConfigError, match="random share"):
        suggest(trained_topics, ["نص"], n=1, terms=["نص"], random_share=1.5)
    with pytest.raises(ConfigError, match="unknown similarity method"):
        suggest(trained_topics, ["نص"], n=1, terms=["نص"], method="bm25")
    with pytest.raises(DataError, match="empty"):
        suggest(trained_topics, [], n=1, terms=["نص"])
    with pytest.raises(DataError, match="no document to suggest"):
        suggest(trained_topics, ["", "  "], n=1, terms=["نص"])


# ---------------------------------------------------------------------------------------------- CLI
def _labelstudio_available() -> bool:
    try:
        from tagger.annotate.labelstudio import write_tasks  # noqa: F401
    except ImportError:
        return False
    return True


needs_writer = pytest.mark.skipif(not _labelstudio_available(),
                                  reason="tagger.annotate.labelstudio.write_tasks (the annotation writer) is not there")


@needs_writer
def test_cli_new_label_writes_tasks_and_refuses_to_overwrite(trained_topics, tmp_path, capsys):
    pool, planted = planted_pool()
    pool_file = write_jsonl(tmp_path / "pool.jsonl", pool)
    examples = write_jsonl(tmp_path / "examples.jsonl", [{"text": t} for t in EXAMPLES])
    out = tmp_path / "out"
    argv = ["suggest", str(trained_topics), "--pool", str(pool_file), "--label", "astronomy", "--examples",
            str(examples), "--terms", "النيازك", "-n", "5", "--out", str(out), "--seed", "1"]
    assert main(argv) == 0
    assert "suggested 5 of" in capsys.readouterr().out
    for name in ("tasks.json", "labeling_config.xml", "doccano.jsonl", "suggestions.jsonl"):
        assert (out / name).is_file(), name
    rows = read_jsonl(out / "suggestions.jsonl")
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5]
    assert [r["reason"] for r in rows].count("random") == 1
    assert {r["id"] for r in rows if r["reason"] == "similar"} == planted
    assert "astronomy" in (out / "labeling_config.xml").read_text(encoding="utf-8")
    tasks = json.loads((out / "tasks.json").read_text(encoding="utf-8"))
    assert len(tasks) == 5
    before = (out / "suggestions.jsonl").read_bytes()
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "already exists" in err and "--overwrite" in err
    assert (out / "suggestions.jsonl").read_bytes() == before
    assert main([*argv, "--overwrite", "--seed", "2"]) == 0


@needs_writer
def test_cli_uncertainty_and_new_entity_type(trained_ner, tmp_path, capsys):
    pool_file = tmp_path / "pool.txt"
    pool_file.write_text("\n".join(base_texts()) + "\n", encoding="utf-8")
    out = tmp_path / "unc"
    assert main(["suggest", str(trained_ner), "--pool", str(pool_file), "-n", "4", "--out", str(out)]) == 0
    rows = read_jsonl(out / "suggestions.jsonl")
    assert len(rows) == 4 and {r["reason"] for r in rows} <= {"uncertain", "random"}
    assert all(r["id"].startswith(f"{pool_file}:") for r in rows)
    out2 = tmp_path / "ent"
    assert main(["suggest", str(trained_ner), "--pool", str(pool_file), "--label", "PRODUCT", "--entity", "--terms",
                 "Huawei", "5G", "-n", "3", "--out", str(out2)]) == 0
    config = (out2 / "labeling_config.xml").read_text(encoding="utf-8")
    assert "PRODUCT" in config and "PER" in config
    capsys.readouterr()


@pytest.mark.parametrize("case", ["no-examples", "n-zero", "empty-pool", "missing-pool", "not-utf8", "terms-no-label",
                                  "bad-share", "missing-model"])
def test_cli_errors_exit_2_with_one_line(case, trained_topics, tmp_path, capsys):
    good = write_jsonl(tmp_path / "pool.jsonl", [{"text": t} for t in base_texts()[:5]])
    empty = tmp_path / "empty.txt"
    empty.write_text("\n \n", encoding="utf-8")
    latin = tmp_path / "cp1256.txt"
    latin.write_bytes("نص أول\n".encode() + "نص ثان\n".encode("cp1256"))
    model, pool, extra = str(trained_topics), str(good), ["--label", "x", "--terms", "نص"]
    n = "3"
    if case == "no-examples":
        extra = ["--label", "x"]
    elif case == "n-zero":
        n = "0"
    elif case == "empty-pool":
        pool = str(empty)
    elif case == "missing-pool":
        pool = str(tmp_path / "nope.jsonl")
    elif case == "not-utf8":
        pool = str(latin)
    elif case == "terms-no-label":
        extra = ["--terms", "نص"]
    elif case == "bad-share":
        extra += ["--random-share", "2"]
    elif case == "missing-model":
        model = str(tmp_path / "no-model")
    assert main(["suggest", model, "--pool", pool, *extra, "-n", n, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("tagger suggest: error:"), err
    if case == "not-utf8":
        assert f"{latin}:2" in err
    if case == "missing-pool":
        assert "nope.jsonl" in err
    assert not (tmp_path / "out" / "suggestions.jsonl").exists()


# ---------------------------------------------------------------------------------------------- pools
def test_read_pool_formats(tmp_path):
    text = tmp_path / "pool.txt"
    text.write_text("أول\n\nثان\r\n", encoding="utf-8")
    assert [(r.id, r.text) for r in read_pool(text)] == [(f"{text}:1", "أول"), (f"{text}:3", "ثان")]
    jl = write_jsonl(tmp_path / "pool.jsonl", [{"id": 7, "text": "أ"}, {"text": "ب"}])
    assert [(r.id, r.text) for r in read_pool(jl)] == [("7", "أ"), (f"{jl}:2", "ب")]


def test_dataset_directory_without_datasets_says_how_to_install(tmp_path, monkeypatch):
    import tagger.suggest.pool as pool_mod

    monkeypatch.setattr(pool_mod, "_datasets", lambda: None)
    (tmp_path / "ds").mkdir()
    with pytest.raises(DataError, match="pip install datasets"):
        read_pool(tmp_path / "ds")


def test_parquet_and_saved_dataset_pools(trained_topics, tmp_path):
    datasets = pytest.importorskip("datasets")
    pool, planted = planted_pool()
    data = datasets.Dataset.from_list([{"id": r["id"], "text": r["text"]} for r in pool])
    data.save_to_disk(str(tmp_path / "ds"))
    data.to_parquet(str(tmp_path / "pool.parquet"))
    for path in (tmp_path / "ds", tmp_path / "pool.parquet"):
        records = read_pool(path)
        assert [r.id for r in records] == [r["id"] for r in pool]
        got = suggest(trained_topics, records, n=4, label="astronomy", examples=EXAMPLES, random_share=0.0)
        assert {s.id for s in got} == planted
    datasets.DatasetDict({"train": data}).save_to_disk(str(tmp_path / "dd"))
    assert len(read_pool(tmp_path / "dd")) == len(pool)
