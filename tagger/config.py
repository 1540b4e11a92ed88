"""Typed configuration: normalisation settings and the training config (YAML/JSON/CLI)."""

from __future__ import annotations

import json
import os
from dataclasses import MISSING, asdict, dataclass, field, fields, is_dataclass
from enum import Enum
from pathlib import Path
from typing import Any, get_type_hints

import yaml

from tagger.config_types import coerce
from tagger.errors import ConfigError
from tagger.textfile import read_text

DEFAULT_MODEL = "aubmindlab/bert-base-arabertv02"
COLUMN_KEYS = ("text", "entities", "tokens", "tags", "topics", "id")  # the keys of ``columns:`` (datasets sources)


class Task(str, Enum):
    NER = "ner"
    TOPICS = "topics"
    JOINT = "joint"


class Pooling(str, Enum):
    MAX = "max"
    MEAN = "mean"


@dataclass(frozen=True)
class NormalizationConfig:
    """AraBERT v0.2-style normalisation; every step can be switched off. Saved with the model."""

    strip_tashkeel: bool = field(default=True, metadata={"help": "remove harakat/tanween/shadda/sukun (U+064B-U+0652, U+0670)"})
    strip_tatweel: bool = field(default=True, metadata={"help": "remove kashida U+0640 (a lone tatweel becomes '-')"})
    normalize_digits: bool = field(default=True, metadata={"help": "Arabic-Indic and Persian digits to 0-9"})
    remove_invisible: bool = field(default=True, metadata={"help": "drop LRM/RLM/ZWNJ/ZWJ/BOM/bidi controls/soft hyphen"})
    fold_presentation_forms: bool = field(default=True, metadata={"help": "NFKC-fold Arabic presentation forms (U+FB50-U+FEFC)"})
    space_punctuation: bool = field(default=True, metadata={"help": "put spaces around punctuation and symbols"})
    collapse_whitespace: bool = field(default=True, metadata={"help": "whitespace runs become one space, ends trimmed"})
    unify_alef: bool = field(default=False, metadata={"help": "map أ إ آ to ا (off for AraBERT v0.2, which keeps hamza)"})

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> NormalizationConfig:
        """Settings from a mapping (None: the defaults); unknown names and non-boolean values are ConfigErrors."""
        if data is not None and not isinstance(data, dict):
            raise ConfigError(f"normalization must be a mapping of settings to true/false, got {data!r}")
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(map(str, set(data) - known))
        if unknown:
            raise ConfigError(f"unknown normalization setting(s) {unknown}; allowed: {sorted(known)}")
        for key, value in data.items():
            if not isinstance(value, bool):
                raise ConfigError(f"normalization.{key} must be true or false, got {value!r}")
        return cls(**data)


