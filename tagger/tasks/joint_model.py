"""The joint model: one encoder, a token head (entities) and a document head (topics), one forward pass.

Saved as a plain token-classification model directory (``model.safetensors``: encoder + token head, so the
directory loads in transformers as ``AutoModelForTokenClassification`` or ``AutoModel``) plus
``topic_head.safetensors`` (the document head: dense + tanh over the first sub-token, dropout, linear).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from tagger.errors import ModelLoadError

TOPIC_HEAD_FILE = "topic_head.safetensors"


class JointOutput(dict):
    """``logits``: ``{"ner": [B, T, tags], "topics": [B, topic labels]}`` (a dict, so a runner keeps both)."""

    @property
    def logits(self) -> dict[str, torch.Tensor]:
        return self["logits"]


class JointModel(nn.Module):
    """``token_model`` (a transformers ``...ForTokenClassification``) and a topic head on its last hidden state."""

    def __init__(self, token_model: nn.Module, n_topics: int) -> None:
        super().__init__()
        self.token_model = token_model
        self.config = token_model.config
        hidden = int(self.config.hidden_size)
        p = getattr(self.config, "classifier_dropout", None)
        p = p if p is not None else getattr(self.config, "hidden_dropout_prob", 0.1)
        self.topic_head = nn.Sequential(nn.Linear(hidden, hidden), nn.Tanh(), nn.Dropout(p), nn.Linear(hidden, n_topics))
        std = float(getattr(self.config, "initializer_range", 0.02))
        for layer in (self.topic_head[0], self.topic_head[3]):
            nn.init.normal_(layer.weight, 0.0, std)
            nn.init.zeros_(layer.bias)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None, **_: Any) -> JointOutput:
        out = self.token_model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
        first = out.hidden_states[-1][:, 0]
        return JointOutput(logits={"ner": out.logits, "topics": self.topic_head(first)})

    def topic_head_state(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().contiguous() for k, v in self.topic_head.state_dict().items()}


def load_topic_head(model: JointModel, model_dir: str | Path) -> None:
    """Load ``model_dir/topic_head.safetensors`` into ``model``; missing, damaged or mismatched: ModelLoadError."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = Path(model_dir) / TOPIC_HEAD_FILE
    repair = "copy the model directory again from where it was saved, or re-train it"
    if not path.is_file():
        raise ModelLoadError(f"{path}: missing; a joint model directory holds its topic head there: {repair}")
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError) as err:
        raise ModelLoadError(f"{path}: damaged or truncated ({err}); {repair}") from err
    try:
        model.topic_head.load_state_dict(state, strict=True)
    except RuntimeError as err:
        detail = str(err).strip().splitlines()[0]
        raise ModelLoadError(f"{path}: does not fit the topic labels in config.json ({detail}); {repair}") from err
