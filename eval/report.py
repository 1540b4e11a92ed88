"""Write an evaluation report for one or more saved models: ``python eval/report.py MODEL... --data FILE --out DIR``.

A thin wrapper over :func:`tagger.report.run_eval` (the same as ``tagger eval``); see eval/README.md for what
the report contains and the keys of metrics.json.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="+", help="model directories, compared side by side (the first is the reference)")
    p.add_argument("--data", required=True, help="annotated evaluation data: CoNLL, JSONL or CSV")
    p.add_argument("--out", required=True, help="output directory for metrics.json, report.md, report.html")
    p.add_argument("--baselines", action="store_true", help="also train CRF (NER) and TF-IDF+LR (topics) baselines")
    p.add_argument("--train", default=None, help="training data for --baselines (the models' training data)")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for CIs and p-values")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--top-errors", type=int, default=20, help="how many of the most frequent NER errors to list")
    p.add_argument("--examples", type=int, default=5, help="false positives/negatives shown per topic label")
    p.add_argument("--batch-size", type=int, default=64, help="documents per prediction batch")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from tagger.report import run_eval

    args = build_parser().parse_args(argv)
    result = run_eval(
        args.models,
        args.data,
        args.out,
        baselines=args.baselines,
        train=args.train,
        n_bootstrap=args.bootstrap,
        seed=args.seed,
        top_k=args.top_errors,
        examples=args.examples,
        batch_size=args.batch_size,
        progress=not args.no_progress,
    )
    from tagger.report import headline

    print("\n".join(headline(result)))
    print(f"wrote {args.out}/metrics.json, report.md, report.html")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
