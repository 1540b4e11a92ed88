"""ONNX export (optionally int8-quantised) and an onnxruntime backend with the same ``Tagger`` API.

``export_onnx(model_dir, out_dir)`` traces the encoder + head with ``torch.onnx.export`` (TorchScript exporter,
dynamic batch and sequence axes), fuses attention / layer norm / GELU with onnxruntime's transformer optimizer
where the architecture is BERT-like, optionally applies onnxruntime dynamic int8 quantisation, copies the
tokenizer and ``config.json`` (with its ``tagger`` block), and checks parity against the torch model on a sample
(and on a dev file when given). The result is written atomically; ``parity.json`` sits next to ``model.onnx``.

``Tagger.from_pretrained(out_dir)`` runs it on onnxruntime because ``model.onnx`` is there (see
:func:`tagger.backends.load_heads` and :mod:`tagger.backends.ort`); predictions go through exactly the same
windows, merging and decoding code. This module only writes; the runners live in :mod:`tagger.backends`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tagger.backends import load_heads, select
from tagger.backends.ort import ONNX_FILE, OUTPUT_SUFFIX, OnnxRunner, onnx_head, onnx_heads
from tagger.errors import TaggerError
from tagger.model import ModelLoadError, read_block
from tagger.predict import Tagger
from tagger.savedir import BUNDLE_PARTS, check_output_dir, new_staging_dir, swap_into_place
from tagger.schema import Document
from tagger.tasks import get_task

__all__ = ["ONNX_FILE", "PARITY_FILE", "ExportError", "OnnxRunner", "export_onnx", "onnx_head", "parity_check"]

logger = logging.getLogger(__name__)

PARITY_FILE = "parity.json"
OPSET = 17
# model types whose graphs onnxruntime's "bert" fusion recognises
_FUSABLE = {"bert", "roberta", "xlm-roberta", "camembert", "electra", "distilbert"}
_QUANTIZED_OPS = ["MatMul", "Attention"]

# used for the logit parity check when no dev file is given (short, long, diacritised, Latin, empty)
PARITY_TEXTS = [
    "التقى وزير الاتصالات الإيراني ستار هاشمي نظيره الكيني في نيروبي",
    "أعلنت وزارة الاتصالات وتكنولوجيا المعلومات عن تشغيل شبكة الجيل الخامس في الرياض",
    "وَقَّعَتْ الجزائرُ وكينيا اتفاقاً للتعاون في مجال الأمن السيبراني والحكومة الذكية",
    "أطلقت وكالة الفضاء الإماراتية قمرا صناعيا جديدا من قاعدة كيب كانافيرال في فلوريدا",
    "هجوم إلكتروني ببرمجية الفدية استهدف مستشفى في دبي، وقالت الشرطة إن التحقيق مستمر.",
    "Huawei و Ericsson و SpaceX شركات عالمية تعمل في 5G و LTE منذ ٢٠١٩",
    "",
    " ".join(["قال علي زروقي وزير البريد والاتصالات إن الجزائر تطور البنية التحتية للاتصالات"] * 30),
]


class ExportError(TaggerError, RuntimeError):
    """The ONNX export, optimisation or quantisation failed; the message names the step and the model."""


# ---------------------------------------------------------------------------------------------- export
@dataclass
class _Graph:
    path: Path
    optimized: bool
    fused: dict[str, int]


def export_onnx(
    model_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    quantize: str | None = None,
    dev: str | os.PathLike | None = None,
    opset: int = OPSET,
    optimize: bool = True,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Export a saved model directory (or a bundle with ``ner/``/``topics/``) to ONNX in ``out_dir``.

    ``quantize="int8"`` applies onnxruntime dynamic quantisation (int8 weights, activations quantised at run
    time). Returns the parity report, also written to ``out_dir/parity.json``. ``out_dir`` must pass
    :func:`tagger.savedir.check_output_dir` (missing, empty, or a model directory / bundle this library wrote; any
    other directory only with ``overwrite=True``; never the model directory itself or a directory containing it).
    """
    src, out = Path(model_dir), Path(out_dir)
    if quantize not in (None, "int8"):
        raise ValueError(f"quantize must be None or 'int8', got {quantize!r}")
    if not src.is_dir():
        raise ModelLoadError(f"{src}: no such model directory")
    if not (src / "config.json").is_file():
        parts = [name for name in BUNDLE_PARTS if (src / name / "config.json").is_file()]
        if not parts:
            raise ModelLoadError(f"{src}: neither a model directory (config.json) nor a bundle with ner/ or topics/")
        out = _check_out(out, src, overwrite, bundle=True)
        for name in parts:  # every part is checked before any is exported: none is written when one is refused
            read_block(src / name)
            _check_out(out / name, src, overwrite)
        out.mkdir(parents=True, exist_ok=True)
        reports = {name: export_onnx(src / name, out / name, quantize, dev, opset, optimize, overwrite) for name in parts}
        (out / PARITY_FILE).write_text(json.dumps(reports, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return reports

    out = _check_out(out, src, overwrite)
    tmp = new_staging_dir(out)
    try:
        started = time.perf_counter()
        block = read_block(src)
        task = get_task(block.task)
        model = _load_torch_model(src, task)
        graph = _export_graph(model, tmp, opset, optimize, task)
        if quantize == "int8":
            _quantize_int8(graph.path, tmp / ONNX_FILE)
        else:
            graph.path.rename(tmp / ONNX_FILE)
        for f in tmp.iterdir():
            if f.name != ONNX_FILE:
                f.unlink()
        _copy_metadata(src, tmp)
        report: dict[str, Any] = {
            "source": str(src.resolve()),
            "output": str(out),
            "task": block.task,
            "quantize": quantize,
            "opset": opset,
            "optimized": graph.optimized,
            "fused_operators": graph.fused,
            "size_mb": {"torch": _size_mb(src / "model.safetensors"), "onnx": _size_mb(tmp / ONNX_FILE)},
        }
        report["parity"] = parity_check(src, tmp, dev)
        report["export_seconds"] = round(time.perf_counter() - started, 2)
        (tmp / PARITY_FILE).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info("exported %s -> %s (%s)", src, out / ONNX_FILE, quantize or "fp32")
    return report


def _check_out(out: Path, src: Path, overwrite: bool, bundle: bool = False) -> Path:
    """:func:`~tagger.savedir.check_output_dir` for an export of ``src`` (never over or around it)."""
    return check_output_dir(out, overwrite=overwrite, protect=[src], bundle=bundle,
                            overwrite_hint="pass overwrite=True (`tagger export --overwrite`)")


def _load_torch_model(src: Path, task):
    try:  # eager attention traces into a graph onnxruntime's fusion recognises
        model = task.load_model(src, attn_implementation="eager")
    except (TypeError, ValueError):
        model = task.load_model(src)
    return model.eval()


class _LogitsOnly:
    """Wraps a model so the traced graph takes (input_ids, attention_mask) and returns its logits: one tensor
    (a single task) or one per output of ``names`` (joint), in that order."""

    def __new__(cls, model, names: tuple[str, ...]):
        import torch

        class Wrapper(torch.nn.Module):
            def __init__(self, inner) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, input_ids, attention_mask):
                logits = self.inner(input_ids=input_ids, attention_mask=attention_mask).logits
                return tuple(logits[k] for k in names) if isinstance(logits, dict) else logits

        return Wrapper(model).eval()


def _output_names(task) -> list[str]:
    """Graph outputs: ``logits`` for a single task (as before joint models existed), ``<output>_logits`` else."""
    return ["logits"] if len(task.outputs) == 1 else [f"{k}{OUTPUT_SUFFIX}" for k in task.outputs]


def _export_graph(model, tmp: Path, opset: int, optimize: bool, task) -> _Graph:
    import torch

    raw = tmp / "raw.onnx"
    ids = torch.tensor([[2, 5, 6, 7, 8, 3], [2, 9, 10, 3, 0, 0]], dtype=torch.long)
    mask = (ids != 0).long()
    axes = {0: "batch", 1: "sequence"}
    names = _output_names(task)
    out_axes = {name: axes if output in task.token_outputs else {0: "batch"} for name, output in zip(names, task.outputs)}
    try:
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _LogitsOnly(model, task.outputs), (ids, mask), str(raw),
                input_names=["input_ids", "attention_mask"], output_names=names,
                dynamic_axes={"input_ids": axes, "attention_mask": axes, **out_axes},
                opset_version=opset, do_constant_folding=True, dynamo=False,
            )
    except Exception as err:
        raise ExportError(f"torch.onnx.export failed for {type(model).__name__}: {err}") from err
    if not optimize or model.config.model_type not in _FUSABLE:
        return _Graph(raw, False, {})
    try:
        from onnxruntime.transformers import optimizer

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            opt = optimizer.optimize_model(
                str(raw), model_type="bert", num_heads=int(model.config.num_attention_heads),
                hidden_size=int(model.config.hidden_size), opt_level=0,
            )
        fused = {k: int(v) for k, v in opt.get_fused_operator_statistics().items() if v}
        path = tmp / "optimized.onnx"
        opt.save_model_to_file(str(path))
        return _Graph(path, True, fused)
    except Exception as err:  # the unfused graph is correct, only slower
        logger.warning("onnxruntime transformer optimisation failed (%s); keeping the unfused graph", err)
        return _Graph(raw, False, {})


