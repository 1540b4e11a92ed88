"""Writing suggestions for annotation, and ``tagger suggest`` (the command's whole run).

``OUT/`` gets the annotation tasks from :func:`tagger.annotate.labelstudio.write_tasks` (``tasks.json`` with the
model's predictions as pre-annotations, ``labeling_config.xml``, ``doccano.jsonl``; each task's data also
carries ``suggest_rank``, ``suggest_reason`` and ``suggest_score``) and ``suggestions.jsonl``: one line per chosen
document in rank order, ``{"rank", "id", "index", "reason", "score", "detail"?, "text"}``. Nothing is replaced
without ``overwrite``: any of the four files already in ``OUT`` is refused before the pool is read, and every
file is written to a temporary file and renamed into place.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tagger.errors import ConfigError, ModelLoadError, OutputError
from tagger.suggest.rank import Suggestion

SUGGESTIONS_FILE = "suggestions.jsonl"


def check_out_dir(out_dir: str | os.PathLike, overwrite: bool) -> Path:
    """Refuse an output that is a file, or that holds one of the files written here (unless ``overwrite``)."""
    from tagger.annotate.labelstudio import FILES

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a directory; give a directory for the annotation tasks")
    for name in (SUGGESTIONS_FILE, *FILES.values()):
        target = out / name
        if target.is_dir():
            raise OutputError(f"{target}: is a folder; give another --out")
        if target.exists() and not overwrite:
            raise OutputError(f"{target}: already exists; pass --overwrite to replace the suggestions in {out}, or "
                              "give another --out")
    return out


def write_suggestions(
    out_dir: str | os.PathLike,
    suggestions: Sequence[Suggestion],
    predictions: Sequence[Any] | None = None,
    *,
    entity_labels: Sequence[str] = (),
    topic_labels: Sequence[str] = (),
    model_version: str = "",
    overwrite: bool = False,
) -> dict[str, Path]:
    """Write the annotation tasks of ``suggestions`` (and ``predictions``, one :class:`~tagger.schema.Prediction`
    per suggestion, as pre-annotations) plus ``suggestions.jsonl`` to ``out_dir``; returns ``{name: path}``."""
    from tagger.annotate.labelstudio import write_tasks

    out = check_out_dir(out_dir, overwrite)
    if predictions is not None and len(predictions) != len(suggestions):
        raise ValueError(f"{len(predictions)} predictions for {len(suggestions)} suggestions")
    records = [{"id": s.id, "text": s.text, "suggest_rank": s.rank, "suggest_reason": s.reason,
                "suggest_score": round(float(s.score), 6)} for s in suggestions]
    paths = dict(write_tasks(out, records, list(predictions) if predictions is not None else None,
                             entity_labels=list(entity_labels), topic_labels=list(topic_labels),
                             model_version=model_version, overwrite=overwrite))
    paths["suggestions"] = write_jsonl_atomic(out / SUGGESTIONS_FILE, [s.to_dict() for s in suggestions])
    return paths


def write_jsonl_atomic(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    """``rows`` as JSON lines, written to a temporary sibling and renamed over ``path`` in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# ---------------------------------------------------------------------------------------------- the command
@dataclass
class SuggestOptions:
    """What ``tagger suggest`` was asked (the CLI's arguments)."""

    model: str
    pool: str
    out: str
    n: int
    label: str | None = None
    examples: str | None = None
    terms: Sequence[str] | None = None
    entity: bool = False
    method: str | None = None
    random_share: float = 0.2
    dedup: float = 0.9
    seed: int = 0
    overwrite: bool = False


def run_suggest(opts: SuggestOptions) -> int:
    """``tagger suggest``: check the options and the output, read the pool, rank, predict, write; print a summary."""
    from tagger.savedir import is_bundle_dir, is_model_dir
    from tagger.suggest.pool import read_pool
    from tagger.suggest.rank import check_options, suggest

    terms = [t for t in (opts.terms or []) if t.strip()]
    if opts.label is None:
        given = [flag for flag, value in (("--examples", opts.examples), ("--terms", terms), ("--entity", opts.entity),
                                          ("--method", opts.method)) if value]
        if given:
            raise ConfigError(f"{' and '.join(given)} describe a new label: give its name with --label NAME (without "
                              "--label, the pool is ranked by the model's uncertainty about its own labels)")
    elif not opts.label.strip():
        raise ConfigError("--label needs a non-empty label name")
    elif not opts.examples and not terms:
        raise ConfigError(f"--label {opts.label} needs --examples FILE (a few texts that have the label) and/or "
                          "--terms WORD ... to rank the pool by")
    method = opts.method or "char"
    check_options(opts.n, opts.random_share, opts.dedup, method)
    out = check_out_dir(opts.out, opts.overwrite)

    records = read_pool(opts.pool)
    examples = [r.text for r in read_pool(opts.examples, "examples file")] if opts.examples else []
    model = Path(opts.model)
    if not model.is_dir():
        raise ModelLoadError(f"{model}: no such model directory")
    tagger = None
    if is_model_dir(model) or is_bundle_dir(model):
        from tagger.predict import Tagger

        tagger = Tagger.from_pretrained(model)
    elif opts.label is None:
        raise ModelLoadError(f"{model}: not a model saved by arabic-tagger; ranking by uncertainty needs a trained "
                             "model (a plain encoder works only with --label)")
    chosen = suggest(tagger if tagger is not None else model, records, n=opts.n, label=opts.label,
                     examples=examples, terms=terms, method=method, random_share=opts.random_share,
                     dedup=opts.dedup, seed=opts.seed)
    entity_labels = list(tagger.ner_labels) if tagger is not None else []
    topic_labels = list(tagger.topic_labels) if tagger is not None else []
    if opts.label is not None:
        labels = entity_labels if opts.entity else topic_labels
        if opts.label not in labels:
            labels.append(opts.label)
    predictions = tagger.predict([s.text for s in chosen]) if tagger is not None else None
    paths = write_suggestions(out, chosen, predictions, entity_labels=entity_labels, topic_labels=topic_labels,
                              model_version=str(opts.model), overwrite=opts.overwrite)
    reasons = {r: sum(s.reason == r for s in chosen) for r in ("similar", "uncertain", "random")}
    counts = ", ".join(f"{v} {k}" for k, v in reasons.items() if v)
    short = f" (the pool has only {len(chosen)} usable documents)" if len(chosen) < opts.n else ""
    print(f"suggested {len(chosen)} of {len(records)} pool documents ({counts}){short}; wrote "
          + ", ".join(str(p) for p in paths.values()))
    return 0
