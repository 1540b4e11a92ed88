"""Weight soups: one model from several fine-tuned with one recipe (``tagger soup``).

Models fine-tuned from the same pre-trained encoder with the same recipe and different seeds can end close enough
in weight space that their average is itself a good model (a *uniform soup*, Wortsman et al., "Model soups", ICML
2022), with the size and speed of one model. Whether it beats its ingredients depends on the task: measure it on
your dev set. Measured here (``benchmarks/ner_soup.py``, three seeds of ``anercorp-seeds-mini``): ANERcorp test
71.35 +- 0.54 alone, 71.93 souped, 72.46 for the three-model ensemble; on dev, AQMAR and the seeds test the soup
is no better than the seeds alone. Three ``topics-mini`` seeds souped were worse than each seed.

With ``dev`` each ingredient and the soup are scored on it (the task's own scorer), and a topic soup gets its
thresholds tuned there: thresholds tuned for one set of weights do not fit the average. ``greedy=True`` builds a
*greedy soup*: ingredients are tried best first and one is kept only when the dev score of the soup does not fall.

What must agree between ingredients (else :class:`ConfigError` naming the first difference): the task, labels and
every setting of the ``tagger`` block except thresholds and versions, the encoder's architecture, the tokenizer's
vocabulary, the tensor names and shapes, and a saved lexical model (``lexical_blend``) byte for byte.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from tagger.errors import ConfigError, ModelLoadError

logger = logging.getLogger(__name__)

BLOCK_FREE = ("thresholds", "threshold_support", "versions")  # tagger-block fields that may differ between ingredients
CONFIG_FREE = ("tagger", "_name_or_path", "transformers_version", "torch_dtype", "dtype")
LEXICAL_FILES = ("lexical.json", "lexical.safetensors")


@dataclass
class SoupResult:
    output_dir: Path
    ingredients: list[Path]
    kept: list[Path]
    dev_f1: dict[str, float] = field(default_factory=dict)  # ingredient path (or "soup") -> dev F1

    def summary(self) -> str:
        lines = [f"soup of {len(self.kept)} of {len(self.ingredients)} models -> {self.output_dir}"]
        for path in self.ingredients:
            mark = "kept" if path in self.kept else "left out"
            score = f"dev F1 {self.dev_f1[str(path)]:.4f}" if str(path) in self.dev_f1 else "not scored"
            lines.append(f"  {path}: {score} ({mark})")
        if "soup" in self.dev_f1:
            lines.append(f"  soup: dev F1 {self.dev_f1['soup']:.4f}")
        return "\n".join(lines)


def soup_models(models: Sequence[str | Path], out: str | Path, *, dev: str | Path | None = None, greedy: bool = False,
                overwrite: bool = False, batch_size: int = 64) -> SoupResult:
    """Average the weights of ``models`` (directories this library saved) into a new model directory ``out``."""
    from tagger.model import read_block
    from tagger.savedir import check_output_dir
    from tagger.tasks import get_task

    paths = [Path(m) for m in models]
    if len(paths) < 2:
        raise ConfigError("a soup needs at least two model directories")
    seen: dict[Path, Path] = {}
    for p in paths:
        if not p.is_dir():
            raise ModelLoadError(f"{p}: no such model directory")
        if p.resolve() in seen:
            raise ConfigError(f"{p}: given twice (as {seen[p.resolve()]} too); list each ingredient once")
        seen[p.resolve()] = p
    blocks = [read_block(p) for p in paths]
    _check_blocks(paths, blocks)
    _check_lexical(paths, blocks[0].lexical_blend)
    task = get_task(blocks[0].task)
    has_topics = "topics" in task.views(blocks[0])
    if greedy and dev is None:
        raise ConfigError("--greedy chooses ingredients by their dev score: give --dev FILE")
    if has_topics and dev is None:
        raise ConfigError("a topic model's thresholds were tuned for its own weights: give --dev FILE (the recipe's "
                          "dev set) to tune them for the soup")
    if dev is not None and not Path(dev).is_file():
        raise ConfigError(f"--dev {dev}: file not found")
    check_output_dir(out, overwrite=overwrite, protect=[*paths, dev],
                     overwrite_hint="pass overwrite=True (`tagger soup --overwrite`)")

    loaded = [_load(p, block, task) for p, block in zip(paths, blocks)]
    states = [model.state_dict() for model, _, _ in loaded]
    _check_models(paths, loaded, states)
    dev_docs = _read_dev(dev) if dev is not None else None
    scorer = _Scorer(task, blocks[0], loaded[0], dev_docs, batch_size)
    result = SoupResult(Path(out), paths, list(paths))
    thresholds: dict[str, float] = {}
    if dev_docs is not None:
        for p, state in zip(paths, states):
            result.dev_f1[str(p)] = scorer.score(state)[0]
            logger.info("%s: dev F1 %.4f", p, result.dev_f1[str(p)])
    if greedy:
        order = sorted(paths, key=lambda p: -result.dev_f1[str(p)])
        result.kept = [order[0]]
        best = result.dev_f1[str(order[0])]
        for p in order[1:]:
            score = scorer.score(_average([states[paths.index(q)] for q in [*result.kept, p]]))[0]
            logger.info("greedy soup: adding %s gives dev F1 %.4f (best %.4f)", p, score, best)
            if score >= best:
                result.kept.append(p)
                best = score
        result.kept.sort(key=paths.index)
    state = _average([states[paths.index(p)] for p in result.kept])
    metrics: dict[str, Any] = {"soup": {"ingredients": [str(p) for p in paths], "kept": [str(p) for p in result.kept],
                                        "greedy": greedy}}
    if dev_docs is not None:
        f1, dev_metrics, thresholds = scorer.score(state)
        result.dev_f1["soup"] = f1
        metrics["soup"]["dev_f1"] = {k: round(v, 6) for k, v in result.dev_f1.items()}
        metrics["dev"] = {k: v for k, v in dev_metrics.items() if k != "f1"}
        metrics["best_dev_f1"] = f1
    result.output_dir = _save(out, paths[0], blocks[0], loaded[0], state, thresholds, metrics, dev_docs, overwrite)
    return result


# ---------------------------------------------------------------------------------------------- checks
def _check_blocks(paths: list[Path], blocks: list[Any]) -> None:
    first = {k: v for k, v in asdict(blocks[0]).items() if k not in BLOCK_FREE}
    for p, block in zip(paths[1:], blocks[1:]):
        other = {k: v for k, v in asdict(block).items() if k not in BLOCK_FREE}
        for key in first:
            if first[key] != other.get(key):
                raise ConfigError(
                    f"{paths[0]} and {p} differ in `{key}` ({first[key]!r} vs {other.get(key)!r}); a soup averages "
                    "models trained with one recipe (same encoder, labels and settings; only the seed differs)"
                )


def _check_lexical(paths: list[Path], blend: float) -> None:
    if not blend:
        return
    for name in LEXICAL_FILES:
        first = (paths[0] / name).read_bytes() if (paths[0] / name).is_file() else None
        for p in paths[1:]:
            if ((p / name).read_bytes() if (p / name).is_file() else None) != first:
                raise ConfigError(f"{paths[0] / name} and {p / name} differ: the lexical models were fitted on different "
                                  "training data; a soup needs ingredients trained on the same data")


def _load(path: Path, block: Any, task: Any) -> tuple[Any, Any, Any]:
    from tagger.backends.base import saved_lexical
    from tagger.model import load_tokenizer

    return task.load_model(path), load_tokenizer(str(path)), saved_lexical(path, block)


def _check_models(paths: list[Path], loaded: list[tuple[Any, Any, Any]], states: list[dict[str, Any]]) -> None:
    model0, tok0, _ = loaded[0]
    config0 = {k: v for k, v in model0.config.to_dict().items() if k not in CONFIG_FREE}
    state0 = states[0]
    for p, (model, tok, _), state in zip(paths[1:], loaded[1:], states[1:]):
        config = {k: v for k, v in model.config.to_dict().items() if k not in CONFIG_FREE}
        diff = sorted(k for k in set(config0) | set(config) if config0.get(k) != config.get(k))
        if diff:
            raise ConfigError(f"{paths[0]} and {p}: the encoders differ in `{diff[0]}` ({config0.get(diff[0])!r} vs "
                              f"{config.get(diff[0])!r}); soup models fine-tuned from one encoder")
        if tok.get_vocab() != tok0.get_vocab():
            raise ConfigError(f"{paths[0]} and {p}: the tokenizers' vocabularies differ; soup models fine-tuned from one "
                              "encoder")
        if set(state) != set(state0):
            key = sorted(set(state) ^ set(state0))[0]
            raise ConfigError(f"{paths[0]} and {p}: only one of them has the tensor {key}")
        for key, tensor in state.items():
            if tensor.shape != state0[key].shape:
                raise ConfigError(f"{paths[0]} and {p}: {key} has shape {tuple(state0[key].shape)} vs {tuple(tensor.shape)}")


def _average(states: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean of floating-point tensors (computed in float32, stored in the first model's dtype); other tensors
    (integer buffers such as position ids) must be equal and are kept."""
    import torch

    out = {}
    for key, first in states[0].items():
        if torch.is_floating_point(first):
            out[key] = (sum(s[key].float() for s in states) / len(states)).to(first.dtype)
        else:
            if any(not torch.equal(s[key], first) for s in states[1:]):
                raise ConfigError(f"the non-float tensor {key} differs between ingredients; they are not one recipe")
            out[key] = first.clone()
    return out


