"""Open the user's text files as UTF-8, with errors that name ``file:line`` and say how to convert.

Data and config files are UTF-8; a leading byte-order mark (Excel and Notepad write one) is skipped. A file in
another encoding raises the caller's error class (``DataError``, ``ConfigError``) naming the first line that is
not UTF-8, a guess at the real encoding (Windows-1256 is common for Arabic text) and an ``iconv`` command line.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

ENCODING = "utf-8-sig"  # UTF-8; a BOM at the start is dropped
_ARABIC = range(0x0600, 0x0700)


@contextmanager
def open_text(path: str | Path, error: type[Exception], newline: str | None = None) -> Iterator[TextIO]:
    """Open ``path`` for reading as UTF-8 (BOM skipped).

    A ``UnicodeDecodeError`` raised while the block reads the file becomes ``error`` with the message of
    :func:`decode_error_message` (one from elsewhere, the file being valid UTF-8, is left alone); an unreadable
    file (permissions, a directory) becomes ``error`` too.
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
            message = decode_error_message(path)
            if message is None:
                raise
            raise error(message) from None


def read_text(path: str | Path, error: type[Exception]) -> str:
    """The whole file as UTF-8 text (BOM skipped); errors as in :func:`open_text`."""
    with open_text(path, error) as fh:
        return fh.read()


def decode_error_message(path: str | Path) -> str | None:
    """``"FILE:LINE: ... not UTF-8 ...; convert it: iconv ..."``, or None when the file is valid UTF-8."""
    path = Path(path)
    data = path.read_bytes()
    lineno, column, byte = _first_bad_line(data)
    if byte is None:
        return None
    guess = guess_encoding(data)
    converted = path.with_name(f"{path.stem}.utf8{path.suffix}")
    where = f"{path}:{lineno}"
    what = f"byte 0x{byte:02x} at column {column}"
    if guess:
        return (
            f"{where}: the file is not UTF-8 ({what}); it looks like {guess[0]}. Convert it to UTF-8, e.g. "
            f"`iconv -f {guess[1]} -t utf-8 {path} > {converted}`, and use the converted file"
        )
    return (
        f"{where}: the file is not UTF-8 ({what}). Save it as UTF-8, or convert it with "
        f"`iconv -f ENCODING -t utf-8 {path} > {converted}`"
    )


def guess_encoding(data: bytes) -> tuple[str, str] | None:
    """``(description, iconv name)`` of a likely encoding for bytes that are not UTF-8, or None.

    UTF-16 is recognised by its byte-order mark; Windows-1256 when most non-ASCII characters it decodes to
    are Arabic letters (every byte decodes in cp1256, so decoding alone proves nothing).
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "UTF-16 (Excel's 'Unicode text')", "utf-16"
    text = data.decode("cp1256", errors="replace")
    non_ascii = [ch for ch in text if ord(ch) > 0x7F]
    arabic = sum(ord(ch) in _ARABIC for ch in non_ascii)
    if non_ascii and arabic >= 0.6 * len(non_ascii):
        return "Windows-1256 (cp1256)", "cp1256"
    return None


def _first_bad_line(data: bytes) -> tuple[int, int, int | None]:
    """``(line, column, byte)`` of the first byte that is not UTF-8 (1-based line and column)."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    for lineno, line in enumerate(data.split(b"\n"), 1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as err:
            column = len(line[: err.start].decode("utf-8")) + 1
            return lineno, column, line[err.start]
    return 0, 0, None
