"""Build the seed corpus: seeds/src/*.txt (markup) -> seeds/{corpus,train,dev,test}.jsonl + README statistics.

    python training/build_seeds.py            # rebuild in place
    python training/build_seeds.py --check    # exit 1 if any committed file is out of date (CI)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tagger.data.corpus import (
    SPLITS,
    load_sources,
    render_jsonl,
    render_stats,
    replace_section,
    split_documents,
    validate_corpus,
)
from tagger.errors import TaggerError

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED_ID = "seed-000"


def build(src: Path, out: Path, readme: Path) -> dict[Path, str]:
    """Every output file's path and its full new content (nothing is written here)."""
    docs = load_sources(src)
    validate_corpus(docs)
    splits = split_documents(docs, pinned={SEED_ID: "test"} if any(d.id == SEED_ID for d in docs) else None)
    files = {out / "corpus.jsonl": render_jsonl(docs)}
    files.update({out / f"{name}.jsonl": render_jsonl(splits[name]) for name in SPLITS})
    files[readme] = replace_section(readme.read_text(encoding="utf-8"), render_stats(docs, splits))
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", type=Path, default=SEEDS / "src", help="folder of *.txt markup files")
    parser.add_argument("--out", type=Path, default=SEEDS, help="folder for corpus/train/dev/test .jsonl")
    parser.add_argument("--readme", type=Path, default=SEEDS / "README.md",
                        help="README whose stats section (between the stats markers) is regenerated")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file would change")
    args = parser.parse_args(argv)
    try:
        files = build(args.src, args.out, args.readme)
    except TaggerError as err:  # MarkupError, CorpusError, DataError (a source file that is not UTF-8)
        print(f"error: {err}", file=sys.stderr)
        return 2
    stale = [p for p, body in files.items() if not p.exists() or p.read_text(encoding="utf-8") != body]
    if args.check:
        for path in stale:
            print(f"out of date: {path} (run python training/build_seeds.py)", file=sys.stderr)
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for path, body in files.items():
        path.write_text(body, encoding="utf-8", newline="\n")
    print(f"wrote {len(files)} files ({len(stale)} changed) from {args.src}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