def _read_dev(dev: str | Path) -> list[Any]:
    from tagger.data.io import read_documents

    docs = read_documents(dev)
    if not docs:
        raise ConfigError(f"--dev {dev}: no documents in the file")
    return docs


# ---------------------------------------------------------------------------------------------- scoring and saving
class _Scorer:
    """Dev F1 of a state dict, loaded into one working model (the first ingredient's copy)."""

    def __init__(self, task: Any, block: Any, first: tuple[Any, Any, Any], docs: list[Any] | None, batch_size: int):
        import copy

        self.task, self.block, self.docs, self.batch_size = task, block, docs, batch_size
        self.model = copy.deepcopy(first[0]).eval()
        self.tokenizer, self.lexical = first[1], first[2]

    def score(self, state: dict[str, Any]) -> tuple[float, dict, dict[str, float]]:
        from tagger.backends.base import heads_of
        from tagger.backends.pytorch import TorchRunner
        from tagger.predict import Tagger

        if self.docs is None:
            return float("nan"), {}, {}
        self.model.load_state_dict(state)
        runner = TorchRunner(self.model, device=str(next(self.model.parameters()).device), autocast=False)
        tagger = Tagger(**heads_of(self.block, self.tokenizer, runner, self.lexical), batch_size=self.batch_size)
        metrics, thresholds = self.task.evaluate(tagger, self.docs, tune=True)
        return float(metrics["f1"]), metrics, thresholds