def _quantize_int8(src: Path, dst: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    try:
        quantize_dynamic(
            str(src), str(dst), weight_type=QuantType.QInt8, op_types_to_quantize=_QUANTIZED_OPS,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    except Exception as err:
        raise ExportError(f"onnxruntime dynamic int8 quantisation of {src.name} failed: {err}") from err


def _copy_metadata(src: Path, dst: Path) -> None:
    skip = {"model.safetensors", "pytorch_model.bin", "topic_head.safetensors", ONNX_FILE, PARITY_FILE}
    for f in src.iterdir():
        if f.is_file() and f.name not in skip and not f.name.startswith("."):
            shutil.copy2(f, dst / f.name)


def _size_mb(path: Path) -> float | None:
    return round(path.stat().st_size / 2**20, 2) if path.is_file() else None


# ---------------------------------------------------------------------------------------------- parity
class _Recorder:
    """A runner that records every batch it runs (to replay the same batches through another backend)."""

    def __init__(self, runner) -> None:
        self.runner = runner
        self.batches: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        logits = self.runner(ids, mask)
        self.batches.append((ids, mask, logits))
        return logits


def parity_check(torch_dir: str | os.PathLike, onnx_dir: str | os.PathLike, dev: str | os.PathLike | None = None,
                 max_docs: int = 64) -> dict[str, Any]:
    """Compare the torch and ONNX backends of one model on the same batches (and on ``dev`` when given)."""
    from tagger.data.io import read_documents

    ref_heads = load_heads(Path(torch_dir), "cpu")
    new_heads = onnx_heads(onnx_dir)
    block = read_block(torch_dir)
    task = get_task(block.task)
    first = next(iter(ref_heads.values()))
    dev_docs = read_documents(dev, first.norm) if dev else []
    sample = dev_docs[:max_docs] if dev_docs else [Document(text=t) for t in PARITY_TEXTS]
    recorder = _Recorder(first.runner)
    for head in ref_heads.values():
        head.runner = recorder
    ref, new = Tagger(**ref_heads), Tagger(**new_heads)
    ref_pred = ref.predict_documents(sample)
    new_pred = new.predict_documents(sample)
    onnx_runner = next(iter(new_heads.values())).runner

    diffs, agree, total = [], 0, 0
    for ids, mask, outputs in recorder.batches:
        other = onnx_runner(ids, mask)
        for name, head in ref_heads.items():
            logits, theirs = select(outputs, name), select(other, name)
            if name in task.token_outputs:  # tokens: real positions only
                keep = mask.astype(bool)
                diffs.append(float(np.abs(logits - theirs)[keep].max()))
                agree += int((logits.argmax(-1) == theirs.argmax(-1))[keep].sum())
                total += int(keep.sum())
            else:
                diffs.append(float(np.abs(logits - theirs).max()))
                thresholds = np.array([head.block.thresholds.get(lab, 0.5) for lab in head.block.labels])
                a, b = 1 / (1 + np.exp(-logits)) >= thresholds, 1 / (1 + np.exp(-theirs)) >= thresholds
                agree += int((a == b).sum())
                total += a.size
    same = [_decisions(p) == _decisions(q) for p, q in zip(ref_pred, new_pred)]
    report: dict[str, Any] = {
        "sample": f"first {len(sample)} documents of {dev}" if dev_docs else f"{len(sample)} built-in texts",
        "max_abs_logit_diff": max(diffs, default=0.0),
        ("token_label_agreement" if task.token_outputs else "label_agreement"): agree / total if total else 1.0,
        "same_decisions": sum(same) / len(same) if same else 1.0,
    }
    if dev_docs:
        scores = {}
        for name, tagger in (("torch", ref), ("onnx", new)):
            metrics, _ = task.evaluate(tagger, dev_docs)
            scores[name] = metrics["f1"]
        report["dev"] = {"file": str(dev), "documents": len(dev_docs), "metric": task.metric, **scores,
                         "delta_points": round(100 * (scores["onnx"] - scores["torch"]), 3)}
    return report


def _decisions(pred) -> tuple:
    """What a prediction decides (spans, labels, topic labels), without the scores."""
    spans = tuple((e.start, e.end, e.label) for e in pred.entities)
    return spans, (pred.topics.labels if pred.topics else ())
