"""Fine-tuning with transformers' Trainer: NER (token head) or multi-label topics (sequence head).

Preprocessing is the inference code path (``tagger.align``); dev evaluation runs the real ``Tagger`` on the
current weights, so the selected model is the one that decodes best, windows, IOB2 constraints and all.
"""

from __future__ import annotations

import logging
import math
import shutil
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
from transformers import Trainer

from tagger import console
from tagger.align import document_words, encode_documents, entities_to_tags, make_windows, word_labels
from tagger.config import ConfigError, Task, TrainConfig
from tagger.decode import tune_thresholds
from tagger.errors import OutputError
from tagger.io import DataError, check_topic_labels, read_documents
from tagger.model import (
    TaggerBlock,
    load_model,
    load_tokenizer,
    load_trained_model,
    model_card,
    read_block,
    save_model_dir,
)
from tagger.multitopic import mixed_windows
from tagger.predict import Head, Tagger, TorchRunner
from tagger.savedir import check_output_dir, new_work_dir
from tagger.schema import Document

logger = logging.getLogger(__name__)


@dataclass
class TrainResult:
    output_dir: Path
    metrics: dict[str, Any]


def load_config(config: TrainConfig | str | Path | dict, overrides: list[str] | None = None) -> TrainConfig:
    if isinstance(config, TrainConfig):
        if overrides:
            from tagger.config import apply_overrides

            return TrainConfig.from_dict(apply_overrides(config.to_dict(), overrides))
        return config
    if isinstance(config, dict):
        from tagger.config import apply_overrides

        return TrainConfig.from_dict(apply_overrides(config, overrides or []))
    return TrainConfig.from_file(config, overrides)


# ------------------------------------------------------------------------------------------------ data
def _read(paths: list[str], cfg: TrainConfig) -> list[Document]:
    docs: list[Document] = []
    for p in paths:
        docs.extend(read_documents(p, cfg.normalization))
    return docs


def ner_tags(types: list[str]) -> list[str]:
    return ["O"] + [f"{p}-{t}" for t in types for p in ("B", "I")]


def _resolve_labels(cfg: TrainConfig, train_docs: list[Document], dev_docs: list[Document], base: TaggerBlock | None) -> list[str]:
    """Label set: config > data; order deterministic (a continued model's order first, then new labels sorted)."""
    if cfg.task is Task.NER:
        seen = sorted({s.label for d in train_docs for s in d.entities})
        dev_only = sorted({s.label for d in dev_docs for s in d.entities} - set(seen))
    else:
        seen = sorted({t for d in train_docs for t in (d.topics or [])})
        dev_only = sorted({t for d in dev_docs for t in (d.topics or [])} - set(seen))
    wanted = list(cfg.labels) if cfg.labels is not None else seen
    if dev_only and cfg.labels is None:
        logger.warning("label(s) %s occur only in the dev data and are not learned", dev_only)
    if cfg.labels is not None and cfg.task is Task.TOPICS:
        check_topic_labels(train_docs, wanted)
    if base is not None:
        old = [t[2:] for t in base.labels if t.startswith("B-")] if cfg.task is Task.NER else list(base.labels)
        wanted = [x for x in old if x in wanted] + sorted(x for x in wanted if x not in old)
    if not wanted:
        raise DataError(f"no {'entities' if cfg.task is Task.NER else 'topic labels'} found in {cfg.train}")
    return wanted


