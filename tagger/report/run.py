"""Evaluation reports: predict with one or more saved models (and optional baselines) on annotated data,
then write ``metrics.json``, ``report.md`` and a self-contained ``report.html``.

``run_eval`` is what ``tagger eval`` calls. The evaluation itself (:func:`evaluate_systems`,
:func:`evaluate_ner`) is model-free: it takes gold documents and predictions, so it is tested without models.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tagger.align import entities_to_tags
from tagger.errors import EvalError
from tagger.metrics import binarize, paired_bootstrap
from tagger.report.data import EvalData, SystemPredictions, prepare_data
from tagger.report.kept import add_threshold_support, kept_labels, threshold_support
from tagger.report.ner import evaluate_ner_tags, unit_counts
from tagger.report.topics import evaluate_topics, topic_unit_counts
from tagger.schema import Document, Span

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1


def _doc_id(doc: Document, i: int) -> str:
    return doc.id or f"#{i}"


def evaluate_ner(docs_gold: Sequence[Document], docs_pred: Sequence[Document], **kwargs: Any) -> dict:
    """NER evaluation of predicted documents (``entities`` = predicted spans) against gold ones.

    Both are scored on the gold documents' words; keyword arguments go to
    :func:`tagger.report.ner.evaluate_ner_tags` (``samples``, ``seed``, ``k``).
    """
    if len(docs_gold) != len(docs_pred):
        raise EvalError(f"{len(docs_gold)} gold documents but {len(docs_pred)} predicted ones")
    data = prepare_data(docs_gold)
    pred = [entities_to_tags(w, d.entities) for w, d in zip(data.words, docs_pred)]
    ids = [_doc_id(d, i) for i, d in enumerate(data.docs)]
    return evaluate_ner_tags(data.gold_tags, pred, data.tokens, ids, **kwargs)


def _data_summary(data: EvalData, path: str) -> dict:
    types = Counter(s.label for d in data.docs for s in d.entities)
    topics = Counter(t for i in data.topic_docs for t in data.docs[i].topics or ())
    return {
        "path": path,
        "documents": len(data.docs),
        "tokens": sum(len(t) for t in data.tokens),
        "has_ner": data.has_ner,
        "entities": sum(types.values()) if data.has_ner else 0,
        "entity_types": dict(sorted(types.items())) if data.has_ner else {},
        "topic_documents": len(data.topic_docs),
        "topic_labels": dict(sorted(topics.items())),
    }


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    import tagger

    out = {"tagger": tagger.__version__}
    for pkg in ("seqeval", "scikit-learn", "numpy"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:  # pragma: no cover - installed with the library
            out[pkg] = "unknown"
    return out


def _compare(ref: tuple[str, np.ndarray], others: list[tuple[str, np.ndarray]], samples: int, seed: int) -> dict:
    out = {}
    for name, counts in others:
        test = paired_bootstrap(counts, ref[1], samples=samples, seed=seed)
        out[name] = {"delta_f1": test["delta_f1"], "p_value": test["p_value"], "ci": test["ci"]}
    return out


def evaluate_systems(
    data: EvalData,
    systems: Sequence[SystemPredictions],
    *,
    data_path: str = "<memory>",
    n_bootstrap: int = 1000,
    seed: int = 0,
    top_k: int = 20,
    examples: int = 5,
    figures: bool = True,
) -> tuple[dict, dict[str, bytes]]:
    """Score every system; returns the metrics.json dict and the figures (file name -> PNG bytes)."""
    from tagger.report import plots

    if not systems:
        raise EvalError("no systems to evaluate; pass at least one model directory")
    ids = [_doc_id(d, i) for i, d in enumerate(data.docs)]
    gold_tags = data.gold_tags if data.has_ner else None
    topic_gold = [data.docs[i].topics or [] for i in data.topic_docs]
    topic_texts = [data.docs[i].text for i in data.topic_docs]
    topic_ids = [ids[i] for i in data.topic_docs]
    out_systems: list[dict] = []
    figs: dict[str, bytes] = {}
    ner_counts: list[tuple[str, np.ndarray]] = []
    topic_counts: list[tuple[str, np.ndarray]] = []
    for n, sys in enumerate(systems):
        entry: dict[str, Any] = {
            "name": sys.name,
            "kind": sys.kind,
            "source": sys.source,
            "ner": None,
            "topics": None,
            "notes": list(sys.notes),
        }
        slug = f"s{n}"
        if sys.ner_tags is not None and gold_tags is not None:
            ner = evaluate_ner_tags(gold_tags, sys.ner_tags, data.tokens, ids, samples=n_bootstrap, seed=seed, k=top_k)
            entry["ner"] = ner
            ner_counts.append((sys.name, unit_counts(gold_tags, sys.ner_tags, sorted(ner["per_type"]))))
            if figures:
                figs[f"{slug}_ner_errors.png"] = plots.ner_errors_plot(ner["errors"], f"{sys.name}: NER errors")
                figs[f"{slug}_ner_confusion.png"] = plots.confusion_plot(ner["confusion"], f"{sys.name}: types")
        elif sys.ner_tags is not None:
            entry["notes"].append("has an NER head but the data has no entity annotations: NER not scored")
        if sys.topic_scores is not None and data.has_topics and sys.topic_labels and sys.thresholds is not None:
            top = evaluate_topics(
                topic_gold,
                sys.topic_scores,
                sys.topic_labels,
                sys.thresholds,
                topic_texts,
                topic_ids,
                samples=n_bootstrap,
                seed=seed,
                examples=examples,
            )
            add_threshold_support(top, sys.threshold_support)
            entry["topics"] = top
            topic_counts.append(
                (sys.name, topic_unit_counts(topic_gold, sys.topic_scores, sys.topic_labels, sys.thresholds))
            )
            if figures:
                figs[f"{slug}_topics_f1_threshold.png"] = plots.f1_threshold_plot(top, f"{sys.name}: F1 vs threshold")
                y = binarize(topic_gold, sys.topic_labels)
                figs[f"{slug}_topics_pr.png"] = plots.pr_curves_plot(
                    y, np.asarray(sys.topic_scores), sys.topic_labels, f"{sys.name}: precision-recall"
                )
        elif sys.topic_scores is not None:
            entry["notes"].append("has a topic head but the data has no topic annotations: topics not scored")
        out_systems.append(entry)
    result: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "versions": _versions(),
        "data": _data_summary(data, data_path),
        "settings": {
            "bootstrap_samples": n_bootstrap,
            "seed": seed,
            "confidence": 0.95,
            "unit": "document",
            "top_errors": top_k,
            "examples": examples,
        },
        "systems": out_systems,
        "ner": None,
        "topics": None,
        "comparison": {"reference": {"ner": None, "topics": None}, "ner": {}, "topics": {}},
        "kept_labels": kept_labels(data, systems, out_systems, samples=n_bootstrap, seed=seed),
    }
    for task in ("ner", "topics"):
        first = next((s for s in out_systems if s[task] is not None), None)
        if first is not None:
            result[task] = {"system": first["name"], **first[task]}
    if ner_counts:
        result["comparison"]["reference"]["ner"] = ner_counts[0][0]
        result["comparison"]["ner"] = _compare(ner_counts[0], ner_counts[1:], n_bootstrap, seed)
    if topic_counts:
        result["comparison"]["reference"]["topics"] = topic_counts[0][0]
        result["comparison"]["topics"] = _compare(topic_counts[0], topic_counts[1:], n_bootstrap, seed)
    if figures and len(ner_counts) > 1:
        rows = []
        for s in out_systems:
            if s["ner"] is None:
                continue
            ci = s["ner"]["ci"]
            d = {"micro": (s["ner"]["strict"]["f1"], ci["micro_f1"]["low"], ci["micro_f1"]["high"])}
            for t, row in s["ner"]["per_type"].items():
                d[t] = (row["f1"], ci["per_type"][t]["low"], ci["per_type"][t]["high"])
            rows.append((s["name"], d))
        figs["comparison_ner.png"] = plots.comparison_plot(rows, "NER strict F1 by system")
    if figures and len(topic_counts) > 1:
        rows = []
        for s in out_systems:
            if s["topics"] is None:
                continue
            ci = s["topics"]["ci"]
            d = {"micro": (s["topics"]["micro_f1"], ci["micro_f1"]["low"], ci["micro_f1"]["high"])}
            for lab, row in s["topics"]["per_label"].items():
                d[lab] = (row["f1"], ci["per_label"][lab]["low"], ci["per_label"][lab]["high"])
            rows.append((s["name"], d))
        figs["comparison_topics.png"] = plots.comparison_plot(rows, "Topic F1 by system")
    return result, figs


def write_report(result: dict, figures: dict[str, bytes], out: str | Path) -> dict[str, Path]:
    """Write ``metrics.json``, ``report.md`` (figures under ``figures/``) and self-contained ``report.html``."""
    from tagger.report.render import render_html, render_markdown

    out = Path(out)
    fig_dir = out / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    for name, png in figures.items():
        (fig_dir / name).write_bytes(png)
    paths = {"json": out / "metrics.json", "md": out / "report.md", "html": out / "report.html"}
    paths["json"].write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    paths["md"].write_text(render_markdown(result, {k: f"figures/{k}" for k in figures}), encoding="utf-8")
    paths["html"].write_text(render_html(result, figures), encoding="utf-8")
    return paths


# ------------------------------------------------------------------------------------------- with models
def _unique_names(dirs: Sequence[str]) -> list[str]:
    """Directory names, or the full paths where two models share a name."""
    names = [Path(d).name or str(d) for d in dirs]
    return [name if names.count(name) == 1 else str(d) for name, d in zip(names, dirs)]


def _batches(n: int, size: int, desc: str, progress: bool):
    from tqdm.auto import tqdm

    starts = range(0, n, size)
    return tqdm(starts, desc=desc, total=len(starts), unit="batch", disable=not progress, leave=False)


def _load_tagger(path: str):
    from tagger.predict import Tagger

    return Tagger.from_pretrained(path)


def predict_system(
    model, name: str, source: str, data: EvalData, *, batch_size: int = 64, progress: bool = True
) -> SystemPredictions:
    """Run a loaded :class:`tagger.predict.Tagger` over the data; progress bars go to stderr."""
    sys = SystemPredictions(name=name, kind="model", source=source)
    sys.ner_labels = list(getattr(model, "ner_labels", None) or []) or None
    preds = None
    if model.has_ner and data.has_ner:
        preds = []
        for i in _batches(len(data.docs), batch_size, f"{name}: entities", progress):
            preds.extend(model.predict_documents(data.docs[i : i + batch_size]))
        sys.ner_tags = [
            entities_to_tags(w, [Span(e.start, e.end, e.label) for e in p.entities]) for w, p in zip(data.words, preds)
        ]
    elif model.has_ner:
        sys.notes.append("has an NER head but the data has no entity annotations: NER not scored")
    if model.has_topics and data.has_topics:
        labels = list(model.topic_labels)
        texts = [data.docs[i].text for i in data.topic_docs]
        if preds is not None and all(preds[i].topics is not None for i in data.topic_docs):
            scores = np.array([[preds[i].topics.scores[lab] for lab in labels] for i in data.topic_docs])
        else:
            parts = [
                np.asarray(model.topic_scores(texts[i : i + batch_size]), dtype=float)
                for i in _batches(len(texts), batch_size, f"{name}: topics", progress)
            ]
            scores = np.concatenate(parts) if parts else np.zeros((0, len(labels)))
        saved = model.thresholds
        sys.topic_scores, sys.topic_labels = scores, labels
        sys.thresholds = {lab: float(saved.get(lab, 0.5)) for lab in labels}
        sys.threshold_support = threshold_support(model, source)
    elif model.has_topics:
        sys.notes.append("has a topic head but the data has no topic annotations: topics not scored")
    return sys


def run_eval(
    model_dirs: Sequence[str],
    data: str,
    out: str,
    baselines: bool = False,
    train: str | None = None,
    *,
    n_bootstrap: int = 1000,
    seed: int = 0,
    top_k: int = 20,
    examples: int = 5,
    batch_size: int = 64,
    progress: bool = True,
    loader: Callable[[str], Any] | None = None,
) -> dict:
    """Evaluate saved models side by side on ``data``; write ``out/{metrics.json,report.md,report.html}``.

    With ``baselines=True`` a CRF (NER) and TF-IDF + logistic regression (topics) are trained on ``train`` and
    reported as extra systems. Returns the metrics dict (the content of metrics.json).
    """
    from tagger.data.io import read_documents

    if not model_dirs:
        raise EvalError("no model given; usage: tagger eval MODEL [MODEL...] --data FILE --out DIR")
    if baselines and not train:
        raise EvalError("--baselines needs --train FILE: the baselines are trained on the models' training data")
    gold = prepare_data(read_documents(data))
    if not gold.has_ner and not gold.has_topics:
        raise EvalError(f"{data}: no entity or topic annotations found; nothing to evaluate against")
    load = loader or _load_tagger
    systems = []
    for name, path in zip(_unique_names(model_dirs), model_dirs):
        systems.append(predict_system(load(path), name, str(path), gold, batch_size=batch_size, progress=progress))
    if baselines:
        from tagger.report.baselines import baseline_systems

        label_sets = [s.topic_labels for s in systems if s.topic_labels]
        systems.extend(baseline_systems(gold, str(train), label_sets[0] if label_sets else None))
    result, figs = evaluate_systems(
        gold, systems, data_path=str(data), n_bootstrap=n_bootstrap, seed=seed, top_k=top_k, examples=examples
    )
    paths = write_report(result, figs, out)
    logger.info("wrote %s", ", ".join(str(p) for p in paths.values()))
    return result


def headline(result: dict) -> list[str]:
    """One line per system and task: the numbers people look at first (CLI, quickstart, eval script)."""
    lines = []
    for s in result["systems"]:
        if s.get("ner"):
            ci = s["ner"].get("ci", {}).get("micro_f1")
            span = f" [{ci['low']:.4f}, {ci['high']:.4f}]" if ci else ""
            lines.append(f"{s['name']}: NER strict F1 {s['ner']['strict']['f1']:.4f}{span}, "
                         f"conlleval F1 {s['ner']['default']['f1']:.4f}")
        if s.get("topics"):
            lines.append(f"{s['name']}: topics micro F1 {s['topics']['micro_f1']:.4f}, "
                         f"macro F1 {s['topics']['macro_f1']:.4f}")
    from tagger.report.regression import kept_headline

    return lines + kept_headline(result)
