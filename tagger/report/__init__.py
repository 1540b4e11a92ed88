"""Evaluation reports: score saved models (and optional baselines) on annotated data and write ``metrics.json``,
``report.md`` and a self-contained ``report.html``.

Modules: :mod:`~tagger.report.run` (``run_eval``, ``evaluate_systems``, ``write_report``, ``headline``),
:mod:`~tagger.report.data` (gold data and system predictions), :mod:`~tagger.report.ner` (NER error analysis),
:mod:`~tagger.report.topics` (threshold curves, examples), :mod:`~tagger.report.kept` (the labels a retrained
model shares with the reference: no-regression check), :mod:`~tagger.report.baselines` (CRF and TF-IDF
reference systems), :mod:`~tagger.report.blocks` (report content), :mod:`~tagger.report.regression` (the
"Kept labels" section), :mod:`~tagger.report.render` (Markdown and HTML), :mod:`~tagger.report.plots` (figures)
and :mod:`~tagger.report.notes` ("read this first").
"""

from __future__ import annotations

from tagger.report.run import (
    EvalData,
    EvalError,
    SystemPredictions,
    evaluate_ner,
    evaluate_systems,
    headline,
    predict_system,
    prepare_data,
    run_eval,
    write_report,
)

__all__ = [
    "EvalData",
    "EvalError",
    "SystemPredictions",
    "evaluate_ner",
    "evaluate_systems",
    "headline",
    "predict_system",
    "prepare_data",
    "run_eval",
    "write_report",
]