def build_examples(tokenizer, docs: list[Document], cfg: TrainConfig, max_length: int, label_names: list[str]) -> list[dict]:
    """Training windows: token labels (ner) or multi-hot topic vectors (topics), one path with prediction."""
    encoded = encode_documents(tokenizer, docs, cfg.normalization)
    index = {x: i for i, x in enumerate(label_names)}
    cls_id, sep_id = tokenizer.cls_token_id, tokenizer.sep_token_id
    examples = []
    targets: list[list[float]] = []
    for i, (doc, enc) in enumerate(zip(docs, encoded)):
        targets.append([float(t in (doc.topics or ())) for t in label_names] if cfg.task is Task.TOPICS else [])
        if not enc.input_ids:
            continue
        if cfg.task is Task.NER:
            tags = entities_to_tags(enc.word_spans, doc.entities)
            unknown = {t for t in tags if t not in index}
            if unknown:
                raise DataError(f"{doc.source}: tag(s) {sorted(unknown)} not in the label set {label_names}")
            labels = word_labels(enc, tags, index)
        else:
            vec = [0.0] * len(label_names)
            for t in doc.topics or []:
                if t in index:
                    vec[index[t]] = 1.0
        for w in make_windows(enc, i, max_length, cfg.stride):
            ids = [cls_id, *enc.input_ids[w.start : w.end], sep_id]
            ex: dict[str, Any] = {"input_ids": ids}
            ex["labels"] = [-100, *labels[w.start : w.end], -100] if cfg.task is Task.NER else vec
            examples.append(ex)
    if cfg.task is Task.TOPICS and cfg.mix_documents:
        mixed = mixed_windows(encoded, targets, n=round(cfg.mix_documents * len(docs)), max_length=max_length,
                              cls_id=cls_id, sep_id=sep_id, seed=cfg.seed)
        logger.info("added %d composed multi-topic windows (mix_documents %.2f)", len(mixed), cfg.mix_documents)
        examples.extend(mixed)
    return examples


class Collator:
    """Dynamic padding to the longest window of the batch."""

    def __init__(self, pad_id: int, task: Task) -> None:
        self.pad_id, self.task = pad_id, task

    def __call__(self, batch: list[dict]) -> dict:
        import torch

        n = max(len(ex["input_ids"]) for ex in batch)
        ids = torch.full((len(batch), n), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), n), dtype=torch.long)
        for r, ex in enumerate(batch):
            ids[r, : len(ex["input_ids"])] = torch.tensor(ex["input_ids"])
            mask[r, : len(ex["input_ids"])] = 1
        out = {"input_ids": ids, "attention_mask": mask}
        if self.task is Task.NER:
            labels = torch.full((len(batch), n), -100, dtype=torch.long)
            for r, ex in enumerate(batch):
                labels[r, : len(ex["labels"])] = torch.tensor(ex["labels"])
        else:
            labels = torch.tensor([ex["labels"] for ex in batch], dtype=torch.float)
        out["labels"] = labels
        return out


# ------------------------------------------------------------------------------------------------ evaluation
def evaluate_model(tagger: Tagger, docs: list[Document], task: Task, tune: bool = False) -> tuple[dict, dict[str, float]]:
    """Dev metrics through the real inference path; topics optionally tune thresholds first."""
    from tagger.metrics import ner_metrics, topic_metrics

    if task is Task.NER:
        preds = tagger.predict_documents(docs)
        gold, pred = [], []
        for doc, p in zip(docs, preds):
            words = document_words(doc, tagger.ner.norm)[0]
            gold.append(entities_to_tags(words, doc.entities))
            pred.append(entities_to_tags(words, p.entities))
        m = ner_metrics(gold, pred)
        return {"ner": m, "f1": m["strict"]["f1"]}, {}
    labels = tagger.topic_labels
    scores = tagger._topic_scores(docs)
    gold_sets = [set(d.topics or []) & set(labels) for d in docs]
    thresholds = tune_thresholds(gold_sets, scores, labels) if tune else tagger.thresholds
    m = topic_metrics(gold_sets, scores, labels, thresholds)
    return {"topics": m, "f1": m["micro_f1"]}, thresholds


