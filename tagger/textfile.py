"""The one place that reads the user's text as UTF-8: the check, the BOM rule and the error message.

* **BOM rule**: a UTF-8 byte-order mark at the very start of a file or stream is dropped (Excel and Notepad
  write one); one anywhere else is text. :func:`open_text`, :func:`utf8_lines` and :func:`strip_bom` apply it.
* **Streaming**: nothing here holds a whole file in memory to check it. :func:`check_utf8` reads in chunks
  through a strict incremental decoder; :func:`utf8_lines` decodes one line at a time.
* **One message** (:class:`NotUtf8`): ``FILE:LINE: not UTF-8 (byte offset N: bytes)``, then the likely encoding
  (UTF-16 by its byte-order mark; Windows-1256, common for Arabic text, when the bytes from the bad one on
  decode to Arabic letters) and the ``iconv`` command that converts the file. It is raised as the caller's
  error class (``DataError``, ``ConfigError``).
"""

from __future__ import annotations

import codecs
import hashlib
import shlex
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from tagger.errors import DataError

ENCODING = "utf-8-sig"  # UTF-8; a BOM at the start is dropped
BOM = "\ufeff"
CHUNK_BYTES = 1 << 20  # read size of check_utf8
HEAD_BYTES = 64 * 1024  # the part of a file check_utf8 hashes (an identity for ``tagger predict --resume``)
SAMPLE_BYTES = 4096  # bytes from the first bad one on that the encoding guess looks at
STDIN_NAME = "<stdin>"
_ARABIC = range(0x0600, 0x0700)

ErrorFactory = Callable[[str], Exception]  # the caller's error class, called with the message


@dataclass(frozen=True)
class NotUtf8:
    """Where a text stops being UTF-8 and what it probably is; :attr:`message` says how to convert it."""

    name: str  # the file as the user named it, or "<stdin>"
    line: int  # 1-based
    offset: int  # byte offset of the first bad byte
    bad: bytes  # up to 4 bytes from there
    guess: tuple[str, str] | None = None  # (description, iconv encoding name)
    cut: bool = False  # the text ends inside a multi-byte character

    @property
    def message(self) -> str:
        where = f"{self.name}:{self.line}: not UTF-8 (byte offset {self.offset}: {self.bad.hex(' ')})"
        if self.cut:
            return f"{where}; the file ends inside a character, so it was cut off: copy or save it again"
        stdin = self.name == STDIN_NAME
        src = "IN" if stdin else shlex.quote(self.name)
        path = Path(self.name)
        dst = "OUT" if stdin else shlex.quote(str(path.with_name(f"{path.stem}.utf8{path.suffix}")))
        use = "and pass the converted text" if stdin else f"and use {dst}"
        if self.guess is None:
            return (f"{where}; text must be UTF-8. Save it as UTF-8, or convert it: "
                    f"`iconv -f ENCODING -t utf-8 {src} > {dst}` (ENCODING: the one it was saved in), {use}")
        what, encoding = self.guess
        return (f"{where}; text must be UTF-8 and this looks like {what}. Convert it, e.g. "
                f"`iconv -f {encoding} -t utf-8 {src} > {dst}`, {use}")


def guess_encoding(first: bytes, sample: bytes) -> tuple[str, str] | None:
    """``(description, iconv name)`` of a likely encoding, or None.

    ``first``: the first bytes of the file (a UTF-16 byte-order mark there decides); ``sample``: bytes from the
    first bad one on. Windows-1256 when most non-ASCII characters they decode to in it are Arabic letters (every
    byte decodes in cp1256, so decoding alone proves nothing; Latin-1 text is not mistaken for it).
    """
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "UTF-16 (Excel's 'Unicode text')", "utf-16"
    non_ascii = [ch for ch in sample.decode("cp1256", errors="replace") if ord(ch) > 0x7F]
    arabic = sum(ord(ch) in _ARABIC for ch in non_ascii)
    if non_ascii and arabic >= 0.6 * len(non_ascii):
        return "Windows-1256 (cp1256), common for Arabic text", "cp1256"
    return None


