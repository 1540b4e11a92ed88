"""``--resume``: find where an interrupted run stopped and prove that its results belong to these inputs.

Contracts:

* A run writes a sidecar ``OUT.resume.json`` (:func:`run_identity`: the model directory and each input's resolved
  path, size and hash of its first 64 KiB) before its first result. On ``--resume`` a sidecar that describes
  other inputs or another model is refused before the model is loaded (:func:`check_sidecar`).
* Unfinished results live in ``OUT.partial`` (a replacing run that was killed or interrupted) or else in ``OUT``
  (:func:`find_resume_point`); only complete lines count, a cut-off last line is dropped when appending starts.
* Whether or not there is a sidecar, every skipped input record is compared with its result line (``text``, and
  ``id`` when both have one) and an output with more results than the inputs have texts is refused
  (:func:`skip_done`). Nothing is written before these checks pass.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tagger.errors import OutputError
from tagger.predict_cli.inputs import InputFile, InputRecord
from tagger.predict_cli.output import OutputPlan

SIDECAR_FORMAT = 1


def run_identity(model: str, inputs: Sequence[InputFile]) -> dict[str, Any]:
    """The JSON object stored in the sidecar: what the results in ``OUT`` were computed from."""
    return {"tagger_resume": SIDECAR_FORMAT, "model": os.path.realpath(model) if os.path.exists(model) else model, "inputs": [i.identity() for i in inputs]}


def write_sidecar(path: Path, identity: dict[str, Any]) -> None:
    """Write ``identity`` to ``path`` atomically (a temporary file renamed over it).

    The temporary file has a fixed name: safe because one run at a time writes an output (``OUT.lock``).
    """
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(identity, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def check_sidecar(plan: OutputPlan, identity: dict[str, Any]) -> bool:
    """True when a sidecar exists and matches; False when there is none; :class:`OutputError` when it differs."""
    if not plan.sidecar.is_file():
        return False
    try:
        saved = json.loads(plan.sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        saved = None
    if not isinstance(saved, dict) or saved.get("tagger_resume") != SIDECAR_FORMAT:
        raise OutputError(f"--resume: {plan.sidecar} is not a resume record of tagger predict; delete it to resume "
                          "with a check of the results against the inputs, or drop --resume to start over")
    differences = _differences(saved, identity)
    if differences:
        raise OutputError(_refusal(plan.target, f"{plan.sidecar} says they were computed from " + "; ".join(differences)))
    return True


def _differences(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    out = []
    if saved.get("model") != now["model"]:
        out.append(f"model {saved.get('model')} (now {now['model']})")
    old, new = saved.get("inputs") or [], now["inputs"]
    if [i.get("path") for i in old] != [i["path"] for i in new]:
        out.append(f"inputs {[i.get('path') for i in old]} (now {[i['path'] for i in new]})")
        return out
    for was, is_ in zip(old, new):
        if was != is_:
            what = "size" if was.get("size") != is_.get("size") else "content"
            out.append(f"{is_['path']} with another {what} (it changed since)")
    return out


def _refusal(target: Path | None, why: str) -> str:
    return (f"--resume: the results in {target} are not for these inputs: {why}. Write to a different -o for these "
            f"inputs, or drop --resume to start over (replacing {target})")


# ---------------------------------------------------------------------------------------------- where to go on
@dataclass(frozen=True)
class ResumePoint:
    """``path`` holds ``done`` complete result lines ending at byte ``end`` (None: nothing to resume).

    ``target`` is the final output the results are for (``path`` is it or its ``.partial``).
    """

    target: Path
    path: Path | None
    done: int = 0
    end: int = 0


def prepare_resume(plan: OutputPlan, identity: dict[str, Any]) -> tuple[ResumePoint, bool]:
    """Where to go on, and whether a matching sidecar vouches for it (else the caller writes one).

    Refuses a sidecar that describes other inputs, and a non-empty file with neither a sidecar nor one complete
    line (nothing shows that it is ours, so it is not cut).
    """
    point = find_resume_point(plan)
    if point.path is None:
        return point, False
    vouched = check_sidecar(plan, identity)
    if not vouched and point.done == 0 and point.path.stat().st_size > 0:
        raise OutputError(_refusal(point.target, f"{point.path} is not empty, yet has no complete result line and "
                                                 f"no {plan.sidecar.name}"))
    return point, vouched


def find_resume_point(plan: OutputPlan) -> ResumePoint:
    """The unfinished results: ``OUT.partial`` if it exists, else ``OUT``; complete lines counted, nothing written."""
    if plan.target is None:
        raise ValueError("resuming needs an output file")
    for path in (plan.partial, plan.target):
        if path.is_file():
            done, end = _complete_lines(path)
            return ResumePoint(plan.target, path, done, end)
    return ResumePoint(plan.target, None)


def _complete_lines(path: Path) -> tuple[int, int]:
    count = end = pos = 0
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            count += block.count(b"\n")
            k = block.rfind(b"\n")
            if k >= 0:
                end = pos + k + 1
            pos += len(block)
    return count, end


def skip_done(records: Iterable[InputRecord], point: ResumePoint) -> Iterator[InputRecord]:
    """The records after the first ``point.done``, which are checked against the result lines first.

    Raises :class:`OutputError` when a result does not match its input record, or when the inputs end before
    ``point.done`` records.
    """
    it = iter(records)
    if point.path is not None and point.done:
        seen = 0
        with point.path.open(encoding="utf-8", errors="replace", newline="\n") as results:
            for seen, (line, record) in enumerate(zip(results, it), 1):
                _check_result(point.target, f"line {seen} of {point.path}", line, record)
                if seen == point.done:
                    break
        if seen < point.done:
            raise OutputError(_refusal(
                point.target, f"{point.path} has {point.done} results but the inputs have only {seen} texts"))
    yield from it


def _check_result(target: Path, where: str, line: str, record: InputRecord) -> None:
    try:
        result = json.loads(line)
    except json.JSONDecodeError:
        result = None
    if not isinstance(result, dict):
        raise OutputError(_refusal(target, f"{where} is not a result of tagger predict"))
    same_id = not (record.has_id and "id" in result) or result["id"] == record.id
    if result.get("text") != record.text or not same_id:
        given = _describe(result.get("text"), result.get("id"), "id" in result)
        raise OutputError(_refusal(target, f"{where} is the result for {given}, but input {record.where} is "
                                           f"{_describe(record.text, record.id, record.has_id)}"))


def _describe(text: object, id_: object, has_id: bool, limit: int = 40) -> str:
    shown = repr(text)
    shown = shown if len(shown) <= limit else shown[: limit - 1] + "…"
    return f"{shown} (id {id_!r})" if has_id else shown
