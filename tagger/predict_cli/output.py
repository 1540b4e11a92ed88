"""Where ``tagger predict`` writes, decided before the model is loaded, and written so nothing is lost.

Contracts:

* :func:`plan_output` refuses (``OutputError``) an output that is a directory, read-only, in a directory that
  cannot be written, or that is one of the inputs (same file also through a symlink or hard link) -- before
  anything is opened for writing. A symlinked output is written at the file it points to.
* A replacing run (no ``--resume``) writes ``OUT.partial`` next to the target and renames it over ``OUT`` only when
  every input was tagged (:class:`ReplaceSink`). On an error the partial file is removed and ``OUT`` (and its
  sidecar) are left as they were. On Ctrl-C the results so far are kept for ``--resume``: moved to ``OUT`` when
  there was no ``OUT`` before, else left in ``OUT.partial``. A killed run leaves ``OUT.partial`` behind, which
  ``--resume`` continues.
* ``--resume`` only appends (:class:`AppendSink`), after cutting off a partial last line; when it continued
  ``OUT.partial`` it renames it over ``OUT`` at the end.
* An output that is not a regular file (``/dev/null``, a pipe) is written directly (:class:`DirectSink`).
* One run per output file: a run holds an exclusive lock on ``OUT.lock`` (:func:`output_lock`) from before it
  looks for results to resume until its results are final, so two runs never interleave ``OUT.partial`` or the
  sidecar; a second run is refused with an ``OutputError``. The lock file is removed at the end.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tagger.errors import OutputError
from tagger.savedir import check_parent_writable

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock (see output_lock)
    fcntl = None  # type: ignore[assignment]

STDOUT = "-"
PARTIAL_SUFFIX = ".partial"
SIDECAR_SUFFIX = ".resume.json"
LOCK_SUFFIX = ".lock"


@dataclass(frozen=True)
class OutputPlan:
    """``target`` is the resolved output file (None: stdout); ``direct``: not a regular file, written in place."""

    target: Path | None
    direct: bool = False
    create_parent: bool = False

    @property
    def partial(self) -> Path:
        return self._beside(PARTIAL_SUFFIX)

    @property
    def sidecar(self) -> Path:
        return self._beside(SIDECAR_SUFFIX)

    @property
    def lock(self) -> Path:
        return self._beside(LOCK_SUFFIX)

    def _beside(self, suffix: str) -> Path:
        if self.target is None:
            raise ValueError("stdout has no files beside it")
        return self.target.with_name(self.target.name + suffix)


def plan_output(output: str, inputs: Sequence[str], resume: bool) -> OutputPlan:
    """Check ``-o`` against the inputs and the file system; nothing is created or opened here."""
    if output == STDOUT:
        if resume:
            raise OutputError("--resume needs -o FILE: results written to stdout cannot be continued")
        return OutputPlan(None)
    given = Path(output)
    if given.is_dir():
        raise OutputError(f"-o {output}: is a directory; give a file name, e.g. -o {given / 'results.jsonl'}")
    target = Path(os.path.realpath(given))
    if target.exists() and not target.is_file():
        if resume:
            raise OutputError(f"-o {output}: --resume needs a regular file, not a device or pipe")
        return OutputPlan(target, direct=True)
    plan = OutputPlan(target, create_parent=not target.parent.exists())
    _refuse_inputs(plan, output, inputs)
    _check_writable(plan, output)
    return plan


def _refuse_inputs(plan: OutputPlan, output: str, inputs: Sequence[str]) -> None:
    ours = [p for p in (plan.target, plan.partial, plan.sidecar, plan.lock) if p is not None and p.exists()]
    for name in inputs:
        if name == STDOUT or not Path(name).is_file():
            continue  # stdin, or a missing input that the input check reports
        for path in ours:
            if os.path.samefile(name, path):
                link = "" if Path(name).resolve() == path else " (through a link)"
                raise OutputError(f"-o {output}: is the input {name}{link}; writing it would destroy the input. "
                                  "Give another output file")


def _check_writable(plan: OutputPlan, output: str) -> None:
    assert plan.target is not None
    if plan.target.exists() and not os.access(plan.target, os.W_OK):
        raise OutputError(f"-o {output}: is read-only; make it writable or give another output file")
    check_parent_writable(plan.target, label=f"-o {output}", what="the output file", advice="give another output file")


def prepare_output(plan: OutputPlan) -> None:
    """Create the output's missing parent directories (and say so on stderr)."""
    if not plan.create_parent or plan.target is None:
        return
    try:
        plan.target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"cannot create the output directory {plan.target.parent}: {err.strerror}") from None
    print(f"tagger predict: created directory {plan.target.parent}", file=sys.stderr)


