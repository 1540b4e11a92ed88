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
from tagger.config import ConfigError, Task, TrainConfig
from tagger.data.io import DataError, read_documents
from tagger.errors import OutputError
from tagger.examples import Collator, build_examples, evaluate_model, ner_tags, read_all, resolve_labels
from tagger.model import (
    TaggerBlock,
    load_model,
    load_tokenizer,
    load_trained_model,
    model_card,
    read_block,
    save_model_dir,
)
from tagger.predict import Head, Tagger, TorchRunner
from tagger.savedir import check_output_dir, new_work_dir

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
    train_docs = read_all(cfg.train, cfg)
    dev_docs = read_documents(cfg.dev, cfg.normalization) if cfg.dev else []
    base = read_block(cfg.init_from) if cfg.init_from else None
    labels = resolve_labels(cfg, train_docs, dev_docs, base)
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
