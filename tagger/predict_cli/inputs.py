"""Inputs of ``tagger predict``: checked up front, then read lazily as :class:`InputRecord` objects.

Contracts:

* :func:`check_inputs` runs before the output is touched and before the model is loaded. Every file must exist,
  be a regular file, be readable and decode as UTF-8 (streamed in chunks with an incremental decoder, so a big
  file is never held in memory). Stdin (``-``) cannot be checked up front; decoding errors there are reported
  when they are met.
* Formats: ``.json``/``.jsonl`` files are JSON lines (one object with a string ``"text"`` per line, blank lines
  skipped); other files hold one text per line. Stdin is JSON lines when its first non-blank line starts with
  ``{``, else text lines.
* Lines split on ``\\n`` only: a bare ``\\r`` inside a line stays in the text, the ``\\r`` of ``\\r\\n`` is
  removed. A UTF-8 BOM at the start of an input is ignored.
* A JSON record's ``"id"`` (any JSON value) is carried on the :class:`InputRecord`; text lines have no id.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import shlex
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

from tagger.errors import DataError
from tagger.io import iter_jsonl_lines

STDIN = "-"
JSON_SUFFIXES = (".json", ".jsonl")
HEAD_BYTES = 64 * 1024  # the part of a file hashed into its identity (see InputFile.identity)
CHUNK_BYTES = 1 << 20  # read size of the UTF-8 check
BOM = "\ufeff"


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


def check_utf8(fh: io.RawIOBase | io.BufferedIOBase, name: str, chunk: int = CHUNK_BYTES) -> tuple[int, str]:
    """Stream ``fh`` through a strict incremental UTF-8 decoder; return (size, sha256 of the first 64 KiB).

    Raises :class:`DataError` naming ``name:line``, the byte offset and how to convert the file.
    """
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    digest = hashlib.sha256()
    pos = newlines = 0
    first = b""
    while True:
        block = fh.read(chunk)
        if pos < HEAD_BYTES:
            digest.update(block[: HEAD_BYTES - pos])
            first = first or block[:4]
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(block, final=not block)
        except UnicodeDecodeError as err:
            offset = pos - pending + err.start
            line = newlines + block[: max(0, offset - pos)].count(b"\n") + 1
            raise DataError(_not_utf8(name, line, offset, err.object[err.start : err.start + 4], first)) from None
        if not block:
            return pos, digest.hexdigest()
        newlines += block.count(b"\n")
        pos += len(block)


def _not_utf8(name: str, line: int, offset: int, bad: bytes, first: bytes) -> str:
    path = Path(name)
    converted = shlex.quote(str(path.with_name(f"{path.stem}.utf8{path.suffix}")))
    source = "utf-16" if first[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else "cp1256"
    why = ("it starts with a UTF-16 byte-order mark" if source == "utf-16"
           else "Arabic text saved as Windows-1256, cp1256, is common")
    return (
        f"{name}:{line}: not UTF-8 (byte offset {offset}: {bad.hex(' ')}); inputs must be UTF-8 ({why}). "
        f"Convert it, e.g. `iconv -f {source} -t utf-8 {shlex.quote(name)} > {converted}`, and pass {converted}"
    )


# ---------------------------------------------------------------------------------------------- reading
def iter_records(inputs: Iterable[InputFile]) -> Iterator[InputRecord]:
    """Every record of every input, in order, read lazily (one line at a time)."""
    for inp in inputs:
        if inp.path is None:
            yield from _stdin_records()
        else:
            with inp.path.open(encoding="utf-8", newline="\n") as fh:
                yield from _records(_without_bom(_decoded(fh, inp.name)), inp.name, bool(inp.json))


def _stdin_records() -> Iterator[InputRecord]:
    """Stdin as UTF-8 split on ``\\n`` only; JSON lines or text lines by its first non-blank line."""
    buffer = getattr(sys.stdin, "buffer", None)
    stream = io.TextIOWrapper(buffer, encoding="utf-8", newline="\n") if buffer is not None else sys.stdin
    try:
        lines = _without_bom(_decoded(stream, "<stdin>"))
        head: list[str] = []
        for line in lines:
            head.append(line)
            if line.strip():
                break
        is_json = bool(head) and head[-1].lstrip().startswith("{")
        yield from _records(chain(head, lines), "<stdin>", is_json)
    finally:
        if stream is not sys.stdin:
            stream.detach()  # leave sys.stdin.buffer open for whoever owns it


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


def _without_bom(lines: Iterable[str]) -> Iterator[str]:
    it = iter(lines)
    first = next(it, None)
    if first is None:
        return
    yield first[1:] if first.startswith(BOM) else first
    yield from it


def _decoded(lines: Iterable[str], name: str) -> Iterator[str]:
    """``lines`` with a decoding error (stdin, or a file changed since the check) turned into a DataError."""
    n = 0
    try:
        for line in lines:
            n += 1
            yield line
    except UnicodeDecodeError as err:
        raise DataError(
            f"{name}: not UTF-8 at or after line {n + 1} ({err.reason}); inputs must be UTF-8. Arabic text saved as "
            "Windows-1256 is common: convert it with `iconv -f cp1256 -t utf-8 IN > OUT`"
        ) from None
