"""Where the benchmarks read from, in one place: ``../shared`` beside the repository (data and the mini encoder,
never copied in) and the git-ignored data derived from it (``data/``), plus the repository's seed corpus."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
ANER = SHARED / "data" / "splits" / "anercorp"
GOLD_DEV = SHARED / "data" / "gold" / "topics-dev.jsonl"
ENCODER = SHARED / "models" / "arabic-mini-bert"
SILVER = ROOT / "data" / "silver" / "topics-train-st.jsonl"  # python training/build_topic_silver.py --self-train
HOLDOUT = ROOT / "data" / "silver" / "topics-holdout.jsonl"  # written by the same command
SEEDS_DIR = ROOT / "seeds"
SEED_TRAIN = SEEDS_DIR / "train.jsonl"