# ---------------------------------------------------------------------------------------------- checking
def check_utf8(
    fh: BinaryIO, name: str, chunk: int = CHUNK_BYTES, error: ErrorFactory = DataError
) -> tuple[int, str]:
    """Stream ``fh`` through a strict incremental UTF-8 decoder; return (size, sha256 of the first 64 KiB).

    Reads ``chunk`` bytes at a time. A byte that is not UTF-8 raises ``error`` with :attr:`NotUtf8.message`.
    """
    size, head, bad = _scan(fh, name, chunk)
    if bad is not None:
        raise error(bad.message)
    return size, head


def find_not_utf8(path: str | Path) -> NotUtf8 | None:
    """Where ``path`` stops being UTF-8 (streamed, as :func:`check_utf8`), or None when it is UTF-8."""
    with Path(path).open("rb") as fh:
        return _scan(fh, str(path), CHUNK_BYTES)[2]


def _scan(fh: BinaryIO, name: str, chunk: int) -> tuple[int, str, NotUtf8 | None]:
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
        except UnicodeDecodeError as err:  # err.object is the pending bytes + block
            offset = pos - pending + err.start
            line = newlines + block[: max(0, offset - pos)].count(b"\n") + 1
            sample = err.object[err.start : err.start + SAMPLE_BYTES]
            sample += fh.read(max(0, SAMPLE_BYTES - len(sample))) if block else b""
            bad = err.object[err.start : err.start + 4]
            return pos, "", NotUtf8(name, line, offset, bad, guess_encoding(first, sample), cut=not block)
        if not block:
            return pos, digest.hexdigest(), None
        newlines += block.count(b"\n")
        pos += len(block)


# ---------------------------------------------------------------------------------------------- reading
@contextmanager
def open_text(path: str | Path, error: ErrorFactory, newline: str | None = None) -> Iterator[TextIO]:
    """Open ``path`` for reading as UTF-8 (BOM dropped).

    A ``UnicodeDecodeError`` raised while the block reads the file becomes ``error`` with the
    :class:`NotUtf8` message (found by a streamed re-scan; one from elsewhere, the file being valid UTF-8, is
    left alone); an unreadable file (permissions, a directory) becomes ``error`` too.
    """
    path = Path(path)
    try:
        fh = path.open(encoding=ENCODING, newline=newline)
    except OSError as err:
        raise error(f"{path}: cannot open the file ({err.strerror or err})") from None
    with fh:
        try:
            yield fh
        except UnicodeDecodeError:
            bad = find_not_utf8(path)
            if bad is None:
                raise
            raise error(bad.message) from None


def read_text(path: str | Path, error: ErrorFactory) -> str:
    """The whole file as UTF-8 text (BOM dropped); errors as in :func:`open_text`."""
    with open_text(path, error) as fh:
        return fh.read()


def utf8_lines(fh: BinaryIO, name: str, error: ErrorFactory = DataError) -> Iterator[str]:
    """The lines of a binary stream (a file, ``sys.stdin.buffer``) as UTF-8 text, read one at a time.

    Lines split on ``\\n`` only and keep it (a ``\\r`` stays in the text); a BOM at the start is dropped. A line
    that is not UTF-8 raises ``error`` with the :class:`NotUtf8` message (exact line and byte offset).
    """
    offset = 0
    first = b""
    for lineno, raw in enumerate(fh, 1):
        if lineno == 1:
            first = raw[:4]
            if raw.startswith(codecs.BOM_UTF8):
                raw, offset = raw[len(codecs.BOM_UTF8):], len(codecs.BOM_UTF8)
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            cut = err.reason == "unexpected end of data"  # only the last line can end inside a character
            sample = raw[err.start : err.start + SAMPLE_BYTES]
            bad = NotUtf8(name, lineno, offset + err.start, raw[err.start : err.start + 4],
                          guess_encoding(first, sample), cut)
            raise error(bad.message) from None
        offset += len(raw)
        yield line


def strip_bom(lines: Iterable[str]) -> Iterator[str]:
    """``lines`` with a BOM at the start of the first one dropped (for text already decoded elsewhere)."""
    it = iter(lines)
    first = next(it, None)
    if first is None:
        return
    yield first.removeprefix(BOM)
    yield from it