def _save(out: str | Path, first_path: Path, block: Any, first: tuple[Any, Any, Any], state: dict[str, Any],
          thresholds: dict[str, float], metrics: dict[str, Any], dev_docs: list[Any] | None, overwrite: bool) -> Path:
    import copy

    import yaml

    from tagger.config import TrainConfig
    from tagger.model import model_card, save_model_dir

    model, tokenizer, lexical = first
    model.load_state_dict(state)
    block = copy.deepcopy(block)
    if thresholds:
        block.thresholds = dict(thresholds)
        topic_docs = [d for d in dev_docs or () if d.topics is not None]
        block.threshold_support = {lab: {"positives": sum(lab in (d.topics or ()) for d in topic_docs), "source": "dev"}
                                   for lab in thresholds}
    config_path = first_path / "training_config.yaml"
    try:
        training = yaml.safe_load(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:  # only the model card's hyper-parameter list needs it
        logger.warning("%s: unreadable (%s); the soup's model card lists no hyper-parameters", config_path, err)
        training = {}
    training = training if isinstance(training, dict) else {}
    defaults = {f.name: f.default for f in fields(TrainConfig)}
    card = model_card(block, training, metrics, defaults)
    card += "\n## Weight soup\n\n" + "\n".join(
        f"- `{p}`" for p in metrics["soup"]["kept"]) + "\n\nThe weights are the mean of these models' weights " \
        "(`tagger soup`); the hyper-parameters above are the first one's.\n"
    return save_model_dir(out, model, tokenizer, block, training_config=training or None, metrics=metrics, card=card,
                          overwrite=overwrite, lexical=lexical)
