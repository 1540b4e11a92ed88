"""Fine-tuning with transformers' Trainer for any task of :mod:`tagger.tasks` (NER, topics, joint).

The task gives the labels, the model, the targets, the loss and the scorer; this module only runs the loop.

Preprocessing is the inference code path (``tagger.align``); dev evaluation runs the real ``Tagger`` on the
current weights, so the selected model is the one that decodes best, windows, IOB2 constraints and all.
"""

from __future__ import annotations

import logging
import math
import shutil
import time
from dataclasses import asdict, dataclass, fields
from functools import partial
from pathlib import Path
from typing import Any

from transformers import Trainer

from tagger import calibration, console, rehearsal
from tagger.backends import heads_of
from tagger.backends.pytorch import TorchRunner
from tagger.config import ConfigError, TrainConfig
from tagger.data.io import DataError
from tagger.errors import OutputError
from tagger.examples import Collator, build_examples, read_all, resolve_labels
from tagger.integrations.hf_datasets import data_sources
from tagger.lexical import LexicalTopicModel, fit_on_documents
from tagger.model import TaggerBlock, load_tokenizer, model_card, read_block, save_model_dir
from tagger.predict import Tagger
from tagger.savedir import check_output_dir, new_work_dir
from tagger.tasks import LabelSets, LossState, Task, get_task
from tagger.tasks.topics import smooth_multilabel_targets

__all__ = ["TrainResult", "load_config", "smooth_multilabel_targets", "train"]

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
def _continue_from(cfg: TrainConfig, task: Task, names: LabelSets):
    """Load a fine-tuned model and re-map its heads to ``names``: kept rows reused, new rows initialised."""
    src = Path(cfg.init_from)
    base = read_block(src)
    if base.task != task.name:
        raise ConfigError(f"init_from {src} is a {base.task!r} model but task is {task.name!r}")
    model = task.load_model(src)
    old = task.head_labels(task.labels_of(base))
    changed = task.remap_heads(model, old, names, cfg.seed)
    for name in task.outputs:
        logger.info("continuing from %s (%s): kept %s, added %s, dropped %s", src, name,
                    [x for x in names[name] if x in old[name]], [x for x in names[name] if x not in old[name]],
                    [x for x in old[name] if x not in names[name]])
    return model, changed


def _new_model(cfg: TrainConfig, task: Task, names: LabelSets):
    missing: set[str] = set()
    model = task.new_model(cfg.model, names, missing)
    # parameters the checkpoint did not have (the heads; the pooler of an encoder pretrained without one)
    # get the head learning rate; a pooler pretrained with next-sentence prediction keeps the encoder's
    return model, task.new_parameters(model, missing)


# ------------------------------------------------------------------------------------------------ training
@console.quiet()
def train(config: TrainConfig | str | Path | dict, overrides: list[str] | None = None, *, train_data: Any = None,
          dev_data: Any = None) -> TrainResult:
    """Train a model as configured and save it (atomically) to ``config.output_dir``.

    ``train_data``/``dev_data`` (a Hugging Face ``Dataset``/``DatasetDict``, a path, or a list of them) replace the
    config's ``train``/``dev``; a dict config may also hold ``Dataset`` objects in ``train``/``dev``. Datasets are
    read with the config's ``columns`` (:mod:`tagger.integrations.hf_datasets`).

    With ``init_from`` and new labels, rehearsal gives the kept labels the old model's outputs as targets
    (:mod:`tagger.rehearsal`); a topic label with fewer than ``min_dev_positives`` dev positives gets its threshold
    from cross-validation on the training documents (:mod:`tagger.calibration`).
    """
    from transformers import set_seed

    config, overrides, sources = data_sources(config, overrides, train_data, dev_data)
    cfg = load_config(config, overrides)
    check_output_dir(cfg.output_dir, overwrite=cfg.overwrite, protect=_run_inputs(cfg, config))  # before any work
    set_seed(cfg.seed)
    task = get_task(cfg.task)
    train_docs, annotated = read_all(sources.get("train", cfg.train), cfg, task)
    dev_items = sources.get("dev", cfg.dev)
    dev_docs, dev_annotated = read_all(dev_items, cfg, task, role="dev") if dev_items else ([], [])
    base = read_block(cfg.init_from) if cfg.init_from else None
    labels = resolve_labels(cfg, train_docs, dev_docs, base)
    train_docs, annotated = rehearsal.prepare(cfg, task, base, labels, train_docs, annotated)

    out = Path(cfg.output_dir)
    work = new_work_dir(out.resolve(), keep=cfg.save_checkpoints)
    if cfg.save_checkpoints:
        logger.info("Trainer checkpoints are kept in %s", work)
    try:
        fit = _fit(cfg, task, labels, train_docs, annotated, dev_docs, dev_annotated, work)
        model, tokenizer, block, metrics = fit.model, fit.tokenizer, fit.block, fit.metrics
        if labels.get("topics"):
            fold_scores = partial(_fold_scores, cfg, task, labels, train_docs, annotated, work)
            block.threshold_support = calibration.calibrate(
                cfg, block, fit.tagger(), train_docs, annotated, dev_docs, dev_annotated, fold_scores)
        if fit.trainer.is_world_process_zero():
            defaults = {f.name: f.default for f in fields(TrainConfig)}
            resolved = cfg.to_dict()
            resolved.pop("overwrite", None)  # a saved config reused later must not replace directories unasked
            resolved["normalization"] = asdict(cfg.normalization)
            card = model_card(block, resolved, metrics, defaults)
            try:
                save_model_dir(out, model, tokenizer, block, training_config=resolved, metrics=metrics, card=card,
                               overwrite=cfg.overwrite, lexical=fit.lexical)
            except OutputError as err:  # something appeared at output_dir while training: keep the trained model
                out = out.with_name(f"{out.name}-{time.strftime('%Y%m%d-%H%M%S')}")
                logger.warning("%s; saving the trained model to %s instead", err, out)
                save_model_dir(out, model, tokenizer, block, training_config=resolved, metrics=metrics, card=card,
                               lexical=fit.lexical)
            logger.info("saved %s", out)
    finally:
        if not cfg.save_checkpoints:
            shutil.rmtree(work, ignore_errors=True)
    return TrainResult(out.resolve(), metrics)


