"""arabic-tagger: fine-tune AraBERT-like encoders for Arabic NER and multi-label topic classification."""

from __future__ import annotations

__version__ = "0.1.0"

from tagger.schema import Document, Entity, Prediction, Span, TopicPrediction  # noqa: E402

__all__ = ["Document", "Entity", "Prediction", "Span", "Tagger", "TopicPrediction", "__version__", "train"]


def __getattr__(name: str):  # lazy: importing tagger must not import torch
    if name == "Tagger":
        from tagger.predict import Tagger

        return Tagger
    if name == "train":
        from tagger.trainer import train

        return train
    raise AttributeError(f"module 'tagger' has no attribute {name!r}")