# ------------------------------------------------------------------------------------------------ model init
def _continue_from(cfg: TrainConfig, names: list[str]):
    """Load a fine-tuned model and re-map its head to ``names``: kept rows reused, new rows initialised."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification

    src = Path(cfg.init_from)
    base = read_block(src)
    if base.task != cfg.task.value:
        raise ConfigError(f"init_from {src} is a {base.task!r} model but task is {cfg.task.value!r}")
    cls = AutoModelForTokenClassification if cfg.task is Task.NER else AutoModelForSequenceClassification
    model = load_trained_model(src, cls)
    old = list(base.labels)
    head = model.classifier
    new = torch.nn.Linear(head.in_features, len(names))
    std = getattr(model.config, "initializer_range", 0.02)
    torch.manual_seed(cfg.seed)
    with torch.no_grad():
        new.weight.normal_(0.0, std)
        new.bias.zero_()
        for j, name in enumerate(names):
            if name in old:
                new.weight[j] = head.weight[old.index(name)]
                new.bias[j] = head.bias[old.index(name)]
    model.classifier = new
    model.num_labels = len(names)
    model.config.num_labels = len(names)
    model.config.id2label = dict(enumerate(names))
    model.config.label2id = {x: i for i, x in enumerate(names)}
    kept = [x for x in names if x in old]
    logger.info("continuing from %s: kept %s, added %s, dropped %s", src, kept,
                [x for x in names if x not in old], [x for x in old if x not in names])
    return model, {"classifier.weight", "classifier.bias"}


def _new_model(cfg: TrainConfig, labels: list[str], tags: list[str] | None):
    missing: set[str] = set()
    model = load_model(cfg.model, cfg.task.value, labels, tags, missing=missing)
    # parameters the checkpoint did not have (the classifier; the pooler of an encoder pretrained without one)
    # get the head learning rate; a pooler pretrained with next-sentence prediction keeps the encoder's
    new_params = {n for n, _ in model.named_parameters() if n in missing or n.startswith("classifier")}
    return model, new_params


# ------------------------------------------------------------------------------------------------ training
@console.quiet()
def train(config: TrainConfig | str | Path | dict, overrides: list[str] | None = None) -> TrainResult:
    """Train a model as configured and save it (atomically) to ``config.output_dir``."""
    import torch
    from transformers import EarlyStoppingCallback, TrainingArguments, set_seed

    cfg = load_config(config, overrides)
    check_output_dir(cfg.output_dir, overwrite=cfg.overwrite, protect=_run_inputs(cfg, config))  # before any work
    set_seed(cfg.seed)
    train_docs = _read(cfg.train, cfg)
    dev_docs = read_documents(cfg.dev, cfg.normalization) if cfg.dev else []
    base = read_block(cfg.init_from) if cfg.init_from else None
    labels = _resolve_labels(cfg, train_docs, dev_docs, base)
    names = ner_tags(labels) if cfg.task is Task.NER else labels
    tokenizer = load_tokenizer(cfg.init_from or cfg.model)
    if cfg.init_from:
        model, new_params = _continue_from(cfg, names)
    else:
        model, new_params = _new_model(cfg, labels, names if cfg.task is Task.NER else None)
    limit = min(int(getattr(model.config, "max_position_embeddings", 512)), 512)
    tok_max = int(tokenizer.model_max_length) if tokenizer.model_max_length and tokenizer.model_max_length < 10**6 else limit
    max_length = min(cfg.max_length or min(tok_max, limit), limit)
    examples = build_examples(tokenizer, train_docs, cfg, max_length, names)
    if not examples:
        raise DataError(f"no training text in {cfg.train}")
    logger.info("%d training documents -> %d windows (max_length %d, stride %d)", len(train_docs), len(examples), max_length, cfg.stride)

    block = TaggerBlock(
        task=cfg.task.value, labels=names, normalization=asdict(cfg.normalization), max_length=max_length,
        stride=cfg.stride, pooling=cfg.pooling.value, passage_length=cfg.passage_length,
        entity_consistency=cfg.entity_consistency, trim_titles=cfg.trim_titles, base_model=cfg.model if not cfg.init_from else (base.base_model if base else ""),
    )
    pos_weight = None
    if cfg.task is Task.TOPICS and cfg.pos_weight == "auto":
        y = np.array([ex["labels"] for ex in examples])
        pos = y.sum(0)
        pos_weight = torch.tensor(np.clip((len(y) - pos) / np.maximum(pos, 1), 1.0, 10.0), dtype=torch.float)

    out = Path(cfg.output_dir)
    work = new_work_dir(out.resolve(), keep=cfg.save_checkpoints)
    if cfg.save_checkpoints:
        logger.info("Trainer checkpoints are kept in %s", work)
    steps_per_epoch = math.ceil(len(examples) / cfg.batch_size)
    eval_steps = max(1, steps_per_epoch // cfg.evaluations_per_epoch)
    has_dev = bool(dev_docs)
    args = TrainingArguments(
        output_dir=str(work),
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps,
        learning_rate=cfg.learning_rate,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.eval_batch_size,
        weight_decay=cfg.weight_decay,
        **_warmup_args(TrainingArguments, cfg.warmup_ratio),
        lr_scheduler_type=cfg.lr_scheduler,
        seed=cfg.seed,
        data_seed=cfg.seed,
        eval_strategy="steps" if has_dev else "no",
        eval_steps=eval_steps,
        save_strategy="steps" if has_dev else "no",
        save_steps=eval_steps,
        save_total_limit=1,
        save_only_model=True,
        load_best_model_at_end=has_dev,
        metric_for_best_model="f1" if has_dev else None,
        greater_is_better=True,
        logging_steps=max(1, min(50, eval_steps)),
        report_to="none",
        **_sampling_args(TrainingArguments, cfg.group_by_length),
        dataloader_num_workers=cfg.dataloader_workers,
        remove_unused_columns=False,
        label_smoothing_factor=cfg.label_smoothing if cfg.task is Task.NER else 0.0,  # topics: smoothed in compute_loss
        disable_tqdm=False,
        dataloader_pin_memory=torch.cuda.is_available(),
        use_cpu=not torch.cuda.is_available(),
    )
    callbacks = [EarlyStoppingCallback(cfg.early_stopping_patience)] if has_dev and cfg.early_stopping_patience else []
    trainer = _TaggerTrainer(
        model=model,
        args=args,
        train_dataset=examples,
        eval_dataset=examples[:1] if has_dev else None,
        data_collator=Collator(tokenizer.pad_token_id or 0, cfg.task),
        callbacks=callbacks,
    )
    console.attach(trainer, eval_items=len(dev_docs) * len(examples) // max(1, len(train_docs)), early_stopping=bool(callbacks))
    trainer.setup(cfg, tokenizer, block, dev_docs, new_params, pos_weight)
    try:
        trainer.train()
        model = trainer.model
        metrics: dict[str, Any] = {"train_windows": len(examples), "global_step": trainer.state.global_step}
        if has_dev:
            tagger = trainer.make_tagger()
            dev_metrics, thresholds = evaluate_model(tagger, dev_docs, cfg.task, tune=cfg.task is Task.TOPICS)
            if cfg.task is Task.TOPICS:
                block.thresholds = thresholds
            metrics["dev"] = {k: v for k, v in dev_metrics.items() if k != "f1"}
            metrics["best_dev_f1"] = dev_metrics["f1"]
        elif cfg.task is Task.TOPICS:
            block.thresholds = {x: 0.5 for x in labels}
            logger.warning("no dev set: topic thresholds stay at 0.5")
        model.config.problem_type = "multi_label_classification" if cfg.task is Task.TOPICS else None
        if trainer.is_world_process_zero():
            defaults = {f.name: f.default for f in fields(TrainConfig)}
            resolved = cfg.to_dict()
            resolved.pop("overwrite", None)  # a saved config reused later must not replace directories unasked
            resolved["normalization"] = asdict(cfg.normalization)
            card = model_card(block, resolved, metrics, defaults)
            try:
                save_model_dir(out, model, tokenizer, block, training_config=resolved, metrics=metrics, card=card,
                               overwrite=cfg.overwrite)
            except OutputError as err:  # something appeared at output_dir while training: keep the trained model
                out = out.with_name(f"{out.name}-{time.strftime('%Y%m%d-%H%M%S')}")
                logger.warning("%s; saving the trained model to %s instead", err, out)
                save_model_dir(out, model, tokenizer, block, training_config=resolved, metrics=metrics, card=card)
            logger.info("saved %s", out)
    finally:
        if not cfg.save_checkpoints:
            shutil.rmtree(work, ignore_errors=True)
    return TrainResult(out.resolve(), metrics)


def smooth_multilabel_targets(targets, eps: float):
    """Label smoothing for independent sigmoid labels: 1 -> 1 - eps/2 and 0 -> eps/2 (each label is a two-class
    problem, so eps is spread over its two outcomes as in cross-entropy label smoothing). ``eps = 0`` is a no-op."""
    return targets if eps == 0 else targets * (1.0 - eps) + eps / 2.0


def _sampling_args(cls, group_by_length: bool) -> dict[str, Any]:
    """Length-grouped sampling under either transformers API (``train_sampling_strategy`` since 5.x)."""
    names = {f.name for f in fields(cls)}
    if "train_sampling_strategy" in names:
        return {"train_sampling_strategy": "group_by_length" if group_by_length else "random"}
    return {"group_by_length": group_by_length}


def _warmup_args(cls, ratio: float) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {"warmup_ratio": ratio} if "warmup_ratio" in names else {"warmup_steps": ratio}


def _run_inputs(cfg: TrainConfig, config: object) -> list[str]:
    """What a run reads, so its ``output_dir`` may never be or contain it: the config file, the data, a local
    encoder and ``init_from`` (which may be the output itself: continuing a model in place replaces it)."""
    paths = [*cfg.train, *([cfg.dev] if cfg.dev else [])]
    if isinstance(config, (str, Path)):
        paths.append(str(config))
    if Path(cfg.model).exists():
        paths.append(cfg.model)
    if cfg.init_from and Path(cfg.init_from).resolve() != Path(cfg.output_dir).resolve():
        paths.append(cfg.init_from)
    return paths


class _TaggerTrainer(Trainer):
    """Trainer with dev evaluation through ``Tagger``, a head learning rate and a weighted BCE loss."""

    def setup(self, cfg: TrainConfig, tokenizer, block: TaggerBlock, dev_docs, new_params, pos_weight) -> None:
        self.tcfg, self.ttok, self.tblock, self.dev_docs = cfg, tokenizer, block, dev_docs
        self.new_params, self.pos_weight = new_params, pos_weight

    def make_tagger(self) -> Tagger:
        model = self.model
        runner = TorchRunner(model, device=str(next(model.parameters()).device), autocast=False)
        head = Head(self.tblock, self.ttok, runner)
        return Tagger(**{self.tcfg.task.value: head}, batch_size=self.tcfg.eval_batch_size)

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval") -> dict[str, float]:
        was_training = self.model.training
        try:
            metrics, _ = evaluate_model(self.make_tagger(), self.dev_docs, self.tcfg.task, tune=self.tcfg.task is Task.TOPICS)
        finally:
            self.model.train(was_training)
        flat = {f"{metric_key_prefix}_f1": metrics["f1"]}
        if "ner" in metrics:
            flat[f"{metric_key_prefix}_default_f1"] = metrics["ner"]["default"]["f1"]
        else:
            flat[f"{metric_key_prefix}_macro_f1"] = metrics["topics"]["macro_f1"]
        flat["epoch"] = self.state.epoch or 0.0
        self.log(flat)
        self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, flat)
        return flat

    def create_optimizer(self, model=None):
        cfg = self.tcfg
        if self.optimizer is None and cfg.head_learning_rate and cfg.head_learning_rate != cfg.learning_rate:
            import torch

            opt_model = self.model if model is None else model
            decay = set(self.get_decay_parameter_names(opt_model))
            groups: dict[tuple[bool, bool], list] = {}
            for name, p in opt_model.named_parameters():
                if p.requires_grad:
                    groups.setdefault((name in self.new_params, name in decay), []).append(p)
            param_groups = [
                {"params": ps, "lr": cfg.head_learning_rate if is_head else cfg.learning_rate,
                 "weight_decay": cfg.weight_decay if has_decay else 0.0}
                for (is_head, has_decay), ps in sorted(groups.items())
            ]
            self.optimizer = torch.optim.AdamW(param_groups, lr=cfg.learning_rate)
            return self.optimizer
        return super().create_optimizer(model)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if self.tcfg.task is not Task.TOPICS:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        import torch

        labels = inputs.pop("labels")
        outputs = model(**inputs)
        weight = self.pos_weight.to(outputs.logits.device) if self.pos_weight is not None else None
        targets = smooth_multilabel_targets(labels.to(outputs.logits.dtype), self.tcfg.label_smoothing)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(outputs.logits, targets, pos_weight=weight)
        return (loss, outputs) if return_outputs else loss
