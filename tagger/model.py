"""Load encoders and tokenizers; save and read this library's self-describing model directories.

A saved directory loads in plain transformers (``AutoModelForTokenClassification`` /
``AutoModelForSequenceClassification``) and carries a namespaced ``tagger`` block in ``config.json``.
Saving is atomic: the new directory is written next to the target and swapped in with one rename.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import platform
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tagger.config import NormalizationConfig
from tagger.errors import HubUnavailableError, ModelLoadError

logger = logging.getLogger(__name__)

LOCAL_ENCODER_HINT = "../shared/models/arabic-mini-bert"


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
    thresholds: dict[str, float] = field(default_factory=dict)
    clitic_policy: str = "strip"
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


def load_model(name: str, task: str, labels: list[str], tags: list[str] | None = None, *, missing: set[str] | None = None):
    """A token-classification (ner) or multi-label sequence-classification (topics) model from an encoder.

    ``missing``, when given, receives the names of the parameters the checkpoint did not have (the new head, and
    the pooler of an encoder pretrained without one): the trainer gives those the head learning rate.
    """
    from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification

    names = tags if task == "ner" else labels
    id2label = dict(enumerate(names))
    label2id = {v: k for k, v in id2label.items()}
    kwargs: dict[str, Any] = {"num_labels": len(names), "id2label": id2label, "label2id": label2id,
                              "output_loading_info": True}
    try:
        if task == "ner":
            model, info = _from_pretrained(AutoModelForTokenClassification, name, **kwargs)
        else:
            model, info = _from_pretrained(
                AutoModelForSequenceClassification, name, problem_type="multi_label_classification", **kwargs
            )
    except (OSError, ValueError) as err:
        raise _hub_error(name, err) from err
    if missing is not None:
        missing.update(info.get("missing_keys", ()))
    return model


def read_block(model_dir: str | Path) -> TaggerBlock:
    path = Path(model_dir) / "config.json"
    if not path.is_file():
        raise ModelLoadError(f"{model_dir}: no config.json; is this a model directory saved by arabic-tagger?")
    config = json.loads(path.read_text(encoding="utf-8"))
    if "tagger" not in config:
        raise ModelLoadError(
            f"{path}: no 'tagger' block; this directory was not saved by arabic-tagger (train one with `tagger train`)"
        )
    return TaggerBlock.from_dict(config["tagger"])


def save_model_dir(
    out_dir: str | Path,
    model,
    tokenizer,
    block: TaggerBlock,
    *,
    training_config: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    card: str | None = None,
) -> Path:
    """Write the complete model directory next to ``out_dir`` and swap it in atomically."""
    out = Path(out_dir).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = new_staging_dir(out)
    try:
        block.versions = versions()
        model.config.tagger = asdict(block)
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        if training_config is not None:
            import yaml

            (tmp / "training_config.yaml").write_text(
                yaml.safe_dump(training_config, allow_unicode=True, sort_keys=False), encoding="utf-8"
            )
        if metrics is not None:
            (tmp / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False), encoding="utf-8")
        if card is not None:
            (tmp / "README.md").write_text(card, encoding="utf-8")
        _fsync_tree(tmp)
        swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def new_staging_dir(out: Path) -> Path:
    """An empty sibling directory of ``out`` to write into before :func:`swap_into_place`.

    ``mkdtemp`` creates it private (0700); it gets the permissions a plain ``mkdir`` would give, so the model
    directory it becomes is readable as usual.
    """
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)
    return tmp


def _fsync_tree(path: Path) -> None:
    for f in path.rglob("*"):
        if f.is_file():
            with f.open("rb") as fh:
                os.fsync(fh.fileno())


_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux renameat2); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    rc = fn(at_fdcwd, os.fsencode(str(a)), at_fdcwd, os.fsencode(str(b)), _RENAME_EXCHANGE)
    return rc == 0


def swap_into_place(new: Path, target: Path) -> None:
    """Make ``new`` become ``target``; an existing ``target`` is replaced only once ``new`` is complete.

    On Linux the two directories are exchanged in one atomic step; elsewhere the old directory is first
    renamed aside (``.NAME.old-*``) so that a crash between the two renames still leaves it on disk.
    """
    if not target.exists():
        os.rename(new, target)
        return
    if _exchange(new, target):
        shutil.rmtree(new, ignore_errors=True)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    os.rmdir(old)
    os.rename(target, old)
    os.rename(new, target)
    shutil.rmtree(old, ignore_errors=True)


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
    if block.task == "ner":
        lines += [f"Tag scheme {block.scheme}; clitic policy `{block.clitic_policy}`.", ""]
    else:
        lines += [
            f"Multi-label (sigmoid); window scores pooled by `{block.pooling}`. Thresholds (tuned on dev):",
            "",
            "| label | threshold |",
            "|---|---|",
            *[f"| {k} | {v:.3f} |" for k, v in block.thresholds.items()],
            "",
        ]
    lines += ["## Training data", ""]
    lines += [f"- train: `{p}`" for p in training_config.get("train", [])]
    if training_config.get("dev"):
        lines.append(f"- dev: `{training_config['dev']}`")
    lines += ["", "## Hyper-parameters (non-default)", ""]
    changed = {k: v for k, v in training_config.items() if k not in ("train", "dev", "output_dir") and defaults.get(k) != v}
    lines += [f"- {k}: `{v}`" for k, v in changed.items()] or ["- (all defaults)"]
    lines += ["", "## Metrics (dev)", "", "```json", json.dumps(metrics, indent=2, ensure_ascii=False), "```", ""]
    lines += ["## Versions", ""] + [f"- {k}: {v}" for k, v in versions().items()]
    lines += [f"- max_length: {block.max_length}, stride: {block.stride}", ""]
    return "\n".join(lines)
