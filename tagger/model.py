"""Load encoders and tokenizers; save and read this library's self-describing model directories.

A saved directory loads in plain transformers (``AutoModelForTokenClassification`` /
``AutoModelForSequenceClassification``) and carries a namespaced ``tagger`` block in ``config.json``.
Saving is atomic: the new directory is written next to the target and swapped in with one rename, and only
over a directory this library wrote (see :mod:`tagger.savedir`). Loading fails with a :class:`ModelLoadError`
naming the damaged file, never with a raw traceback or a silently re-initialised head.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tagger import console
from tagger.config import NormalizationConfig
from tagger.errors import HubUnavailableError, ModelLoadError
from tagger.loadinfo import loading_problems
from tagger.savedir import check_output_dir, fsync_tree, new_staging_dir, swap_into_place

logger = logging.getLogger(__name__)

LOCAL_ENCODER_HINT = "../shared/models/arabic-mini-bert"
WEIGHTS_FILE = "model.safetensors"
_REPAIR = "copy the model directory again from where it was saved, or re-train it"


@dataclass
class TaggerBlock:
    """This library's settings, stored under ``"tagger"`` in the model's ``config.json``."""

    task: str
    labels: list[str]
    scheme: str = "IOB2"
    normalization: dict[str, bool] = field(default_factory=lambda: asdict(NormalizationConfig()))
    max_length: int = 512
    stride: int = 32
    pooling: str = "max"
    passage_length: int = 0  # topics: also score passages of this many sub-tokens (0: whole windows only)
    lexical_blend: float = 0.0  # topics: share of the lexical model (lexical.json + lexical.safetensors) in the score
    subheading_words: int = 0  # topics with lexical_blend: sub-headings of at most this many words announce topics (0: off)
    thresholds: dict[str, float] = field(default_factory=dict)
    topic_labels: list[str] = field(default_factory=list)  # joint: the document head's labels (``labels``: the tags)
    threshold_support: dict[str, dict[str, Any]] = field(default_factory=dict)  # label -> positives and source (tagger.calibration)
    clitic_policy: str = "strip"
    trim_titles: bool = False  # ner (on for models trained from now on; off for older ones): titles (السيد، الدكتور...) leading a PER span stay outside it (tagger.arabic)
    entity_consistency: bool = False  # ner: tag unmarked repeats of a predicted name (tagger.consistency)
    base_model: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    format_version: int = 1

    @property
    def norm(self) -> NormalizationConfig:
        return NormalizationConfig.from_dict(self.normalization)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaggerBlock:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


def versions() -> dict[str, str]:
    import tokenizers
    import torch
    import transformers

    from tagger import __version__

    return {
        "tagger": __version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def _is_local(name: str) -> bool:
    return Path(name).exists()


def _hub_error(name: str, err: Exception) -> ModelLoadError:
    if _is_local(name):
        return ModelLoadError(f"{name}: cannot load a model/tokenizer from this directory: {err}")
    looks_like_path = name.startswith((".", "/", "~")) or name.count("/") > 1
    if looks_like_path:
        return ModelLoadError(f"{name}: no such directory; give an existing model directory or a hub id")
    return HubUnavailableError(
        f"could not load {name!r} from the Hugging Face hub ({type(err).__name__}); the hub is unreachable or the id "
        f"is wrong. Point the model at a local encoder directory instead, e.g. `--model {LOCAL_ENCODER_HINT}` "
        f"(or `--set model=...` / `model:` in the config, or TAGGER_MODEL=...)."
    )


def hub_reachable(timeout: float = 3.0) -> bool:
    """Can the Hugging Face hub (or ``HF_ENDPOINT``) be reached? False at once when offline mode is set."""
    import socket
    from urllib.parse import urlparse

    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        return False
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _from_pretrained(factory, name: str, **kwargs):
    """``factory.from_pretrained`` that fails fast and plainly when a hub id is not cached and the hub is down."""
    if _is_local(name):
        return factory.from_pretrained(name, **kwargs)
    try:
        return factory.from_pretrained(name, local_files_only=True, **kwargs)  # the local cache first
    except (OSError, ValueError):
        if not hub_reachable():
            raise
    return factory.from_pretrained(name, **kwargs)


def load_tokenizer(name: str):
    from transformers import AutoTokenizer

    try:
        tok = _from_pretrained(AutoTokenizer, name)
    except (OSError, ValueError) as err:
        raise _hub_error(name, err) from err
    if not tok.is_fast:
        raise ModelLoadError(f"{name}: a fast tokenizer (tokenizer.json) is required for offset alignment")
    return tok


def load_encoder_with_head(cls: Any, name: str, names: list[str], missing: set[str] | None = None, **extra: Any):
    """``cls.from_pretrained(name)`` (e.g. ``AutoModelForTokenClassification``) with a fresh head for ``names``.

    ``missing``, when given, receives the names of the parameters the checkpoint did not have (the new head, and
    the pooler of an encoder pretrained without one): the trainer gives those the head learning rate.
    """
    id2label = dict(enumerate(names))
    label2id = {v: k for k, v in id2label.items()}
    kwargs: dict[str, Any] = {"num_labels": len(names), "id2label": id2label, "label2id": label2id,
                              "output_loading_info": True, **extra}
    try:
        with console.quiet(reported=True):  # the LOAD REPORT table, said in words by report_loading
            model, info = _from_pretrained(cls, name, **kwargs)
    except (OSError, ValueError) as err:
        raise _hub_error(name, err) from err
    console.report_loading(info, name, expect_new_head=True)  # the words; loading_problems the interpretation
    if missing is not None:
        missing.update(info.get("missing_keys", ()))
    return model


def load_model(name: str, task: str, labels: list[str], tags: list[str] | None = None, *, missing: set[str] | None = None):
    """An encoder with a fresh head for ``task`` (:meth:`tagger.tasks.Task.new_model`); ``labels``: the entity
    types (ner; ``tags`` are ignored, they follow from the types) or the topic labels."""
    from tagger.tasks import get_task

    spec = get_task(task)
    names = spec.head_labels({spec.outputs[0]: labels} if len(spec.outputs) == 1 else dict(labels))
    return spec.new_model(name, names, missing if missing is not None else set())


def remap_classifier(module: Any, attr: str, old: list[str], new: list[str], seed: int) -> None:
    """Replace the linear layer ``module.<attr>`` (rows = ``old`` labels) by one with rows for ``new``: rows of
    kept labels copied, new rows initialised like a fresh head (normal, ``initializer_range``; zero bias)."""
    import torch

    head = getattr(module, attr) if not attr.isdigit() else module[int(attr)]
    layer = torch.nn.Linear(head.in_features, len(new))
    config = getattr(module, "config", None)
    std = getattr(config, "initializer_range", 0.02) if config is not None else 0.02
    torch.manual_seed(seed)
    with torch.no_grad():
        layer.weight.normal_(0.0, std)
        layer.bias.zero_()
        for j, name in enumerate(new):
            if name in old:
                layer.weight[j] = head.weight[old.index(name)]
                layer.bias[j] = head.bias[old.index(name)]
    if attr.isdigit():
        module[int(attr)] = layer
    else:
        setattr(module, attr, layer)
    if hasattr(module, "num_labels"):
        module.num_labels = len(new)


def read_block(model_dir: str | Path) -> TaggerBlock:
    """The ``tagger`` block of ``model_dir/config.json``, checked against the file's ``id2label``.

    A missing, unreadable, truncated or foreign ``config.json`` is a :class:`ModelLoadError` naming the file.
    """
    path = Path(model_dir) / "config.json"
    if not path.is_file():
        raise ModelLoadError(f"{model_dir}: no config.json; is this a model directory saved by arabic-tagger?")
    config = _read_config(path)
    if "tagger" not in config:
        raise ModelLoadError(
            f"{path}: no 'tagger' block; this directory was not saved by arabic-tagger (train one with `tagger train`)"
        )
    data = config["tagger"]
    missing = [key for key in ("task", "labels") if not isinstance(data, dict) or key not in data]
    if missing:
        raise ModelLoadError(f"{path}: the 'tagger' block lacks {missing}; the file is damaged or was edited: {_REPAIR}")
    block = TaggerBlock.from_dict(data)
    _check_labels(path, config, block)
    return block


def _read_config(path: Path) -> dict[str, Any]:
    """``config.json`` as a mapping; unreadable, not UTF-8, truncated or not a JSON object: ModelLoadError."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ModelLoadError(f"{path}: cannot read the file ({err.strerror or err})") from None
    except UnicodeDecodeError:
        raise ModelLoadError(f"{path}: not UTF-8 text, so not a config.json this library wrote; {_REPAIR}") from None
    except json.JSONDecodeError as err:
        raise ModelLoadError(
            f"{path}: not valid JSON ({err.msg} at line {err.lineno} column {err.colno}); the file is truncated or "
            f"damaged: {_REPAIR}"
        ) from None
    if not isinstance(config, dict):
        raise ModelLoadError(f"{path}: expected a JSON object, got {type(config).__name__}; {_REPAIR}")
    return config


