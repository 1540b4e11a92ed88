"""Seeds of one NER recipe alone, their probability ensemble, and their weight soup (`tagger soup`), one run.

    python benchmarks/ner_soup.py runs/ner-exp/aner-seeds runs/ner-exp/aner-seeds-7 [RUN...] [--json OUT]

Every system is scored by the same scorer (:func:`benchmarks.ner_anercorp.score`, strict IOB2 micro-F1 over the
CoNLL words) on ANERcorp test and dev, AQMAR (PER/ORG/LOC: its MISC is another concept) and the project's seeds
test set (JSONL, scored on the tagger's words):

* each model alone;
* the ensemble: per-token tag probabilities averaged over the models, then the library's constrained Viterbi
  decoding (:func:`tagger.tasks.ner.decode_entities`): N models' inference cost;
* the uniform soup: one model whose weights are the mean of the models' weights (:func:`tagger.soup.soup_models`,
  written to a temporary directory): one model's cost;
* with ``--greedy-dev``, the greedy soup on ANERcorp dev as well.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._paths import ANER, SEEDS_DIR, SHARED  # noqa: E402

SETS = {"anercorp_test": ANER / "test.conll", "anercorp_dev": ANER / "dev.conll",
        "aqmar": SHARED / "data" / "splits" / "aqmar" / "test.conll", "seeds_test": SEEDS_DIR / "test.jsonl"}
System = Callable[[Sequence], list]


def ensemble(taggers: Sequence) -> System:
    """Mean of the models' per-token tag probabilities, decoded like one model (same tokenizer and windows)."""
    from tagger.decode import log_softmax
    from tagger.tasks.ner import decode_entities

    def predict(docs: Sequence) -> list:
        runs = [t._outputs(docs, ["ner"])["ner"] for t in taggers]
        encoded, windows, _ = runs[0]
        mean = [np.log(np.mean([np.exp(log_softmax(np.asarray(r[2][j], np.float64))) for r in runs], axis=0) + 1e-12)
                for j in range(len(windows))]
        return decode_entities(taggers[0].ner, docs, encoded, windows, mean)

    return predict


def single(tagger) -> System:
    return lambda docs: [p.entities for p in tagger.predict_documents(docs)]


def scores(system: System, norm, data: dict[str, list]) -> dict[str, float]:
    from benchmarks.ner_anercorp import score
    from tagger.align import document_words, entities_to_tags

    out: dict[str, float] = {}
    for name, docs in data.items():
        gold, pred = [], []
        for doc, ents in zip(docs, system(docs), strict=True):
            words = document_words(doc, norm)[0]
            gold.append(list(entities_to_tags(words, doc.entities)))
            pred.append(list(entities_to_tags(words, ents)))
        s = score(gold, pred)
        if name == "aqmar":
            out["aqmar_per_org_loc"] = s["strict_f1_per_org_loc"]
            out.update({f"aqmar_{t}": s["strict_per_type_f1"][t] for t in ("PER", "ORG", "LOC")})
        else:
            out[name] = s["strict"]["f1"]
            if name == "anercorp_test":
                out.update({f"anercorp_{t}": v for t, v in s["strict_per_type_f1"].items() if v is not None})
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+", type=Path)
    ap.add_argument("--greedy-dev", action="store_true", help="also a greedy soup chosen on ANERcorp dev")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    from tagger.data.io import read_documents
    from tagger.predict import Tagger
    from tagger.soup import soup_models

    data = {name: read_documents(path) for name, path in SETS.items()}
    taggers = [Tagger.from_pretrained(m) for m in args.models]
    norm = taggers[0].ner.norm
    rows: dict[str, dict[str, float]] = {}
    for m, t in zip(args.models, taggers):
        rows[str(m)] = scores(single(t), norm, data)
        print(str(m), rows[str(m)], flush=True)
    rows["ensemble"] = scores(ensemble(taggers), norm, data)
    print("ensemble", rows["ensemble"], flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        soup_models(args.models, Path(tmp) / "soup")
        rows["soup"] = scores(single(Tagger.from_pretrained(Path(tmp) / "soup")), norm, data)
        print("soup", rows["soup"], flush=True)
        if args.greedy_dev:
            kept = soup_models(args.models, Path(tmp) / "greedy", dev=SETS["anercorp_dev"], greedy=True).kept
            rows["greedy_soup"] = scores(single(Tagger.from_pretrained(Path(tmp) / "greedy")), norm, data)
            rows["greedy_soup"]["kept"] = len(kept)
            print("greedy soup", rows["greedy_soup"], flush=True)
    alone = [rows[str(m)] for m in args.models]
    summary = {k: (round(statistics.mean(r[k] for r in alone), 2),
                   round(statistics.stdev(r[k] for r in alone), 2) if len(alone) > 1 else 0.0)
               for k in ("anercorp_test", "anercorp_dev", "aqmar_per_org_loc", "seeds_test")}
    print("models alone, mean and sd:", summary)
    print(f"{'system':<40} {'ANERcorp test':>13} {'dev':>6} {'AQMAR P/O/L':>11} {'seeds test':>10}")
    for name, r in rows.items():
        print(f"{name:<40} {r['anercorp_test']:>13.2f} {r['anercorp_dev']:>6.2f} {r['aqmar_per_org_loc']:>11.2f} "
              f"{r['seeds_test']:>10.2f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"models": [str(m) for m in args.models], "rows": rows,
                                         "alone_mean_sd": summary}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
