"""`tagger adapt`: masked-LM continued pre-training with whole-word masking, resumable, safe outputs (issue 20)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from tests.conftest import SENTENCES

pytest.importorskip("torch")


def _corpus(tmp_path: Path, n: int = 40) -> Path:
    path = tmp_path / "corpus.jsonl"
    pairs = [(a, b) for a in range(len(SENTENCES)) for b in range(len(SENTENCES)) if a != b][:n]
    rows = [{"text": SENTENCES[a] + " " + SENTENCES[b]} for a, b in pairs]  # distinct documents, shared sentences
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_whole_word_masking_masks_every_subtoken_of_a_chosen_word(tiny_encoder):
    from transformers import AutoTokenizer

    from tagger.adapt import segments, whole_word_collator

    tok = AutoTokenizer.from_pretrained(tiny_encoder)
    texts = ["الاتصالات وتكنولوجيا المعلومات والاقتصاد الرقمي والأمن السيبراني"] * 30
    rows = segments(tok, texts, 64)
    batch = whole_word_collator(tok, 0.4, seed=3)(rows)
    multi = 0
    for row, labels in zip(rows, batch["labels"].tolist()):
        offsets = row["offset_mapping"]
        words: dict[int, list[int]] = {}
        word = -1
        for k, (s, e) in enumerate(offsets):
            if s == e:
                continue
            if k == 0 or offsets[k - 1][1] != s or offsets[k - 1][0] == offsets[k - 1][1]:
                word += 1
            words.setdefault(word, []).append(k)
        for positions in words.values():
            chosen = [labels[k] != -100 for k in positions]
            assert all(chosen) or not any(chosen), (positions, chosen)
            multi += len(positions) > 1 and all(chosen)
    assert multi > 0  # some multi-sub-token words were masked whole
    assert (batch["labels"] != -100).any()


def test_adapt_lowers_held_out_loss_and_publishes_an_encoder(tiny_encoder, tmp_path):
    from transformers import AutoModelForMaskedLM

    from tagger.adapt import adapt

    out = tmp_path / "adapted"
    result = adapt(str(tiny_encoder), _corpus(tmp_path), out, max_steps=40, batch_size=8, learning_rate=3e-3,
                   save_steps=20, eval_share=0.2)
    assert result.eval_loss_after < result.eval_loss_before - 0.5
    report = json.loads((out / "adapt_report.json").read_text(encoding="utf-8"))
    assert report["eval_loss_before"] == pytest.approx(result.eval_loss_before)
    assert report["steps"] == 40 and report["eval_documents"] == 8 and report["train_documents"] == 32
    AutoModelForMaskedLM.from_pretrained(out)  # a plain transformers encoder directory
    assert not list(tmp_path.glob(".adapted.*"))  # the work directory is gone once published


def test_eval_loss_is_the_same_masking_each_time(tiny_encoder):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    from tagger.adapt import AdaptOptions, fixed_eval_batches, mlm_loss, segments

    tok = AutoTokenizer.from_pretrained(tiny_encoder)
    model = AutoModelForMaskedLM.from_pretrained(tiny_encoder)
    opts = AdaptOptions(encoder=str(tiny_encoder), corpus=["x"], out="y", batch_size=4)
    batches = fixed_eval_batches(tok, segments(tok, SENTENCES, 64), opts)
    assert mlm_loss(model, batches) == mlm_loss(model, batches)
    again = fixed_eval_batches(tok, segments(tok, SENTENCES, 64), opts)
    assert all((a["labels"] == b["labels"]).all() for a, b in zip(batches, again))


def test_an_interrupted_run_resumes_from_its_last_checkpoint(tiny_encoder, tmp_path, monkeypatch, caplog):
    import tagger.adapt as adapt_mod

    corpus, out = _corpus(tmp_path), tmp_path / "adapted"
    real = adapt_mod.mlm_loss
    calls = []

    def crash_after_training(model, batches):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(model, batches)

    monkeypatch.setattr(adapt_mod, "mlm_loss", crash_after_training)
    kwargs = dict(max_steps=8, batch_size=8, save_steps=4, eval_share=0.2)
    with pytest.raises(KeyboardInterrupt):
        adapt_mod.adapt(str(tiny_encoder), corpus, out, **kwargs)
    work = tmp_path / ".adapted.adapt-work"
    assert (work / "checkpoints" / "checkpoint-8").is_dir() and not out.exists()
    before = json.loads((work / "adapt_state.json").read_text())["eval_loss_before"]
    monkeypatch.setattr(adapt_mod, "mlm_loss", real)
    with caplog.at_level(logging.INFO, logger="tagger.adapt"):
        result = adapt_mod.adapt(str(tiny_encoder), corpus, out, **kwargs)
    assert "continuing from checkpoint-8" in caplog.text
    assert result.steps == 8 and result.eval_loss_before == before
    assert (out / "adapt_report.json").is_file() and not work.exists()


def test_a_different_run_does_not_take_over_an_interrupted_one(tiny_encoder, tmp_path):
    from tagger.adapt import adapt
    from tagger.errors import OutputError

    work = tmp_path / ".adapted.adapt-work"
    work.mkdir()
    (work / "adapt_state.json").write_text(json.dumps({"fingerprint": "another run"}))
    with pytest.raises(OutputError, match="interrupted `tagger adapt` run"):
        adapt(str(tiny_encoder), _corpus(tmp_path), tmp_path / "adapted", max_steps=2)
    assert (work / "adapt_state.json").is_file()


def test_cli_refuses_a_user_directory_and_bad_corpora(tiny_encoder, tmp_path, capsys):
    from tagger.cli import main

    corpus = _corpus(tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    assert main(["adapt", str(tiny_encoder), "--corpus", str(corpus), "--out", str(mine), "--max-steps", "2"]) == 2
    assert "not be replaced" in capsys.readouterr().err and (mine / "notes.txt").read_text() == "keep me"
    # the output may never hold the corpus, not even with --overwrite
    inside = tmp_path / "data"
    inside.mkdir()
    (inside / "c.jsonl").write_text(corpus.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["adapt", str(tiny_encoder), "--corpus", str(inside / "c.jsonl"), "--out", str(inside),
                 "--overwrite", "--max-steps", "2"]) == 2
    assert (inside / "c.jsonl").is_file()
    one = tmp_path / "one.txt"
    one.write_text("نص واحد فقط\n", encoding="utf-8")
    assert main(["adapt", str(tiny_encoder), "--corpus", str(one), "--out", str(tmp_path / "o")]) == 2
    assert "at least 2" in capsys.readouterr().err
    assert main(["adapt", str(tiny_encoder), "--corpus", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["adapt", str(tiny_encoder), "--corpus", str(corpus), "--out", str(tmp_path / "o"),
                 "--mlm-probability", "1.5"]) == 2
    assert "--mlm-probability" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_corpus_is_normalised_like_fine_tuning_and_read_from_datasets(tmp_path):
    datasets = pytest.importorskip("datasets")
    from tagger.adapt import corpus_texts
    from tagger.config import NormalizationConfig

    text = "أَعْلَنَ مركز محمد بن راشد للفضاء، نجاح الإطلاق"
    lines = tmp_path / "c.txt"
    lines.write_text(text + "\n\n" + text + "\n", encoding="utf-8")
    got = corpus_texts([str(lines)], NormalizationConfig())
    assert len(got) == 2 and "\u064e" not in got[0] and " ، " in got[0]  # tashkeel stripped, punctuation spaced
    ds_dir = tmp_path / "ds"
    data = datasets.Dataset.from_list([{"text": text}, {"text": "الأمن السيبراني"}])
    data.save_to_disk(str(ds_dir))
    assert corpus_texts([str(ds_dir)], NormalizationConfig())[1] == "الأمن السيبراني"
    assert corpus_texts([data], NormalizationConfig()) == corpus_texts([str(ds_dir)], NormalizationConfig())


def test_reruns_replace_an_adapted_encoder_but_never_a_trained_model(tiny_encoder, trained_topics, tmp_path):
    from tagger.adapt import adapt
    from tagger.errors import OutputError
    from tests.conftest import copy_model

    corpus, out = _corpus(tmp_path), tmp_path / "adapted"
    adapt(str(tiny_encoder), corpus, out, max_steps=2, batch_size=8, eval_share=0.2)
    adapt(str(tiny_encoder), corpus, out, max_steps=3, batch_size=8, eval_share=0.2)  # its own output: replaced
    assert json.loads((out / "adapt_report.json").read_text())["steps"] == 3
    model = copy_model(trained_topics, tmp_path / "topics-model")
    before = sorted(p.name for p in model.iterdir())
    with pytest.raises(OutputError, match="not be replaced"):
        adapt(str(tiny_encoder), corpus, model, max_steps=2, batch_size=8)
    assert sorted(p.name for p in model.iterdir()) == before


def test_a_checkpoint_cut_short_is_skipped_and_a_running_run_is_not_joined(tiny_encoder, tmp_path):
    import os

    from tagger.adapt import _open_work_dir, last_checkpoint
    from tagger.adapt.data import fingerprint
    from tagger.errors import OutputError
    from tagger.savedir import _NODE

    folder = tmp_path / "checkpoints"
    for name, complete in (("checkpoint-4", True), ("checkpoint-8", False), ("checkpoint-final", True)):
        (folder / name).mkdir(parents=True)
        if complete:
            (folder / name / "trainer_state.json").write_text("{}")
    assert last_checkpoint(folder).name == "checkpoint-4"
    assert last_checkpoint(tmp_path / "none") is None

    from tagger.adapt import AdaptOptions

    opts = AdaptOptions(encoder=str(tiny_encoder), corpus=["c"], out=str(tmp_path / "o"))
    key = fingerprint(opts, ["a", "b"])
    work = tmp_path / ".o.adapt-work"
    work.mkdir()
    (work / "adapt_state.json").write_text(json.dumps({"fingerprint": key, "owner": f"{os.getppid()}@{_NODE}"}))
    with pytest.raises(OutputError, match="running now"):
        _open_work_dir(work, key, opts)
    (work / "adapt_state.json").write_text(json.dumps({"fingerprint": key, "owner": f"999999999@{_NODE}"}))
    assert _open_work_dir(work, key, opts)["owner"] == f"{os.getpid()}@{_NODE}"  # a dead owner: resumed