def _check_labels(path: Path, config: dict[str, Any], block: TaggerBlock) -> None:
    """The block's task and labels are well-formed and equal to ``id2label`` in index order (what the head emits)."""
    from tagger.tasks import TASKS

    if block.task not in TASKS:
        raise ModelLoadError(f"{path}: unknown task {block.task!r} in the 'tagger' block (expected one of {sorted(TASKS)})")
    labels = block.labels
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) and x for x in labels):
        raise ModelLoadError(f"{path}: 'tagger.labels' must be a non-empty list of label strings; {_REPAIR}")
    id2label = config.get("id2label")
    if not isinstance(id2label, dict):
        raise ModelLoadError(f"{path}: no id2label mapping; config.json is incomplete: {_REPAIR}")
    ordered = [id2label.get(str(i)) for i in range(len(id2label))]
    if ordered != labels:
        raise ModelLoadError(
            f"{path}: id2label {ordered} does not match the 'tagger' labels {labels}; config.json was edited or "
            f"mixed with another model's: {_REPAIR}"
        )


def load_trained_model(model_dir: str | Path, cls: Any, **kwargs: Any) -> Any:
    """``cls.from_pretrained(model_dir, **kwargs)`` for a directory this library saved, failing plainly.

    ``cls`` is e.g. ``AutoModelForTokenClassification``. ``config.json`` is checked first (:func:`read_block`).
    A missing, truncated or corrupt ``model.safetensors``, weights whose shapes do not fit ``config.json``,
    weights lacking tensors the model needs (transformers would initialise those at random) and weights holding
    tensors the model does not use (a directory this library saved has none: they come from another model) raise
    :class:`ModelLoadError` naming the file and what to do (:func:`loading_problems`).
    """
    from safetensors import SafetensorError

    model_dir = Path(model_dir)
    read_block(model_dir)
    weights = model_dir / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelLoadError(f"{weights}: missing; the model directory is incomplete (an interrupted copy?): {_REPAIR}")
    try:
        model, info = cls.from_pretrained(model_dir, output_loading_info=True, **kwargs)
    except SafetensorError as err:
        raise ModelLoadError(f"{weights}: damaged or truncated ({err}); {_REPAIR}") from err
    except (OSError, ValueError, RuntimeError) as err:
        raise ModelLoadError(_load_failure(model_dir, err)) from err
    _, problems = loading_problems(info, expect_new_head=False)
    if problems.mismatched:
        key = problems.mismatched[0][0]
        raise ModelLoadError(f"{weights}: the shape of {key} does not fit {model_dir / 'config.json'}; the two files "
                             f"come from different models: {_REPAIR}")
    found = {"has no weights for": problems.missing, "holds weights the model does not use:": problems.unexpected}
    for what, keys in found.items():
        if keys:
            more = f" and {len(keys) - 3} more" if len(keys) > 3 else ""
            raise ModelLoadError(
                f"{weights}: {what} {keys[:3]}{more}; it does not belong to this config.json or is damaged: {_REPAIR}"
            )
    return model


