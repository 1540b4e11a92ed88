"""Figures for evaluation reports (matplotlib, Agg backend), returned as PNG bytes.

Plots carry only Latin text (labels, types, numbers): matplotlib does not shape Arabic, so Arabic examples
live in the report's tables, never in figures.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import precision_recall_curve  # noqa: E402

from tagger.report.ner import ERROR_KINDS  # noqa: E402

_KIND_COLOURS = {
    "correct": "#4c9a2a",
    "wrong_type": "#e3a21a",
    "wrong_boundary_same_type": "#6fa8dc",
    "wrong_boundary_other_type": "#8e7cc3",
    "missed": "#cc4125",
    "spurious": "#999999",
}


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _grid(n: int) -> tuple[int, int]:
    cols = min(n, 3) or 1
    return (n + cols - 1) // cols or 1, cols


def ner_errors_plot(errors: Mapping, title: str) -> bytes:
    """Stacked horizontal bars per type: how gold entities were handled, plus spurious predictions."""
    per_type = errors["per_type"]
    types = list(per_type) or ["(none)"]
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(types) + 1.4))
    left = np.zeros(len(types))
    for kind in ERROR_KINDS:
        vals = np.array([per_type.get(t, {}).get(kind, 0) for t in types], dtype=float)
        ax.barh(types, vals, left=left, color=_KIND_COLOURS[kind], label=kind.replace("_", " "))
        left += vals
    ax.invert_yaxis()
    ax.set_xlabel("entities")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.16))
    return _png(fig)


def confusion_plot(confusion: Mapping, title: str) -> bytes:
    """Heatmap of the entity-level type confusion (rows gold, columns predicted; O = none)."""
    labels = confusion["labels"]
    m = np.array(confusion["matrix"], dtype=float)
    size = 1.0 + 0.6 * len(labels)
    fig, ax = plt.subplots(figsize=(size + 1.2, size))
    im = ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    top = m.max() if m.size else 0
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(
                j,
                i,
                f"{int(m[i, j])}",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if top and m[i, j] > top / 2 else "black",
            )
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_title(title, fontsize=10)
    return _png(fig)


def f1_threshold_plot(result: Mapping, title: str) -> bytes:
    """F1 against threshold, one panel per label; the saved threshold is a dashed line with its F1 marked."""
    curves = result["f1_by_threshold"]
    grid = np.array(curves["thresholds"])
    labels = list(curves["f1"])
    rows, cols = _grid(len(labels))
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.8 * rows), squeeze=False)
    for ax in axes.flat[len(labels) :]:
        ax.axis("off")
    for ax, label in zip(axes.flat, labels):
        f1 = np.array(curves["f1"][label])
        row = result["per_label"][label]
        ax.plot(grid, f1, color="#1f77b4")
        t = row["threshold"]
        ax.axvline(t, color="#d62728", linestyle="--", linewidth=1)
        ax.plot([t], [row["f1"]], "o", color="#d62728", label=f"saved {t:.2f}: F1 {row['f1']:.3f}")
        ax.plot(
            [row["best_threshold"]],
            [row["best_f1"]],
            "^",
            color="#2ca02c",
            label=f"best {row['best_threshold']:.2f}: F1 {row['best_f1']:.3f}",
        )
        ax.set_title(f"{label} (support {row['support']})", fontsize=9)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("threshold", fontsize=8)
        ax.set_ylabel("F1", fontsize=8)
        ax.legend(fontsize=7, loc="lower center")
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _png(fig)


def pr_curves_plot(y_true: np.ndarray, scores: np.ndarray, labels: Sequence[str], title: str) -> bytes:
    """Precision-recall curve per label (labels with no positives are skipped)."""
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    for j, label in enumerate(labels):
        if y_true[:, j].sum() == 0 or y_true[:, j].sum() == len(y_true):
            continue
        p, r, _ = precision_recall_curve(y_true[:, j], scores[:, j])
        ax.plot(r, p, label=label, drawstyle="steps-post")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    return _png(fig)


def comparison_plot(rows: Sequence[tuple[str, Mapping[str, tuple[float, float, float]]]], title: str) -> bytes:
    """Grouped bars with CI whiskers: ``rows = [(system, {class: (f1, low, high)})]``."""
    classes = list(dict.fromkeys(c for _, d in rows for c in d))
    x = np.arange(len(classes))
    width = 0.8 / max(len(rows), 1)
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(classes) * max(1, len(rows)) / 2 + 2), 3.6))
    for i, (name, d) in enumerate(rows):
        f = np.array([d.get(c, (np.nan, np.nan, np.nan))[0] for c in classes])
        lo = np.array([d.get(c, (np.nan, np.nan, np.nan))[1] for c in classes])
        hi = np.array([d.get(c, (np.nan, np.nan, np.nan))[2] for c in classes])
        err = np.vstack([np.clip(f - lo, 0, None), np.clip(hi - f, 0, None)])
        ax.bar(x + (i - (len(rows) - 1) / 2) * width, f, width, yerr=err, capsize=2, label=name)
    ax.set_xticks(x, classes)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("F1 (95% CI)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title(title, fontsize=10)
    return _png(fig)
