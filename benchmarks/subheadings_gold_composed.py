"""``subheading_words`` on documents composed from gold dev: a larger check of the sub-heading rule's precision.

None of the 510 gold dev documents has a sub-heading after its title, so ``lexical_blend.py`` cannot show what the
rule does to text from other outlets. Here gold dev's single-topic documents (and its no-topic ones as fillers)
are joined into documents on 2-4 topics (:func:`tagger.data.multitopic.compose_documents`, seed 0): the titles of
the joined parts become sub-headings (44 of the 45 documents have one). For each model the lexical model is fitted
on its training file and attached (``lexical_blend: 0.5``), thresholds are tuned on its dev file, and micro-F1 /
precision / recall are printed with the rule off (0) and on (15). Measurement only: nothing is tuned on these
documents (for a model whose dev file is gold dev itself, its thresholds have seen the parts).

    python benchmarks/subheadings_gold_composed.py runs/qs/topics-mix,runs/adapt-cmp/topics-base-7,runs/adapt-cmp/topics-base-13 seeds/train.jsonl seeds/dev.jsonl OUT.json
"""

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._paths import GOLD_DEV  # noqa: E402
from benchmarks.multitopic import metrics, read_jsonl  # noqa: E402


def main(argv: list[str]) -> int:
    from tagger import Tagger
    from tagger.data.multitopic import compose_documents, single_topic_paragraphs
    from tagger.decode import tune_thresholds
    from tagger.lexical import LexicalTopicModel, subheadings

    models, train, dev, out_path = argv[0].split(","), Path(argv[1]), Path(argv[2]), Path(argv[3])
    by_topic, fillers = single_topic_paragraphs(read_jsonl(GOLD_DEV, "the gold dev set lives in ../shared/data/gold"),
                                                "gold-dev")
    docs = compose_documents(by_topic, fillers, n=400, seed=0)
    print(f"composed from gold dev: {len(docs)} documents, {sum(1 for d in docs if subheadings(d['text'], 15))} with "
          f"a sub-heading, {np.mean([len(d['topics']) for d in docs]):.2f} topics each")
    tr, dv = read_jsonl(train, "pass the models' training file"), read_jsonl(dev, "pass the models' dev file")
    rows = []
    for m in models:
        tagger = Tagger.from_pretrained(m)
        labels = tuple(tagger.topic_labels)
        tagger.topics.lexical = LexicalTopicModel.fit([r["text"] for r in tr], [r.get("topics") or [] for r in tr], labels)
        tagger.topics.block.lexical_blend = 0.5
        gold = [set(d["topics"]) & set(labels) for d in docs]
        gold_dev = [set(r.get("topics") or []) & set(labels) for r in dv]
        for sub in (0, 15):
            tagger.topics.block.subheading_words = sub
            thr = tune_thresholds(gold_dev, tagger.topic_scores([r["text"] for r in dv]), labels)
            r = metrics(gold, tagger.topic_scores([d["text"] for d in docs]), labels, thr)
            rows.append({"model": m, "subheading_words": sub, **r})
            print(m, sub, {k: round(v, 3) for k, v in r.items()}, flush=True)
    out_path.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
