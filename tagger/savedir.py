"""Output directories that never destroy what the user owns.

* :func:`check_output_dir` runs before anything is read or written: it refuses an output path whose replacement
  would delete something that this library did not write.
* Everything is written into a staging sibling of the target, ``.NAME.KIND-PID@NODE-RANDOM`` (KIND ``tmp`` for a
  model being saved, ``work`` for a training run's scratch space, ``old`` for a replaced directory on its way
  out), and published by :func:`swap_into_place` in one atomic step.
* Staging siblings left behind by a killed process are removed by the next save to the same place
  (:func:`clean_stale_staging`): only those whose process is known to be gone on this machine (and an older
  version's, untouched for two days), so a concurrent job's are kept; no other name is ever removed.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import re
import secrets
import shutil
import socket
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from tagger.errors import OutputError

logger = logging.getLogger(__name__)

STAGING_KINDS = ("tmp", "work", "old")  # siblings that are removed once stale; "checkpoints" (kept on request) is not
STALE_AFTER_S = 48 * 3600  # for a sibling whose process cannot be checked (another machine, an older version)
BUNDLE_PARTS = ("ner", "topics")
OVERWRITE_HINT = "set `overwrite: true` in the config (or --set overwrite=true)"


def _node() -> str:
    """This machine and pid namespace, as it appears in staging names: a pid is only checked on the same node."""
    host = re.sub(r"[^A-Za-z0-9]", "_", socket.gethostname()) or "host"
    try:
        return f"{host}_{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:
        return host


_NODE = _node()
_OWNER_RE = re.compile(r"(\d+)@([A-Za-z0-9_]+)-[0-9a-f]+")
_LEGACY_RE = re.compile(r"[a-z0-9_]{8}")  # tempfile.mkdtemp's suffix, as versions before 0.2 named staging dirs


# ---------------------------------------------------------------------------------------------- checks
def is_model_dir(path: str | os.PathLike) -> bool:
    """True when ``path`` holds a ``config.json`` with a ``"tagger"`` block (a model directory this library saved)."""
    try:
        config = json.loads((Path(path) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and isinstance(config.get("tagger"), dict)


def is_bundle_dir(path: str | os.PathLike) -> bool:
    """True when ``path`` has a ``ner/`` and/or ``topics/`` model directory (a bundle this library wrote)."""
    return any(is_model_dir(Path(path) / part) for part in BUNDLE_PARTS)


def check_output_dir(
    path: str | os.PathLike,
    *,
    overwrite: bool = False,
    protect: Iterable[str | os.PathLike | None] = (),
    bundle: bool = False,
    overwrite_hint: str = OVERWRITE_HINT,
    ours: tuple[Callable[[Path], bool], str] | None = None,
) -> Path:
    """Refuse an output directory whose replacement would destroy something the user owns; return it resolved.

    Allowed: a missing path (its parents are created later), an empty directory, and a model directory saved by
    this library (``bundle=True``: a bundle with ``ner/``/``topics/`` model directories). ``overwrite=True`` also
    allows any other directory. Never allowed, not even with ``overwrite``: an existing file, a path below a
    file, and a directory that is or contains the current working directory or one of the ``protect`` paths
    (the config file, the data, the encoder: what the run reads). ``ours``: ``(test, description)`` of another
    kind of directory this library writes (e.g. an adapted encoder), replacing the model-directory test. Raises :class:`OutputError` saying why and
    what to do; nothing is written or removed here.
    """
    given = Path(path).expanduser()
    if given.is_symlink() and not given.exists():
        raise OutputError(f"{given}: is a symbolic link to nothing; remove the link or choose another output directory")
    out = given.resolve()
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a directory; give the path of a new directory for the output")
    check_parent_writable(out)
    if not out.exists():
        return out
    _check_protected(out, protect)
    try:
        with os.scandir(out) as entries:
            if next(entries, None) is None:
                return out
    except OSError as err:
        raise OutputError(f"{out}: cannot list the directory ({err.strerror or err}); choose another output directory") from None
    if ours[0](out) if ours else is_bundle_dir(out) if bundle else is_model_dir(out):
        return out
    if overwrite:
        logger.warning("%s: replacing a directory that was not written by arabic-tagger (overwrite is set)", out)
        return out
    what = ours[1] if ours else "a bundle (ner/, topics/ model directories)" if bundle else \
        'a model directory (config.json with a "tagger" block)'
    raise OutputError(
        f"{out}: the output directory exists, is not empty and is not {what} saved by arabic-tagger, so it will "
        f"not be replaced. Choose a new or empty directory, or, to replace it and everything in it, {overwrite_hint}"
    )


def check_parent_writable(
    path: Path, *, label: str | None = None, what: str = "the output directory",
    advice: str = "choose another output directory",
) -> None:
    """The nearest existing ancestor of ``path`` must be a directory this process may write in.

    Else :class:`OutputError` ``"LABEL: ..."`` (``label`` defaults to ``path``) saying that ``what`` cannot be
    created there, and ``advice``. Used for output directories here and for ``tagger predict -o FILE``.
    """
    label = str(path) if label is None else label
    for parent in path.parents:
        if not parent.exists():
            continue
        if not parent.is_dir():
            raise OutputError(f"{label}: {parent} is a file, so {what} cannot be created under it")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise OutputError(f"{label}: cannot write in {parent} (permission denied); {advice}")
        return


def _check_protected(out: Path, protect: Iterable[str | os.PathLike | None]) -> None:
    guarded: list[tuple[Path, str]] = []
    try:
        guarded.append((Path.cwd(), "the current working directory"))
    except OSError:  # the working directory was deleted
        pass
    guarded += [(Path(p).expanduser(), "an input of this run") for p in protect if p is not None and str(p)]
    for place, what in guarded:
        try:
            place = place.resolve()
        except OSError:
            continue
        if place == out or out in place.parents:
            relation = "is" if place == out else "contains"
            raise OutputError(
                f"{out}: refusing to use this output directory: it {relation} {place} ({what}), which replacing it "
                "would delete. Choose another output directory (overwrite does not change this)"
            )


# ---------------------------------------------------------------------------------------------- staging
def new_staging_dir(out: Path) -> Path:
    """An empty sibling of ``out`` (``.NAME.tmp-...``) to write into before :func:`swap_into_place`.

    Stale staging siblings of ``out`` are cleaned first; the parent directory is created if missing.
    """
    return new_sibling_dir(out, "tmp")


def new_work_dir(out: Path, keep: bool = False) -> Path:
    """A training run's scratch sibling of ``out``: ``.NAME.work-...``, or ``.NAME.checkpoints-...`` when the
    caller keeps it (those are never cleaned automatically)."""
    return new_sibling_dir(out, "checkpoints" if keep else "work")


def new_sibling_dir(out: Path, kind: str) -> Path:
    """Create ``.NAME.KIND-PID@NODE-RANDOM`` next to ``out`` (plain ``mkdir`` permissions) after cleaning stale ones."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_staging(out)
    while True:
        path = out.parent / f".{out.name}.{kind}-{os.getpid()}@{_NODE}-{secrets.token_hex(4)}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue


