"""How similar each pool document is to a new label's examples and seed terms: two methods.

* ``char``: TF-IDF over character n-grams (``analyzer="char_wb"``, 2-5 characters, sublinear tf) of the texts
  normalised with the model's saved normalisation, fitted on the pool and the query together. Robust to Arabic
  clitics and spelling variants, needs no model weights and runs in seconds. Every example text and every seed
  term is one unit-length query vector; a document's score is the cosine between its vector and the mean of the
  query vectors. With terms only, that is the mean of the per-term similarities: a soft count of the terms a
  document contains (a document with two of the terms outranks one with one).
* ``encoder``: the mean of the model encoder's last hidden states over the real (unpadded) tokens of the
  normalised text, truncated to the model's ``max_length`` (the first window of a long document). The query
  vectors are the examples' embeddings and one embedding of the seed terms joined into one short text (embedded
  one by one, single words land far from any article). Every vector is centred on the pool's mean embedding
  before the cosine with the mean query vector: mean-pooled BERT embeddings share one large common direction
  that otherwise dominates every cosine (measured in benchmarks/suggest.py: centring lifts the precision of a
  fine-tuned encoder markedly and changes a raw pretrained one little).

Scores are cosines in [-1, 1]; higher = more similar.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tagger.config import NormalizationConfig
from tagger.errors import ConfigError, ModelLoadError
from tagger.text import normalize

logger = logging.getLogger(__name__)

METHODS = ("char", "encoder")
CHAR_NGRAMS = (2, 5)
EMBED_BATCH = 16


def normalized(texts: Sequence[str], norm: NormalizationConfig | None) -> list[str]:
    """``texts`` normalised as the model normalises its input (:func:`tagger.text.normalize`)."""
    return [normalize(t, norm).text for t in texts]


def char_vectors(texts: Sequence[str], fit_on: Sequence[str] = ()) -> Any:
    """Unit-length char n-gram TF-IDF rows (scipy sparse) of already normalised ``texts``; the IDF is fitted on
    ``texts`` plus ``fit_on`` (whose rows follow those of ``texts`` in the result)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=CHAR_NGRAMS, sublinear_tf=True, dtype=np.float32)
    return vectorizer.fit_transform([*texts, *fit_on])


def centroid_cosine(pool: Any, queries: Any) -> np.ndarray:
    """Cosine of each (unit-length) pool row with the mean of the (unit-length) query rows."""
    centre = np.asarray(queries.mean(axis=0)).ravel()
    length = float(np.linalg.norm(centre))
    if length == 0.0:
        return np.zeros(pool.shape[0], dtype=np.float32)
    return np.asarray(pool @ (centre / length)).ravel().astype(np.float32)


def char_scores(pool_norm: Sequence[str], queries_norm: Sequence[str]) -> np.ndarray:
    """``char`` method: cosine of each normalised pool text with the centroid of the normalised query texts."""
    matrix = char_vectors(pool_norm, queries_norm)
    n = len(pool_norm)
    return centroid_cosine(matrix[:n], matrix[n:])


