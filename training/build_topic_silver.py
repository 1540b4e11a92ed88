"""Build the silver topic-training set from unlabelled real news with :class:`tagger.data.weak.WeakLabeler`.

A thin command line over :mod:`tagger.data.silver` (reading, rule labels, selection, hand-annotation join; the
rules are described there) and :mod:`tagger.data.silver_selftrain` (``--self-train``). It reads
``../shared/data/external`` by default (it must exist, it is not part of the repository; the outlets reserved
for testing are never read) and writes a balanced, seeded silver set::

    data/silver/topics-train.jsonl     {"id", "text", "topics", "source"}
    data/silver/topics-holdout.jsonl   same, a small silver holdout (not gold: for sanity checks only)

Hand labels of pool documents (``training/annotations/pool-topics.jsonl``; see ``training/annotations/README.md``)
enter the train set with their hand labels instead of the rules' (``--no-annotations`` leaves them out).
``seeds/train.jsonl`` (the project's own corpus) is appended when it exists. ``data/`` must stay git-ignored:
SaudiNewsNet is CC BY-NC-SA and nothing derived from it may be shipped.

New labels (issue 3, "retraining on new labels"): ``--labels`` picks the label set (default the four of
``shared/data/gold/GUIDELINES.md``); any label with a :class:`tagger.data.weak.LabelPatterns` entry may be added, e.g.
``digital-economy``. ``--out`` is a folder (``topics-train.jsonl`` + ``topics-holdout.jsonl``) or a ``.jsonl``
file for the train set (the holdout goes next to it as ``<stem>-holdout.jsonl``)::

    python training/build_topic_silver.py --labels 5G cybersecurity e-government space digital-economy \
        --out data/silver/topics-train-de.jsonl

Self-training (``--self-train``, off by default; the rule silver set above is unchanged by it) adds confident
TF-IDF+LR positives and negatives from the same pool and writes the train set plus the additions to ``--st-out``
(default ``<train stem>-st.jsonl``, i.e. ``data/silver/topics-train-st.jsonl``); ``--st-review FILE`` also
writes every added document with its scores, for reading::

    python training/build_topic_silver.py --self-train --st-review /tmp/st-review.jsonl

Usage: ``python training/build_topic_silver.py [--shared DIR] [--out DIR|FILE.jsonl] [--labels ...] [--seed 13]
[--annotations FILE | --no-annotations]
[--self-train [--st-cut 0.9] [--st-cap 300] [--st-neg-cut 0.05] [--st-neg-ratio 1.5] [--st-out FILE]]``
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # allow `python training/build_topic_silver.py` from a checkout
    sys.path.insert(0, str(ROOT))

from tagger.data.silver import SilverConfig, build_silver, output_paths, summary_lines, write_jsonl  # noqa: E402
from tagger.data.silver_selftrain import SelfTrainConfig, self_train, self_train_pool  # noqa: E402
from tagger.data.weak import DEFAULT_LABELS  # noqa: E402

DEFAULT_SHARED = ROOT.parent / "shared"
DEFAULT_ANNOTATIONS = ROOT / "training" / "annotations" / "pool-topics.jsonl"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shared", type=Path, default=DEFAULT_SHARED, help="folder containing data/external")
    p.add_argument("--out", type=Path, default=ROOT / "data" / "silver",
                   help="output folder, or a .jsonl path for the train set (keep it under data/: git-ignored)")
    p.add_argument("--seeds", type=Path, default=ROOT / "seeds" / "train.jsonl", help="project seed corpus")
    p.add_argument("--labels", nargs="+", default=list(DEFAULT_LABELS),
                   help="label set; labels beyond the default four are weak-labelled (e.g. digital-economy)")
    p.add_argument("--cap", type=int, default=1500, help="max silver positives per label")
    p.add_argument("--neg-ratio", type=float, default=2.5, help="negatives per positive document")
    p.add_argument("--hard-share", type=float, default=0.4, help="share of negatives that are hard negatives")
    p.add_argument("--holdout", type=float, default=0.1, help="share kept as a silver holdout")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--annotations", type=Path, default=DEFAULT_ANNOTATIONS,
                   help="hand labels of pool documents (ids + labels, no text), added to the train set with their "
                        "labels in place of the rules' (default training/annotations/pool-topics.jsonl)")
    p.add_argument("--no-annotations", dest="annotations", action="store_const", const=None,
                   help="rule silver + seeds only")
    p.add_argument("--dump", type=Path, default=None, help="also write every labelled candidate here (review)")
    st = p.add_argument_group("self-training (off by default; see tagger.data.silver_selftrain)")
    st.add_argument("--self-train", action="store_true",
                    help="also write <train>-st.jsonl: rule silver + confident TF-IDF+LR additions from the pool")
    st.add_argument("--st-cut", type=float, default=0.9, help="min score for an added positive")
    st.add_argument("--st-cap", type=int, default=300, help="max added positives per label")
    st.add_argument("--st-ambiguous", type=float, default=0.5,
                    help="skip a document with any label scoring in [this, --st-cut)")
    st.add_argument("--st-neg-cut", type=float, default=0.05, help="max score (every label) of an added negative")
    st.add_argument("--st-neg-ratio", type=float, default=1.5, help="added negatives per added positive")
    st.add_argument("--st-out", type=Path, default=None, help="self-trained set (default <train stem>-st.jsonl)")
    st.add_argument("--st-review", type=Path, default=None, help="also write the added positives with scores")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    t0 = time.perf_counter()
    annotations = args.annotations
    if annotations == DEFAULT_ANNOTATIONS and not annotations.is_file():
        annotations = None  # the default file is optional; an explicit --annotations path must exist
    cfg = SilverConfig(tuple(args.labels), args.cap, args.neg_ratio, args.hard_share, args.holdout, args.seed)
    silver = build_silver(args.shared, args.seeds, annotations, cfg, dump=args.dump, log=print)
    train_path, holdout_path = output_paths(args.out)
    write_jsonl(train_path, silver.train)
    write_jsonl(holdout_path, silver.holdout)
    for line in summary_lines(silver):
        print(line)
    print(f"wrote {train_path} and {holdout_path} in {time.perf_counter() - t0:.1f}s")
    if args.self_train:
        pool, pool_weak = self_train_pool(silver)
        st_cfg = SelfTrainConfig(args.st_cut, args.st_cap, args.st_ambiguous, args.st_neg_cut, args.st_neg_ratio)
        result = self_train(silver.train, pool, pool_weak, silver.labeler, cfg.labels, st_cfg,
                            random.Random(args.seed))
        print(result.scoring_line())
        st_path = args.st_out or train_path.with_name(f"{train_path.stem}-st.jsonl")
        write_jsonl(st_path, silver.train + result.added)
        if args.st_review is not None:
            write_jsonl(args.st_review, result.review)
        for line in result.summary_lines(silver.train):
            print(line)
        print(f"wrote {st_path} in {time.perf_counter() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