def clean_stale_staging(target: Path) -> list[Path]:
    """Remove the staging siblings of ``target`` that a killed process left; returns the paths handled.

    Stale means: the name carries this node and the pid of a process that no longer runs, or (a name from
    another machine or an older version) nothing in it changed for :data:`STALE_AFTER_S`. A running job's
    siblings are kept. A stale ``.NAME.old-*`` (the previous directory, parked by :func:`swap_into_place`) is
    moved back to ``target`` when ``target`` is missing, instead of being deleted.
    """
    target = Path(target)
    try:
        with os.scandir(target.parent) as it:
            entries = [e for e in it if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []
    handled: list[Path] = []
    for entry in entries:
        kind, rest = _staging_parts(target.name, entry.name)
        if kind is None:
            continue
        restore = kind == "old" and not target.exists() and not target.is_symlink()
        if not (_is_stale(Path(entry.path), rest) or (restore and _restorable(Path(entry.path), rest))):
            continue
        if restore:
            os.rename(entry.path, target)
            logger.warning("%s: restored from %s, left by an interrupted save", target, entry.name)
        else:
            shutil.rmtree(entry.path, ignore_errors=True)
            logger.info("removed %s, left by an interrupted run", entry.path)
        handled.append(Path(entry.path))
    return handled


def _staging_parts(target_name: str, name: str) -> tuple[str | None, str]:
    for kind in STAGING_KINDS:
        prefix = f".{target_name}.{kind}-"
        if name.startswith(prefix):
            return kind, name[len(prefix):]
    return None, ""


def _is_stale(path: Path, rest: str) -> bool:
    """Only names this library writes are ever stale: this node's with a dead pid, or an older version's
    ``mkdtemp`` name (8 random characters) unchanged for :data:`STALE_AFTER_S`. Another machine's (its job may
    still run, e.g. without a dev set it never writes into its work dir) and any other name are kept."""
    match = _OWNER_RE.fullmatch(rest)
    if match:
        return match[2] == _NODE and not _pid_alive(int(match[1]))
    return bool(_LEGACY_RE.fullmatch(rest)) and _idle_seconds(path) > STALE_AFTER_S


def _restorable(path: Path, rest: str) -> bool:
    """A parked previous directory (``.NAME.old-*``, any machine's) whose target is gone may be moved back once
    nothing changed in it for :data:`STALE_AFTER_S`: moving it back deletes nothing."""
    return bool(_OWNER_RE.fullmatch(rest) or _LEGACY_RE.fullmatch(rest)) and _idle_seconds(path) > STALE_AFTER_S


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` runs (on this node); True when it cannot be told."""
    if pid <= 0:
        return False
    if pid == os.getpid() or os.name != "posix":  # os.kill(pid, 0) would terminate the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it runs, as another user
        return True
    return True


def _idle_seconds(path: Path) -> float:
    """Seconds since anything in ``path`` last changed (0 when that cannot be read: not stale)."""
    try:
        newest = max([path.stat().st_mtime, *(p.lstat().st_mtime for p in path.rglob("*"))])
    except OSError:
        return 0.0
    return time.time() - newest


# ---------------------------------------------------------------------------------------------- publishing
def current_umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux ``/proc``)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def normalize_permissions(root: Path) -> None:
    """Give every file under ``root`` ``0o666 & ~umask`` and every directory ``0o777 & ~umask`` (what a plain
    ``open``/``mkdir`` gives), whatever the writers chose (safetensors writes 0600). Links are left alone."""
    umask = current_umask()
    for dirpath, _, filenames in os.walk(root):
        os.chmod(dirpath, 0o777 & ~umask)
        for name in filenames:
            file = os.path.join(dirpath, name)
            if not os.path.islink(file):
                os.chmod(file, 0o666 & ~umask)


def fsync_tree(path: Path) -> None:
    """Flush every file under ``path`` to disk (before the rename that publishes it)."""
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
    """Publish the complete directory ``new`` as ``target``; an existing ``target`` is replaced only now.

    ``new`` first gets the default permissions (:func:`normalize_permissions`). On Linux the two directories are
    exchanged in one atomic step; elsewhere the old directory is first renamed aside (``.NAME.old-*``) so that a
    crash between the two renames still leaves it on disk (the next save moves it back).
    """
    normalize_permissions(new)
    if not target.exists():
        os.rename(new, target)
        return
    if _exchange(new, target):
        shutil.rmtree(new, ignore_errors=True)
        return
    old = target.parent / f".{target.name}.old-{os.getpid()}@{_NODE}-{secrets.token_hex(4)}"
    os.rename(target, old)
    os.rename(new, target)
    shutil.rmtree(old, ignore_errors=True)