@contextmanager
def output_lock(plan: OutputPlan) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``OUT.lock`` for the block; :class:`OutputError` when another run holds it.

    The lock file is removed at the end (while still locked, and a run that locked a file removed meanwhile
    tries again, so two runs never both hold one). Nothing is locked for stdout, a device or pipe, or where the
    OS has no ``fcntl`` (Windows).
    """
    if plan.target is None or plan.direct or fcntl is None:
        yield
        return
    fd = _lock(plan.lock, plan.target)
    try:
        yield
    finally:
        if fd is not None:
            plan.lock.unlink(missing_ok=True)
            os.close(fd)


def _lock(lock: Path, target: Path) -> int | None:
    """An open, locked descriptor of ``lock``; None where the file system cannot lock (then no lock is held)."""
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as err:
            raise OutputError(f"{lock}: cannot create the lock file ({err.strerror or err}); give another -o") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OutputError(f"another tagger predict is writing {target} (it holds {lock}); wait until it has "
                              "finished, or write to another -o") from None
        except OSError:  # e.g. a network file system without locks
            os.close(fd)
            return None
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(lock))
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # the run that held it removed it just before letting go: lock the new file


# ---------------------------------------------------------------------------------------------- sinks
class Sink:
    """Receives result lines (stdout here). ``commit()`` after the last one; ``abort(interrupted)`` on an exception."""

    def __init__(self) -> None:
        self.destination = "<stdout>"
        self.written = 0

    def write(self, lines: Sequence[str]) -> None:
        sys.stdout.write("".join(lines))
        sys.stdout.flush()
        self.written += len(lines)

    def commit(self) -> None:
        """Make the results final."""

    def abort(self, interrupted: bool) -> None:
        """Clean up after an exception; ``interrupted``: Ctrl-C (keep what can be resumed)."""


class _FileSink(Sink):
    """Opens ``path`` lazily (first write or commit) with ``mode``; ``before_open`` runs just before.

    An ``OSError`` while writing (disk full, permissions) becomes an :class:`OutputError` naming the file.
    """

    def __init__(self, path: Path, mode: str, before_open: Callable[[], Any] | None = None) -> None:
        super().__init__()
        self.path, self.mode, self.before_open = path, mode, before_open
        self.destination = str(path)
        self.fh: IO[str] | None = None

    def write(self, lines: Sequence[str]) -> None:
        with _writing(self.path):
            fh = self._open()
            fh.write("".join(lines))
            fh.flush()
        self.written += len(lines)

    def _open(self) -> IO[str]:
        if self.fh is None:
            if self.before_open is not None:
                self.before_open()
            self.fh = self.path.open(self.mode, encoding="utf-8", newline="\n")
        return self.fh

    def _close(self, sync: bool = False) -> None:
        fh, self.fh = self.fh, None
        if fh is not None:
            if sync:
                fh.flush()
                os.fsync(fh.fileno())
            fh.close()

    def commit(self) -> None:
        with _writing(self.path):
            self._open()
            self._close()

    def abort(self, interrupted: bool) -> None:
        self._close()


class DirectSink(_FileSink):
    """A device or pipe given as ``-o``: written in place."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, "w")


class ReplaceSink(_FileSink):
    """Writes ``OUT.partial`` (and the sidecar) and renames it over ``OUT`` at the end; see the module contract."""

    def __init__(self, plan: OutputPlan, write_sidecar: Callable[[], None]) -> None:
        super().__init__(plan.partial, "w", self._start)
        assert plan.target is not None
        self.target, self.sidecar, self.write_sidecar = plan.target, plan.sidecar, write_sidecar
        self.destination = str(self.target)
        self.had_target = self.target.exists()
        self.started = False
        self.old_sidecar: bytes | None = None

    def _start(self) -> None:
        if self.path.exists():
            print(f"tagger predict: replacing {self.path} left by an interrupted run (--resume would have continued "
                  "it)", file=sys.stderr)
        self.old_sidecar = self.sidecar.read_bytes() if self.sidecar.is_file() else None
        self.started = True
        self.write_sidecar()

    def commit(self) -> None:
        with _writing(self.path):
            self._open()
            self._close(sync=True)
            os.replace(self.path, self.target)

    def abort(self, interrupted: bool) -> None:
        self._close()
        if not self.started or not self.path.exists():
            return  # nothing written yet, or already renamed
        if interrupted and not self.had_target:
            os.replace(self.path, self.target)
            _interrupted(self.written, self.target)
        elif interrupted:
            print(f"tagger predict: interrupted; {self.target} is unchanged, the {self.written} results so far are in "
                  f"{self.path}: run the same command with --resume to finish them", file=sys.stderr)
        else:
            self.path.unlink(missing_ok=True)
            if self.old_sidecar is None:
                self.sidecar.unlink(missing_ok=True)
            else:
                self.sidecar.write_bytes(self.old_sidecar)


class AppendSink(_FileSink):
    """``--resume``: appends to ``path`` after cutting it to ``keep`` bytes; renames it to ``target`` at the end."""

    def __init__(self, path: Path, keep: int, target: Path, write_sidecar: Callable[[], None] | None) -> None:
        super().__init__(path, "a", self._start)
        self.keep, self.target, self.write_sidecar = keep, target, write_sidecar
        self.destination = str(target)

    def _start(self) -> None:
        if self.path.is_file() and self.path.stat().st_size > self.keep:
            print(f"tagger predict: {self.path}: dropping an incomplete last line "
                  f"({self.path.stat().st_size - self.keep} bytes) before resuming", file=sys.stderr)
            os.truncate(self.path, self.keep)
        if self.write_sidecar is not None:
            self.write_sidecar()

    def commit(self) -> None:
        with _writing(self.path):
            self._open()
            self._close(sync=self.path != self.target)
            if self.path != self.target:
                os.replace(self.path, self.target)

    def abort(self, interrupted: bool) -> None:
        self._close()
        if interrupted:
            _interrupted(self.written, self.path)


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    try:
        yield
    except OSError as err:
        raise OutputError(f"{path}: cannot write the results ({err.strerror or err}); free some space, fix the "
                          "permissions or give another -o") from None


def _interrupted(written: int, path: Path) -> None:
    print(f"tagger predict: interrupted after {written} new results, kept in {path}; run the same command with "
          "--resume to finish", file=sys.stderr)
