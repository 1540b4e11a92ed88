"""Inputs of ``tagger predict``: checked up front, then read lazily as :class:`InputRecord` objects.

Contracts:

* :func:`check_inputs` runs before the output is touched and before the model is loaded. Every file must exist,
  be a regular file, be readable and decode as UTF-8 (:func:`tagger.textfile.check_utf8`, streamed, so a big
  file is never held in memory). Stdin (``-``) cannot be checked up front; decoding errors there are reported
  when they are met, with the same message. A file that cannot be read any more when its turn comes (deleted
  since the check) is a ``DataError`` naming it.
* Formats: ``.json``/``.jsonl`` files are JSON lines (one object with a string ``"text"`` per line, blank lines
  skipped); other files hold one text per line. Stdin is JSON lines when its first non-blank line starts with
  ``{``, else text lines.
* Lines split on ``\\n`` only: a bare ``\\r`` inside a line stays in the text, the ``\\r`` of ``\\r\\n`` is
  removed. A UTF-8 BOM at the start of an input is ignored (the BOM rule of :mod:`tagger.textfile`).
* A JSON record's ``"id"`` (any JSON value) is carried on the :class:`InputRecord`; text lines have no id.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

from tagger.data.io import iter_jsonl_lines
from tagger.errors import DataError
from tagger.textfile import STDIN_NAME, check_utf8, strip_bom, utf8_lines

STDIN = "-"
JSON_SUFFIXES = (".json", ".jsonl")


@dataclass(frozen=True)
class InputFile:
    """One checked input. ``path`` is None for stdin; ``json`` is None when it must be sniffed (stdin)."""

    name: str
    path: Path | None
    json: bool | None
    size: int = 0
    head_sha256: str = ""

    def identity(self) -> dict[str, Any]:
        """What ``--resume`` compares: resolved path, size and a hash of the first 64 KiB (stdin: ``-``)."""
        if self.path is None:
            return {"path": STDIN}
        return {"path": str(self.path.resolve()), "size": self.size, "head_sha256": self.head_sha256}


@dataclass(frozen=True)
class InputRecord:
    """One text to tag; ``where`` is ``file:line``; ``id`` is meaningful only when ``has_id``."""

    text: str
    where: str
    id: Any = None
    has_id: bool = False


# ---------------------------------------------------------------------------------------------- checking
def check_inputs(names: Sequence[str]) -> list[InputFile]:
    """Check every input (cheap checks for all files first, then the UTF-8 scan); raise :class:`DataError`."""
    if list(names).count(STDIN) > 1:
        raise DataError("stdin ('-') is given more than once; it can be read only once")
    for name in names:
        if name != STDIN:
            _check_file(Path(name))
    return [_scan(name) for name in names]


def _check_file(path: Path) -> None:
    if not path.exists():
        broken = " (a broken symbolic link)" if path.is_symlink() else ""
        raise DataError(f"{path}: input file not found{broken}; check the path")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, not an input file; give the files in it, e.g. {path}/*.txt")
    if not path.is_file():
        raise DataError(f"{path}: not a regular file (a pipe or device?); pass it on stdin with '-' instead")


def _scan(name: str) -> InputFile:
    if name == STDIN:
        return InputFile(name, None, None)
    path = Path(name)
    try:
        with path.open("rb") as fh:
            size, head = check_utf8(fh, name)
    except OSError as err:
        raise DataError(f"{path}: cannot read it ({err.strerror}); check its permissions") from None
    return InputFile(name, path, path.suffix.lower() in JSON_SUFFIXES, size, head)


# ---------------------------------------------------------------------------------------------- reading
def iter_records(inputs: Iterable[InputFile]) -> Iterator[InputRecord]:
    """Every record of every input, in order, read lazily (one line at a time)."""
    for inp in inputs:
        if inp.path is None:
            yield from _stdin_records()
        else:
            yield from _records(_file_lines(inp.path, inp.name), inp.name, bool(inp.json))


def _file_lines(path: Path, name: str) -> Iterator[str]:
    """The lines of a checked input; one that became unreadable since the check is a :class:`DataError`."""
    try:
        with path.open("rb") as fh:
            yield from utf8_lines(fh, name)
    except OSError as err:
        raise DataError(f"{name}: cannot read it any more ({err.strerror or err}); it was readable when the inputs "
                        "were checked: was it moved or deleted since? Run again once it is back") from None


def _stdin_records() -> Iterator[InputRecord]:
    """Stdin as UTF-8 split on ``\\n`` only; JSON lines or text lines by its first non-blank line."""
    buffer = getattr(sys.stdin, "buffer", None)
    lines = utf8_lines(buffer, STDIN_NAME) if buffer is not None else strip_bom(sys.stdin)
    head: list[str] = []
    for line in lines:
        head.append(line)
        if line.strip():
            break
    is_json = bool(head) and head[-1].lstrip().startswith("{")
    yield from _records(chain(head, lines), STDIN_NAME, is_json)


def _records(lines: Iterable[str], name: str, is_json: bool) -> Iterator[InputRecord]:
    if is_json:
        for where, _, record in iter_jsonl_lines(lines, name):
            text = record.get("text") if isinstance(record, dict) else None
            if not isinstance(text, str):
                raise DataError(f"{where}: record has no string \"text\"; every JSON line needs {{\"text\": ...}}")
            yield InputRecord(text, where, record.get("id"), "id" in record)
        return
    for lineno, raw in enumerate(lines, 1):
        text = raw[:-1] if raw.endswith("\n") else raw
        yield InputRecord(text[:-1] if text.endswith("\r") else text, f"{name}:{lineno}")