@dataclass
class _Fit:
    model: Any
    tokenizer: Any
    block: TaggerBlock
    metrics: dict[str, Any]
    trainer: Any
    lexical: LexicalTopicModel | None = None

    def tagger(self) -> Tagger:
        return self.trainer.make_tagger()


def _fit(cfg: TrainConfig, task: Task, labels: LabelSets, train_docs, annotated, dev_docs, dev_annotated,
         work: Path, fold: bool = False) -> _Fit:
    """Fine-tune on ``train_docs`` (model selection and thresholds on ``dev_docs`` when given); nothing saved.
    ``fold``: a cross-validation model whose thresholds are never used (no warning about them)."""
    import torch
    from transformers import EarlyStoppingCallback, TrainingArguments

    names = task.head_labels(labels)
    base = read_block(cfg.init_from) if cfg.init_from else None
    tokenizer = load_tokenizer(cfg.init_from or cfg.model)
    if cfg.init_from:
        model, new_params = _continue_from(cfg, task, names)
    else:
        model, new_params = _new_model(cfg, task, names)
    limit = min(int(getattr(model.config, "max_position_embeddings", 512)), 512)
    tok_max = int(tokenizer.model_max_length) if tokenizer.model_max_length and tokenizer.model_max_length < 10**6 else limit
    max_length = min(cfg.max_length or min(tok_max, limit), limit)
    examples = build_examples(tokenizer, train_docs, cfg, max_length, names, annotated)
    if not examples:
        raise DataError(f"no training text in {cfg.train}")
    logger.info("%d training documents -> %d windows (max_length %d, stride %d)", len(train_docs), len(examples), max_length, cfg.stride)

    block = TaggerBlock(
        task=task.name, labels=names[task.outputs[0]], topic_labels=names["topics"] if len(names) > 1 else [],
        normalization=asdict(cfg.normalization), max_length=max_length,
        stride=cfg.stride, pooling=cfg.pooling.value, passage_length=cfg.passage_length,
        entity_consistency=cfg.entity_consistency, trim_titles=cfg.trim_titles, base_model=cfg.model if not cfg.init_from else (base.base_model if base else ""),
        lexical_blend=cfg.lexical_blend, subheading_words=cfg.subheading_words,
    )
    lexical = fit_on_documents(train_docs, names["topics"], cfg.seed) if cfg.lexical_blend else None
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
        # label smoothing is applied by the task's loss (tagger.tasks), not by the Trainer
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
        data_collator=Collator(tokenizer.pad_token_id or 0, task),
        callbacks=callbacks,
    )
    console.attach(trainer, eval_items=len(dev_docs) * len(examples) // max(1, len(train_docs)), early_stopping=bool(callbacks))
    trainer.setup(cfg, task, tokenizer, block, dev_docs, dev_annotated, new_params, task.loss_state(cfg, examples), lexical)
    trainer.train()
    metrics: dict[str, Any] = {"train_windows": len(examples), "global_step": trainer.state.global_step}
    if has_dev:
        dev_metrics, thresholds = trainer.dev_metrics()
        block.thresholds = thresholds
        metrics["dev"] = {k: v for k, v in dev_metrics.items() if k != "f1"}
        metrics["best_dev_f1"] = dev_metrics["f1"]
    topic_labels = names.get("topics", [])
    if topic_labels and not block.thresholds:
        block.thresholds = {x: 0.5 for x in topic_labels}
        if not fold:
            logger.warning("no topic-annotated dev documents: topic thresholds stay at 0.5")
    return _Fit(trainer.model, tokenizer, block, metrics, trainer, lexical)


def _fold_scores(cfg: TrainConfig, task: Task, labels: LabelSets, docs, annotated, work: Path,
                 train_idx: list[int], held_out: list[int]) -> Any:
    """Topic scores of the documents ``held_out`` by a model trained (same settings, no dev) on ``train_idx``."""
    fold_cfg = TrainConfig.from_dict({**cfg.to_dict(), "dev": None, "calibration_folds": 0})
    fold_work = new_work_dir(work / f"fold-{len(held_out)}-{held_out[0]}", keep=False)
    try:
        fit = _fit(fold_cfg, task, labels, [docs[i] for i in train_idx], [annotated[i] for i in train_idx], [], [],
                   fold_work, fold=True)
        return fit.tagger()._topic_scores([docs[i] for i in held_out])
    finally:
        shutil.rmtree(fold_work, ignore_errors=True)


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
    paths = [*cfg.train, *(cfg.dev or [])]
    if isinstance(config, (str, Path)):
        paths.append(str(config))
    if Path(cfg.model).exists():
        paths.append(cfg.model)
    if cfg.init_from and Path(cfg.init_from).resolve() != Path(cfg.output_dir).resolve():
        paths.append(cfg.init_from)
    return paths


class _TaggerTrainer(Trainer):
    """Trainer with dev evaluation through ``Tagger``, a head learning rate and the task's loss."""

    def setup(self, cfg: TrainConfig, task: Task, tokenizer, block: TaggerBlock, dev_docs, dev_annotated,
              new_params, loss_state: LossState, lexical: LexicalTopicModel | None = None) -> None:
        self.tcfg, self.task, self.ttok, self.tblock, self.lexical = cfg, task, tokenizer, block, lexical
        self.dev_docs, self.dev_annotated = dev_docs, dev_annotated
        self.new_params, self.loss_state = new_params, loss_state

    def make_tagger(self, blend: bool = True) -> Tagger:
        """The model being trained as a ``Tagger``; ``blend=False`` leaves out the lexical model (``lexical_blend``)."""
        model = self.model
        runner = TorchRunner(model, device=str(next(model.parameters()).device), autocast=False)
        lexical = self.lexical if blend else None
        return Tagger(**heads_of(self.tblock, self.ttok, runner, lexical), batch_size=self.tcfg.eval_batch_size)

    def dev_metrics(self, blend: bool = True) -> tuple[dict, dict[str, float]]:
        """Dev metrics of the current weights (the task's scorer); topic thresholds tuned on dev. ``blend=False``:
        of the head alone, without its lexical model."""
        was_training = self.model.training
        try:
            return self.task.evaluate(self.make_tagger(blend), self.dev_docs, tune=True, annotated=self.dev_annotated)
        finally:
            self.model.train(was_training)

    def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval") -> dict[str, float]:
        # Checkpoints are selected on the head's own dev F1: the lexical model of ``lexical_blend`` does not change
        # while the head trains, and the blend's dev F1 saturates early on a small dev set (the first checkpoint
        # would win every tie). Thresholds and the final dev metrics are the blend's (``_fit``).
        metrics, _ = self.dev_metrics(blend=False)
        flat = {f"{metric_key_prefix}_f1": metrics["f1"]}
        if "ner" in metrics:
            flat[f"{metric_key_prefix}_default_f1"] = metrics["ner"]["default"]["f1"]
        if "topics" in metrics:
            flat[f"{metric_key_prefix}_macro_f1"] = metrics["topics"]["macro_f1"]
        if "ner" in metrics and "topics" in metrics:
            flat[f"{metric_key_prefix}_ner_f1"] = metrics["ner"]["strict"]["f1"]
            flat[f"{metric_key_prefix}_topics_f1"] = metrics["topics"]["micro_f1"]
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
        loss, outputs = self.task.loss(model, dict(inputs), self.loss_state)
        return (loss, outputs) if return_outputs else loss