# ---------------------------------------------------------------------------------------------- encoder
@dataclass
class Encoder:
    """A transformers encoder (no head), its tokenizer and the settings its texts are prepared with."""

    model: Any
    tokenizer: Any
    norm: NormalizationConfig
    max_length: int
    device: Any = None

    def embed(self, texts: Sequence[str], batch_size: int = EMBED_BATCH) -> np.ndarray:
        """Unit-length mean-pooled last hidden states ``[len(texts), hidden]`` of the normalised texts."""
        import torch

        norm_texts = normalized(texts, self.norm)
        order = sorted(range(len(texts)), key=lambda i: -len(norm_texts[i]))
        out: np.ndarray | None = None
        device = self.device or next(self.model.parameters()).device
        with torch.inference_mode():
            for pos in range(0, len(order), batch_size):
                batch = order[pos : pos + batch_size]
                enc = self.tokenizer([norm_texts[i] for i in batch], truncation=True, max_length=self.max_length,
                                     padding=True, return_tensors="pt")
                inputs = {k: v.to(device) for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
                hidden = self.model(**inputs).last_hidden_state.float()
                mask = inputs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                if out is None:
                    out = np.zeros((len(texts), mean.shape[-1]), dtype=np.float32)
                out[batch] = mean.cpu().numpy()
        if out is None:
            return np.zeros((0, 0), dtype=np.float32)
        return _unit(out)


def encoder_queries(examples: Sequence[str], terms: Sequence[str]) -> list[str]:
    """The texts the ``encoder`` method embeds as queries: each example, and the terms joined into one text."""
    return [*examples, " ".join(terms)] if terms else list(examples)


def centred_cosine(pool: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Cosine of each pool embedding with the mean query embedding, all centred on the pool's mean embedding
    (no centring for a pool of one document)."""
    mean = pool.mean(axis=0) if len(pool) > 1 else np.zeros(pool.shape[1], dtype=pool.dtype)
    return centroid_cosine(_unit(pool - mean), _unit(queries - mean))


def encoder_scores(encoder: Encoder, pool_texts: Sequence[str], examples: Sequence[str],
                   terms: Sequence[str] = ()) -> np.ndarray:
    """``encoder`` method (module docstring): the centred cosine of each pool text with the queries."""
    return centred_cosine(encoder.embed(pool_texts), encoder.embed(encoder_queries(examples, terms)))


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def load_encoder(source: Any, device: str | None = None) -> Encoder:
    """The encoder of ``source``: a :class:`~tagger.predict.Tagger` on torch (its topic head's model, else its NER
    head's), a model directory saved by this library, a bundle (``topics/``, else ``ner/``), or any transformers
    encoder directory with a tokenizer (default normalisation, ``max_length`` from its config, at most 512)."""
    from tagger.predict import Tagger

    if isinstance(source, Tagger):
        return _tagger_encoder(source)
    return _dir_encoder(Path(source), device)


def _tagger_encoder(tagger: Any) -> Encoder:
    head = tagger.topics or tagger.ner
    model = getattr(head.runner, "model", None)
    if model is None:
        raise ModelLoadError("the encoder method needs the model on torch (an ONNX export gives no hidden states); "
                             "pass the model directory, or use --method char")
    model = getattr(model, "token_model", model)  # joint: the encoder lives in its token model
    base = getattr(model, "base_model", model)
    return Encoder(base, head.tokenizer, head.norm, int(head.block.max_length), getattr(head.runner, "device", None))


def _dir_encoder(path: Path, device: str | None) -> Encoder:
    from tagger import console
    from tagger.model import load_tokenizer, read_block
    from tagger.savedir import is_model_dir

    if not path.is_dir():
        raise ModelLoadError(f"{path}: no such model directory; the encoder method needs a local model directory")
    if not (path / "config.json").is_file():
        for part in ("topics", "ner"):
            if is_model_dir(path / part):
                path = path / part
                break
    norm, max_length = NormalizationConfig(), 0
    if is_model_dir(path):
        block = read_block(path)
        norm, max_length = block.norm, int(block.max_length)
    import torch
    from transformers import AutoModel

    try:
        with console.quiet(reported=True):  # a task head's weights are unused here: no LOAD REPORT about them
            tokenizer = load_tokenizer(str(path))
            model, info = AutoModel.from_pretrained(str(path), output_loading_info=True)
    except (OSError, ValueError) as err:
        detail = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ModelLoadError(f"{path}: cannot load an encoder from this directory ({detail})") from err
    missing = [k for k in info.get("missing_keys", []) if not k.startswith("pooler.")]  # the pooler is not used
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise ModelLoadError(f"{path}: the weights lack encoder tensors {missing[:3]}{more}; they would be random, so "
                             "the embeddings would mean nothing: give a directory with the full encoder")
    if not max_length:
        limits = [getattr(model.config, "max_position_embeddings", 512), getattr(tokenizer, "model_max_length", 512), 512]
        max_length = int(min(x for x in limits if isinstance(x, int) and x > 0))
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    return Encoder(model.to(dev).eval(), tokenizer, norm, max_length, dev)


def check_method(method: str) -> None:
    if method not in METHODS:
        raise ConfigError(f"unknown similarity method {method!r}; use one of {list(METHODS)}")