@dataclass
class TrainConfig:
    """Everything a training run needs. Unknown keys are an error; values are validated on creation."""

    output_dir: str = field(metadata={"help": "where the trained model directory is written (atomically)"})
    train: list[str] = field(metadata={"help": "training file(s): CoNLL (.conll/.txt), JSONL, CSV, or a Hugging Face dataset (.parquet/.arrow file, save_to_disk dir; Dataset objects: train(..., train_data=ds))"})
    task: Task = field(default=Task.NER, metadata={"help": "ner | topics | joint (one encoder, both heads)"})
    model: str = field(default=DEFAULT_MODEL, metadata={"help": "hub id or local directory of a BERT-like encoder"})
    dev: list[str] | None = field(default=None, metadata={"help": "dev file(s) for model selection / thresholds"})
    columns: dict[str, str] | None = field(default=None, metadata={"help": "Hugging Face datasets (parquet/arrow files, save_to_disk dirs, Dataset objects): the dataset's column for each of text, entities, tokens, tags, topics, id (tagger.integrations.hf_datasets)"})
    init_from: str | None = field(default=None, metadata={"help": "a model dir saved by this library to continue from"})
    labels: list[str] | None = field(default=None, metadata={"help": "label set (topics: labels; ner and joint: entity types); default from data"})
    topic_labels: list[str] | None = field(default=None, metadata={"help": "joint: the topic labels; default from data"})
    ner_loss_weight: float = field(default=1.0, metadata={"help": "joint: weight of the entity (token) loss"})
    topics_loss_weight: float = field(default=1.0, metadata={"help": "joint: weight of the topic (document) loss"})
    epochs: float = field(default=3.0, metadata={"help": "training epochs"})
    max_steps: int = field(default=-1, metadata={"help": "if > 0, stop after this many optimiser steps"})
    learning_rate: float = field(default=5e-5, metadata={"help": "peak learning rate of the encoder"})
    head_learning_rate: float | None = field(default=None, metadata={"help": "learning rate of the new head (default: learning_rate)"})
    batch_size: int = field(default=16, metadata={"help": "windows per optimiser step"})
    eval_batch_size: int = field(default=64, metadata={"help": "windows per forward pass when evaluating"})
    max_length: int | None = field(default=None, metadata={"help": "sub-tokens per window incl. [CLS]/[SEP]; default the tokenizer's (<=512)"})
    stride: int = field(default=32, metadata={"help": "sub-tokens shared by consecutive windows of a long text"})
    seed: int = field(default=42, metadata={"help": "random seed (data order, head init, dropout)"})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay"})
    warmup_ratio: float = field(default=0.1, metadata={"help": "linear warm-up share of the steps"})
    lr_scheduler: str = field(default="linear", metadata={"help": "transformers scheduler name"})
    early_stopping_patience: int | None = field(default=3, metadata={"help": "evaluations without dev improvement before stopping"})
    evaluations_per_epoch: int = field(default=1, metadata={"help": "dev evaluations per epoch"})
    group_by_length: bool = field(default=True, metadata={"help": "batch windows of similar length (less padding)"})
    pooling: Pooling = field(default=Pooling.MAX, metadata={"help": "topics: pool window scores by max or mean"})
    trim_titles: bool = field(default=True, metadata={"help": "ner: leave titles (السيد، الدكتور، الشيخ...) leading a person name outside it"})
    entity_consistency: bool = field(default=False, metadata={"help": "ner: also tag the unmarked repeats of a name predicted elsewhere in the document"})
    mix_documents: float = field(default=0.0, metadata={"help": "topics: composed multi-topic training windows per document (leads of 2-3 documents, union of labels); 0 = off"})
    mix_parts: str = field(default="leads", metadata={"help": "topics: what a composed window joins: 'leads' of documents, or 'paragraphs' (half leads, half a random later paragraph)"})
    passage_length: int = field(default=0, metadata={"help": "topics: also score passages of this many sub-tokens and pool them with the windows (0: off)"})
    train_passages: bool = field(default=False, metadata={"help": "topics, with passage_length: also train on the passages of single-topic training documents"})
    lexical_blend: float = field(default=0.0, metadata={"help": "topics: weight of a TF-IDF char n-gram + logistic regression model fitted on the same training documents, averaged with the head's scores (saved without pickle, tagger.lexical); 0 = off"})
    subheading_words: int = field(default=0, metadata={"help": "topics, with lexical_blend: a sub-heading (a line after the first of at most this many words, without sentence-final punctuation) announces its topics: its comma-separated items are scored by the lexical model and count in the lexical score, and a document scores at least its best item (tagger.lexical.subheading_items); 0 = off"})
    pos_weight: str | None = field(default=None, metadata={"help": "topics: 'auto' = per-label neg/pos BCE weight (capped at 10)"})
    label_smoothing: float = field(default=0.0, metadata={"help": "label smoothing: ner token loss; topics BCE targets 0/1 -> eps/2, 1-eps/2"})
    rehearsal: bool | None = field(default=None, metadata={"help": "with init_from: the kept labels of the training documents take the old model's outputs as targets (null: when labels are added, in files that carry none of the kept labels; true: all; false: off; tagger.rehearsal)"})
    replay: list[str] | None = field(default=None, metadata={"help": "with init_from: files of the old training data to mix in (kept labels from their gold)"})
    replay_ratio: float = field(default=1.0, metadata={"help": "replayed documents per new training document (sampled under seed)"})
    min_dev_positives: int = field(default=5, metadata={"help": "topics: a label with fewer positive dev documents gets its threshold from cross-validation (tagger.calibration)"})
    calibration_folds: int = field(default=3, metadata={"help": "topics: folds of that cross-validation on the training documents (0: off, keep the dev threshold and warn)"})
    target_precision: float | None = field(default=None, metadata={"help": "topics: for those labels, the lowest threshold reaching this precision instead of the F1-best"})
    normalization: NormalizationConfig = field(default_factory=NormalizationConfig, metadata={"help": "see NormalizationConfig"})
    dataloader_workers: int = field(default=0, metadata={"help": "torch DataLoader workers"})
    save_checkpoints: bool = field(default=False, metadata={"help": "keep Trainer checkpoints next to output_dir"})
    overwrite: bool = field(default=False, metadata={"help": "replace an existing output_dir that is not a model directory saved by this library (never one holding the working directory, the config or the data)"})

    def __post_init__(self) -> None:
        if isinstance(self.train, (str, os.PathLike)):
            self.train = [self.train]
        if isinstance(self.dev, (str, os.PathLike)):
            self.dev = [self.dev]
        if isinstance(self.replay, (str, os.PathLike)):
            self.replay = [self.replay]
        self._check_types()
        if not self.train:
            raise ConfigError("train: give at least one training file")
        checks = [
            (self.epochs > 0 or self.max_steps > 0, "epochs must be > 0 (or set max_steps)"),
            (self.learning_rate > 0, "learning_rate must be > 0"),
            (self.head_learning_rate is None or self.head_learning_rate > 0, "head_learning_rate must be > 0"),
            (self.batch_size > 0 and self.eval_batch_size > 0, "batch sizes must be > 0"),
            (self.max_length is None or 16 <= self.max_length <= 4096, "max_length must be in [16, 4096]"),
            (self.stride >= 0, "stride must be >= 0"),
            (self.mix_documents >= 0, "mix_documents must be >= 0"),
            (self.mix_parts in ("leads", "paragraphs"), "mix_parts is 'leads' or 'paragraphs'"),
            (self.passage_length == 0 or 8 <= self.passage_length, "passage_length must be 0 (off) or >= 8"),
            (self.passage_length == 0 or self.max_length is None or self.passage_length < self.max_length - 2,
             "passage_length must be below max_length - 2 (passages are shorter than the windows)"),
            (self.max_length is None or self.stride < self.max_length // 2, "stride must be < max_length / 2"),
            (0 <= self.warmup_ratio < 1, "warmup_ratio must be in [0, 1)"),
            (self.early_stopping_patience is None or self.early_stopping_patience > 0, "early_stopping_patience must be > 0"),
            (self.evaluations_per_epoch >= 1, "evaluations_per_epoch must be >= 1"),
            (self.pos_weight in (None, "none", "auto"), "pos_weight is 'auto' or null"),
            (0 <= self.label_smoothing < 1, "label_smoothing must be in [0, 1)"),
            (self.ner_loss_weight >= 0 and self.topics_loss_weight >= 0, "loss weights must be >= 0"),
            (self.replay_ratio > 0, "replay_ratio must be > 0"),
            (self.min_dev_positives >= 0, "min_dev_positives must be >= 0"),
            (self.calibration_folds == 0 or self.calibration_folds >= 2, "calibration_folds must be 0 (off) or >= 2"),
            (self.target_precision is None or 0 < self.target_precision <= 1, "target_precision must be in (0, 1]"),
            (not self.rehearsal or self.init_from, "rehearsal: true needs init_from (the model whose outputs are rehearsed)"),
            (not self.replay or self.init_from, "replay needs init_from (it replays the old model's training data)"),
            (0 <= self.lexical_blend < 1, "lexical_blend must be in [0, 1) (the lexical model's share of the topic score)"),
            (self.task is Task.TOPICS or self.lexical_blend == 0, "lexical_blend is for task: topics"),
            (self.subheading_words >= 0, "subheading_words must be >= 0 (0: off)"),
            (self.subheading_words == 0 or self.lexical_blend > 0,
             "subheading_words needs lexical_blend > 0 (the lexical model scores the sub-headings)"),
            (self.task is not Task.JOINT or self.passage_length == 0,
             "passage_length is for task: topics (a joint model scores whole windows, one pass for both heads)"),
            (self.topic_labels is None or self.task is Task.JOINT,
             "topic_labels is for task: joint (task: topics takes its labels from `labels`)"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        if self.pos_weight == "none":
            self.pos_weight = None
        unknown = sorted(set(self.columns or {}) - set(COLUMN_KEYS))
        if unknown:
            raise ConfigError(f"columns: unknown key(s) {unknown}; the keys are {list(COLUMN_KEYS)}")
        for key in ("labels", "topic_labels"):
            value = getattr(self, key)
            if value is not None and (len(set(value)) != len(value) or not all(isinstance(x, str) and x for x in value)):
                raise ConfigError(f"{key} must be distinct non-empty strings, got {value}")

    def _check_types(self) -> None:
        """Check (and normalise) every field against its type hint; a wrong shape is a ConfigError naming the key.

        See :func:`tagger.config_types.coerce`: e.g. ``labels: PER`` (a string, not a list), ``model: 123``,
        ``normalization: false``, ``epochs: true`` and ``seed: 1.5`` are errors; ``learning_rate: "5e-5"`` is 5e-5.
        """
        hints = get_type_hints(type(self))
        for f in fields(self):
            setattr(self, f.name, coerce(f.name, hints[f.name], getattr(self, f.name)))

    # ---- construction -------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<dict>") -> TrainConfig:
        """A validated config from a mapping; errors start with ``source`` (the config file) when one is given."""
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: top level must be a mapping of keys to values, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(map(str, set(data) - known))
        if unknown:
            raise ConfigError(f"{source}: unknown key(s) {unknown}; allowed keys: {sorted(known)}")
        missing = [f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING and f.name not in data]
        if missing:
            raise ConfigError(f"{source}: missing required key(s) {missing}")
        try:
            return cls(**data)
        except ConfigError as err:
            if source == "<dict>":
                raise
            raise ConfigError(f"{source}: {err}") from None

    @classmethod
    def from_file(cls, path: str | Path, overrides: list[str] | None = None) -> TrainConfig:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        text = read_text(path, ConfigError)
        try:
            data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (yaml.YAMLError, json.JSONDecodeError) as err:
            raise ConfigError(f"{path}: not valid YAML/JSON: {err}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: top level must be a mapping of keys to values")
        data = apply_overrides(data, overrides or [])
        return cls.from_dict(data, source=str(path))

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["task"] = self.task.value
        out["pooling"] = self.pooling.value
        return out

    def dump(self, path: str | Path) -> None:
        Path(path).write_text(yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False), encoding="utf-8")


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``key=value`` overrides (value parsed as YAML; ``normalization.x=false`` reaches nested keys).

    A value that is not valid YAML, an unknown key, or a sub-key of a key that is not a mapping is a
    :class:`ConfigError` naming the key. Types are checked later, by :class:`TrainConfig`.
    """
    data = dict(data)
    hints = get_type_hints(TrainConfig)
    for item in overrides:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        value = _override_value(key, raw)
        head, _, sub = key.partition(".")
        if head not in hints:
            raise ConfigError(f"--set {key}: unknown key {head!r}; allowed keys: {sorted(hints)}")
        if sub:
            data[head] = _nested_override(key, hints[head], data.get(head), sub, value)
        else:
            if head in ("train", "dev", "replay") and isinstance(value, str) and "," in value:
                value = [v.strip() for v in value.split(",") if v.strip()]
            if head in ("model", "output_dir", "dev", "init_from") and value is not None and not isinstance(value, list):
                value = str(value)
            data[head] = value
    return data


def _override_value(key: str, raw: str) -> Any:
    """The YAML value of ``--set key=raw`` (empty: null); a YAML syntax error is a ConfigError naming ``key``."""
    if not raw.strip():
        return None
    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as err:
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(
            f"--set {key}: the value {raw!r} is not valid YAML ({problem}); quote it, e.g. --set '{key}=\"...\"'"
        ) from None


def _nested_override(key: str, hint: Any, current: Any, sub: str, value: Any) -> dict[str, Any]:
    """``current`` (a mapping) with ``sub`` set to ``value``, for ``--set head.sub=value``."""
    head = key.partition(".")[0]
    if not (isinstance(hint, type) and is_dataclass(hint)):
        raise ConfigError(f"--set {key}: {head!r} is not a mapping, so it has no sub-key {sub!r}; use --set {head}=VALUE")
    if current is not None and not isinstance(current, (dict, hint)):
        raise ConfigError(f"--set {key}: {head} is {current!r} in the config, not a mapping; fix the config first")
    nested = asdict(current) if isinstance(current, hint) else dict(current or {})
    nested[sub] = value
    return nested
