"""Which unlabelled documents to annotate next (``tagger suggest``).

``suggest(model, pool, n=..., label=NEW, examples=[...], terms=[...])`` ranks a pool by similarity to a new
label's examples and seed terms (:mod:`.similarity`: char n-gram TF-IDF or the model's encoder), or, without a
new label, by the model's uncertainty about its own labels (:mod:`.uncertainty`), mixes in a share of random
documents and drops near-duplicates (:mod:`.rank`). :func:`write_suggestions` writes the chosen documents as
annotation tasks with the model's pre-annotations plus ``suggestions.jsonl`` (:mod:`.output`); :func:`read_pool`
reads JSON lines, text lines, parquet or a saved ``datasets`` dataset (:mod:`.pool`).
"""

from tagger.suggest.output import SUGGESTIONS_FILE, SuggestOptions, run_suggest, write_suggestions
from tagger.suggest.pool import PoolRecord, read_pool
from tagger.suggest.rank import Suggestion, choose, suggest
from tagger.suggest.similarity import METHODS, Encoder, char_scores, encoder_scores, load_encoder
from tagger.suggest.uncertainty import model_certainty, topic_distance

__all__ = [
    "METHODS",
    "SUGGESTIONS_FILE",
    "Encoder",
    "PoolRecord",
    "SuggestOptions",
    "Suggestion",
    "char_scores",
    "choose",
    "encoder_scores",
    "load_encoder",
    "model_certainty",
    "read_pool",
    "run_suggest",
    "suggest",
    "topic_distance",
    "write_suggestions",
]
