"""``tagger quickstart``: train NER and topic heads on the seed corpus, evaluate, tag the seed article.

The seed article (``seeds/seed_article.txt``, gold-annotated as ``seed-000`` in ``seeds/test.jsonl``, never
trained on) is printed with what the model found next to the gold annotation: topics with scores and
thresholds, entities found / missed / wrongly typed, so a user sees at once what the model gets right and
where the small bundled corpus limits it.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from tagger.errors import ConfigError
from tagger.schema import Prediction

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
SEED_ID = "seed-000"


def run_quickstart(model: str, out: str, seeds: str | None = None, overrides: list[str] | None = None,
                   overwrite: bool = False) -> int:
    from tagger.model import load_tokenizer
    from tagger.predict import Tagger
    from tagger.savedir import check_output_dir
    from tagger.trainer import train

    seeds_dir = Path(seeds) if seeds else REPO / "seeds"
    configs = REPO / "training" / "configs"
    needed = [seeds_dir / f for f in ("train.jsonl", "dev.jsonl", "test.jsonl", "seed_article.txt")]
    missing = [str(p) for p in needed if not p.is_file()]
    if missing or not configs.is_dir():
        raise ConfigError(
            f"quickstart needs the repository's seeds/ and training/configs/ (missing: {missing or [str(configs)]}); "
            "run it from a clone (pip install -e .) or pass --seeds DIR"
        )
    out_dir = Path(out)
    check_output_dir(out_dir, overwrite=overwrite, protect=[seeds_dir, configs], bundle=True,
                     overwrite_hint="pass --overwrite")
    started = time.perf_counter()
    print(f"[quickstart] encoder: {model}")
    load_tokenizer(model)  # fail early and plainly when the hub is unreachable
    n_train = sum(1 for line in (seeds_dir / "train.jsonl").read_text(encoding="utf-8").splitlines() if line.strip())
    print(f"[quickstart] two trainings on the seed corpus ({n_train} documents), then an evaluation on its test "
          "split; each training prints its own time estimate after a few steps")
    for task in ("ner", "topics"):
        sets = [
            f"model={model}", f"train={seeds_dir / 'train.jsonl'}", f"dev={seeds_dir / 'dev.jsonl'}",
            f"output_dir={out_dir / task}", *(["overwrite=true"] if overwrite else []), *(overrides or []),
        ]
        print(f"\n[quickstart] training the {task} head on {seeds_dir / 'train.jsonl'}")
        result = train(configs / f"quickstart-{task}.yaml", sets)
        print(f"[quickstart] {task}: best dev F1 {result.metrics.get('best_dev_f1', float('nan')):.3f} -> {result.output_dir}")

    from tagger.report import headline, run_eval

    test = seeds_dir / "test.jsonl"
    report = run_eval([str(out_dir)], str(test), str(out_dir / "eval"), progress=False)
    print()
    print("\n".join(f"[quickstart] test: {line}" for line in headline(report)))
    print(f"[quickstart] reports: {out_dir / 'eval' / 'report.md'}, {out_dir / 'eval' / 'report.html'}")

    article = (seeds_dir / "seed_article.txt").read_text(encoding="utf-8")
    pred = Tagger.from_pretrained(out_dir).predict([article])[0]
    gold = _gold_record(test, article)
    print("\n".join(describe_article(pred, gold, n_train)))
    print(f"\n[quickstart] done in {(time.perf_counter() - started) / 60:.1f} min. Next: load the bundle in Python "
          f"(Tagger.from_pretrained({str(out_dir)!r})), `tagger predict {out_dir} FILE`, or open the HTML report.")
    return 0


def _gold_record(test: Path, article: str) -> dict | None:
    """The gold record of the seed article in the test split (matched by id and text), if present."""
    for line in test.read_text(encoding="utf-8").splitlines():
        if line.strip():
            rec = json.loads(line)
            if rec.get("id") == SEED_ID and rec.get("text", "").strip() == article.strip():
                return rec
    return None


def describe_article(pred: Prediction, gold: dict | None, n_train: int | None = None) -> list[str]:
    """Human-readable lines: the seed article's topics and entities next to its gold annotation."""
    lines = ["", "[quickstart] the seed article (never trained on), compared with its gold annotation"]
    if pred.topics is not None:
        want = set(gold.get("topics") or []) if gold else set()
        lines.append(f"  topics: {', '.join(pred.topics.labels) or '(none)'}"
                     + (f"   gold: {', '.join(sorted(want))}" if gold else ""))
        for label, score in pred.topics.scores.items():
            mark = "+" if label in pred.topics.labels else " "
            note = "" if not gold else ("  <- missed" if label in want and mark == " " else
                                        "  <- not in gold" if label not in want and mark == "+" else "")
            lines.append(f"    {mark} {label:14s} score {score:.2f}  threshold {pred.topics.thresholds[label]:.2f}{note}")
        missed_topics = sorted(want - set(pred.topics.labels)) if gold else []
        if missed_topics:
            lines.append(f"    missed {', '.join(missed_topics)}: a topic that only a sub-headline or one sentence carries is "
                         "the hardest case for a model trained on a few hundred whole articles; train on more data "
                         "(training/configs/topics-mini.yaml) or add such documents to yours.")
    text = pred.text
    found = {(e.start, e.end): e for e in pred.entities}
    if gold is None:
        lines.append(f"  entities ({len(found)}):")
        lines += [f"    {e.label:4s} {e.text}" for e in pred.entities]
        return lines
    spans = {(g["start"], g["end"]): g["label"] for g in gold.get("entities", [])}
    right = [k for k, lab in spans.items() if k in found and found[k].label == lab]
    wrong_type = [k for k, lab in spans.items() if k in found and found[k].label != lab]
    missed = [k for k in spans if k not in found]
    extra = [k for k in found if k not in spans]
    lines.append(f"  entities: {len(right)} of {len(spans)} gold mentions exact, {len(wrong_type)} with the wrong "
                 f"type, {len(missed)} missed, {len(extra)} not in gold")
    for title, keys, show in (("wrong type", wrong_type, lambda k: f"{found[k].label} (gold {spans[k]})"),
                              ("missed", missed, lambda k: f"(gold {spans[k]})"),
                              ("not in gold", extra, lambda k: found[k].label)):
        if keys:
            lines.append(f"    {title}: " + "; ".join(f"{text[k[0]:k[1]]} {show(k)}" for k in sorted(keys)))
    lines.append("  found: " + "; ".join(f"{e.text} {e.label}" for e in pred.entities))
    if missed or wrong_type or extra:
        size = f" ({n_train} training documents)" if n_train else ""
        lines.append(f"  The seed corpus is small{size}; a model continued from ANERcorp "
                     "(training/configs/news-ner-mini.yaml) or trained on your own data does better on names it has "
                     "not seen.")
    return lines