def _load_failure(model_dir: Path, err: Exception) -> str:
    detail = (str(err).strip().splitlines() or [type(err).__name__])[0]
    if isinstance(err, RuntimeError) and ("size" in str(err) or "mismatch" in str(err)):
        return (
            f"{model_dir / WEIGHTS_FILE}: the tensor shapes do not fit {model_dir / 'config.json'} ({detail}); the two "
            f"files come from different models: {_REPAIR}"
        )
    return f"{model_dir}: cannot load the model from config.json and {WEIGHTS_FILE} ({detail}); {_REPAIR}"


def save_model_dir(
    out_dir: str | Path,
    model,
    tokenizer,
    block: TaggerBlock,
    *,
    training_config: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    card: str | None = None,
    overwrite: bool = False,
    lexical: Any = None,
) -> Path:
    """Write the complete model directory next to ``out_dir`` and swap it in atomically.

    ``out_dir`` must pass :func:`check_output_dir` (missing, empty, or a model directory this library saved;
    ``overwrite=True`` allows another directory). Every file gets ``0o666 & ~umask``, every directory
    ``0o777 & ~umask``. Staging directories that a killed save left next to ``out_dir`` are removed first.
    ``lexical``: the topic head's lexical model (:class:`tagger.lexical.LexicalTopicModel`), saved beside it.
    """
    from safetensors.torch import save_file

    from tagger.tasks import get_task

    out = check_output_dir(out_dir, overwrite=overwrite)
    tmp = new_staging_dir(out)
    try:
        block.versions = versions()
        model, extra_weights = get_task(block.task).saved_parts(model)
        model.config.tagger = asdict(block)
        model.save_pretrained(tmp, safe_serialization=True)
        for name, state in extra_weights.items():
            save_file(state, str(tmp / name), metadata={"format": "pt"})
        tokenizer.save_pretrained(tmp)
        if lexical is not None:
            lexical.save(tmp)
        if training_config is not None:
            import yaml

            (tmp / "training_config.yaml").write_text(
                yaml.safe_dump(training_config, allow_unicode=True, sort_keys=False), encoding="utf-8"
            )
        if metrics is not None:
            (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False), encoding="utf-8")
        if card is not None:
            (tmp / "README.md").write_text(card, encoding="utf-8")
        fsync_tree(tmp)
        swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def model_card(block: TaggerBlock, training_config: dict[str, Any], metrics: dict[str, Any], defaults: dict[str, Any]) -> str:
    """A README.md for the model directory: labels, data, non-default hyper-parameters, metrics, versions."""
    lines = [
        f"# arabic-tagger {block.task} model",
        "",
        f"Fine-tuned from `{block.base_model}` with [arabic-tagger](https://pypi.org/project/arabic-tagger/).",
        "",
        "## Usage",
        "```python",
        "from tagger import Tagger",
        "tagger = Tagger.from_pretrained(\"PATH/TO/THIS/DIR\")",
        "tagger.predict([\"التقى وزير الاتصالات الكيني في نيروبي\"])",
        "```",
        "",
        "## Labels",
        ", ".join(f"`{x}`" for x in block.labels),
        "",
    ]
    from tagger.tasks import get_task

    lines += get_task(block.task).model_card_lines(block)
    lines += ["## Training data", ""]
    lines += [f"- train: `{p}`" for p in training_config.get("train", [])]
    if training_config.get("dev"):
        lines += [f"- dev: `{p}`" for p in training_config["dev"]]
    lines += ["", "## Hyper-parameters (non-default)", ""]
    changed = {k: v for k, v in training_config.items() if k not in ("train", "dev", "output_dir", "overwrite") and defaults.get(k) != v}
    lines += [f"- {k}: `{v}`" for k, v in changed.items()] or ["- (all defaults)"]
    lines += ["", "## Metrics (dev)", "", "```json", json.dumps(metrics, indent=2, ensure_ascii=False), "```", ""]
    lines += ["## Versions", ""] + [f"- {k}: {v}" for k, v in versions().items()]
    lines += [f"- max_length: {block.max_length}, stride: {block.stride}", ""]
    return "\n".join(lines)
