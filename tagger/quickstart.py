"""``tagger quickstart``: train NER and topic heads on the seed corpus, evaluate, tag the seed article."""

from __future__ import annotations

import logging
from pathlib import Path

from tagger.config import ConfigError

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]


def run_quickstart(model: str, out: str, seeds: str | None = None, overrides: list[str] | None = None) -> int:
    from tagger.model import load_tokenizer
    from tagger.predict import Tagger
    from tagger.train import train

    seeds_dir = Path(seeds) if seeds else REPO / "seeds"
    configs = REPO / "training" / "configs"
    needed = [seeds_dir / f for f in ("train.jsonl", "dev.jsonl", "test.jsonl", "seed_article.txt")]
    missing = [str(p) for p in needed if not p.is_file()]
    if missing or not configs.is_dir():
        raise ConfigError(
            f"quickstart needs the repository's seeds/ and training/configs/ (missing: {missing or [str(configs)]}); "
            "run it from a clone (pip install -e .) or pass --seeds DIR"
        )
    print(f"[quickstart] encoder: {model}")
    load_tokenizer(model)  # fail early and plainly when the hub is unreachable
    out_dir = Path(out)
    for task in ("ner", "topics"):
        sets = [
            f"model={model}", f"train={seeds_dir / 'train.jsonl'}", f"dev={seeds_dir / 'dev.jsonl'}",
            f"output_dir={out_dir / task}", *(overrides or []),
        ]
        print(f"[quickstart] training the {task} head on {seeds_dir / 'train.jsonl'}")
        result = train(configs / f"quickstart-{task}.yaml", sets)
        print(f"[quickstart] {task}: best dev F1 {result.metrics.get('best_dev_f1', float('nan')):.3f} -> {result.output_dir}")

    from tagger.report import headline, run_eval

    test = seeds_dir / "test.jsonl"
    report = run_eval([str(out_dir)], str(test), str(out_dir / "eval"))
    print("\n".join(f"[quickstart] test: {line}" for line in headline(report)))
    print(f"[quickstart] reports: {out_dir / 'eval' / 'report.md'}, {out_dir / 'eval' / 'report.html'}")

    article = (seeds_dir / "seed_article.txt").read_text(encoding="utf-8")
    pred = Tagger.from_pretrained(out_dir).predict([article])[0]
    print("\n[quickstart] seed article — entities:")
    for e in pred.entities:
        print(f"  {e.label:5s} {e.text}  [{e.start}:{e.end}]  {e.score:.2f}")
    if pred.topics is not None:
        scores = ", ".join(f"{k} {v:.2f}" for k, v in pred.topics.scores.items())
        print(f"[quickstart] seed article — topics: {list(pred.topics.labels)}  (scores: {scores})")
    return 0
