"""Publishing an output directory or file whole: write it under a temporary sibling name, then
rename. Every command that replaces what it wrote goes through here.

    with atomic.staged_directory(out, "clustersim run", RUN_FILES, overwrite) as tmp:
        ...write files into tmp...
    # published as `out` only if the block ended without an exception

Rules (the developers' guide: never lose data, never delete what the command did not write):
- `out` is checked before any work: a valid directory name, not the current directory, not a
  file, and if it exists it must be empty or hold a previous output of the same command
  (its manifest.json says `"output_of": command` and it holds only that command's files); even
  then it is replaced only with `overwrite`. Anything else is a UsageError (exit 2).
- The temporary directory `.NAME.tmp-PID` is created at once (so an unwritable place fails
  before a simulation starts) and gets MARKER first, so a later run can tell its own leftovers
  from anybody else's.
- Replacing keeps the old directory until the new one is complete: old aside, new in, old gone.
- On any exception (including Ctrl-C and SIGTERM) the temporary directory and any parent
  directories created for it are removed; nothing of the user's is touched.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import sys
from pathlib import Path

from sim.errors import MachineFault, UsageError

MARKER = ".clustersim-staging"  # first file in every temporary directory: JSON pid + command
MANIFEST = "manifest.json"
# the kernel's limit for one path component (bytes); a longer name fails only at mkdir
NAME_MAX = 255
_TEMP = re.compile(r"^\.(?P<name>.+)\.tmp-(?P<pid>\d+)$")
_OLD = re.compile(r"^\.(?P<name>.+)\.old-(?P<pid>\d+)$")
# errors of the machine rather than of the user's choice of path (exit status 4)
MACHINE_ERRNOS = frozenset({errno.ENOSPC, errno.EIO, errno.EROFS, errno.EDQUOT, errno.EFBIG,
                            errno.ENOMEM, errno.EMFILE, errno.ENFILE})


def temp_name(out: Path, pid: int | None = None) -> Path:
    return out.with_name(f".{out.name}.tmp-{os.getpid() if pid is None else pid}")


def _aside_name(out: Path) -> Path:
    return out.with_name(f".{out.name}.old-{os.getpid()}")


def _describe(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _entries(path: Path) -> list[str]:
    return sorted(p.name + ("/" if p.is_dir() else "") for p in path.iterdir())


def output_of(path: Path) -> str | None:
    """The command that wrote the output directory `path`, from its manifest.json."""
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict):
        return None
    argv = manifest.get("command")
    if "output_of" not in manifest and isinstance(argv, list) and argv[1:2] == ["run"]:
        return "clustersim run"  # written before `output_of` existed, e.g. an old runs/baseline
    return manifest.get("output_of")


def check_name(out: Path, option: str = "--out") -> Path:
    """`out` as an absolute path (symlinks kept) if it can name a new directory."""
    shown = str(out)
    if "\0" in shown or any(ord(c) < 32 for c in shown):
        raise UsageError(f"{option} {shown!r}: not a valid directory name (control character)")
    path = Path(os.path.abspath(out))
    if path.name in ("", ".", ".."):
        raise UsageError(f"{option} {shown}: not a directory name the output can be given")
    if len(os.fsencode(path.name)) > NAME_MAX - len(".tmp-4194304") - 1:
        raise UsageError(f"{option} {shown}: directory name longer than {NAME_MAX} bytes "
                         "(with its temporary suffix)")
    cwd = Path.cwd().resolve()
    if path.exists() and (path.resolve() == cwd or path.resolve() in cwd.parents):
        raise UsageError(f"{option} {shown}: is the current directory or contains it; "
                         "name a new directory, e.g. runs/NAME")
    return path


def check_target(out: Path, command: str, files: frozenset[str], overwrite: bool,
                 option: str = "--out") -> Path:
    """Refuse (UsageError) an `out` the command may not create or replace; returns it absolute."""
    shown = str(out)
    path = check_name(out, option)
    if path.is_symlink():
        raise UsageError(f"{option} {shown}: is a symbolic link; name the directory itself")
    if not path.exists():
        for parent in path.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise UsageError(f"{option} {shown}: {parent} is a file, not a directory")
                break
        return path
    if not path.is_dir():
        raise UsageError(f"{option} {shown}: is an existing file, not a directory; "
                         "nothing was written")
    entries = _entries(path)
    if not entries:
        if not overwrite:
            raise UsageError(f"{option} {shown}: the directory exists (empty); pass --overwrite "
                             "to write into it, or name a new one")
        return path
    writer = output_of(path)
    strangers = [e for e in entries if e.rstrip("/") not in files]
    if writer != command or strangers:
        n = len(entries)
        what = (f"files {command} does not write ({_describe(strangers)})" if writer == command
                else f"{n} {'entry' if n == 1 else 'entries'} not written by {command} "
                     f"({_describe(entries)})")
        raise UsageError(f"{option} {shown}: the directory holds {what}; it is left as it is: "
                         "name a new directory")
    if not overwrite:
        raise UsageError(f"{option} {shown}: holds an earlier output of {command}; pass "
                         "--overwrite to replace it, or name a new directory")
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def sweep_stale(parent: Path, say=None) -> list[Path]:
    """Remove the temporary directories in `parent` that a dead clustersim process left
    (recognised by MARKER and the PID in name and marker); report and leave the others."""
    say = say or (lambda msg: print(msg, file=sys.stderr))
    removed = []
    try:
        candidates = sorted(parent.iterdir())
    except OSError:
        return removed
    for path in candidates:
        temp, aside = _TEMP.match(path.name), _OLD.match(path.name)
        match = temp or aside
        if not match or not path.is_dir() or path.is_symlink():
            continue
        pid = int(match["pid"])
        if pid == os.getpid() or _alive(pid):
            continue
        if aside:  # a previous output set aside by a replacement that never finished
            say(f"note: {path} is a previous output set aside by process {pid}, which is gone; "
                "left as it is (rename it back or remove it)")
            continue
        try:
            mark = json.loads((path / MARKER).read_text(encoding="utf-8"))
            ours = isinstance(mark, dict) and mark.get("pid") == pid
        except (OSError, ValueError):
            ours = False
        if not ours:
            say(f"note: {path} looks like a temporary folder of process {pid} (gone) but has no "
                f"{MARKER} marker: not clustersim's, left as it is")
            continue
        shutil.rmtree(path)
        removed.append(path)
        say(f"removed {path}: temporary folder of {mark.get('output_of', 'clustersim')} "
            f"(process {pid}, which is gone)")
    return removed


def _make_parents(path: Path) -> list[Path]:
    """mkdir -p of path's parents; returns the ones created, deepest first."""
    created = []
    for parent in reversed(path.parents):
        if not parent.exists():
            parent.mkdir()
            created.append(parent)
    return created[::-1]


def _publish(tmp: Path, out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        aside = _aside_name(out)
        out.rename(aside)
        try:
            tmp.rename(out)
        except BaseException:
            aside.rename(out)
            raise
        shutil.rmtree(aside)
    else:
        tmp.rename(out)  # over an empty directory too (POSIX rename)


def as_machine_fault(exc: OSError, doing: str) -> MachineFault:
    where = exc.filename or ""
    return MachineFault(exc.errno, f"{doing} {where}: {exc.strerror or exc}; nothing was published")


def _open_stage(path: Path, command: str, say=None) -> tuple[Path, list[Path]]:
    """Create the temporary directory beside `path`, MARKER first; returns it and the parent
    directories created for it. On an OSError nothing of it is left."""
    created: list[Path] = []
    tmp = temp_name(path)
    try:
        created = _make_parents(path)
        sweep_stale(path.parent, say)
        tmp.mkdir()
        mark = json.dumps({"pid": os.getpid(), "output_of": command})
        (tmp / MARKER).write_text(mark + "\n", encoding="utf-8")
    except BaseException:  # SIGTERM/Ctrl-C too: the marker exists as soon as it is opened
        _discard(tmp, created)
        raise
    return tmp, created


def _discard(tmp: Path, created: list[Path]) -> None:
    shutil.rmtree(tmp, ignore_errors=True)
    _remove_empty(created)


@contextlib.contextmanager
def staged_directory(out: Path, command: str, files: frozenset[str], overwrite: bool = False,
                     option: str = "--out", say=None):
    """Yield a fresh temporary directory beside `out`, published as `out` when the block ends
    without an exception (see the module docstring for the rules)."""
    path = check_target(out, command, files, overwrite, option)
    try:
        tmp, created = _open_stage(path, command, say)
    except OSError as exc:
        if exc.errno in MACHINE_ERRNOS - {errno.EROFS}:
            raise as_machine_fault(exc, "cannot create") from exc
        raise UsageError(f"{option} {out}: cannot create {exc.filename or temp_name(path)}: "
                         f"{exc.strerror or exc}; nothing was written") from exc
    try:
        try:
            yield tmp
        except MachineFault:
            raise
        except OSError as exc:  # the work inside the block writes into tmp
            raise as_machine_fault(exc, "cannot write") from exc
        check_target(out, command, files, overwrite, option)  # still true after the work?
        (tmp / MARKER).unlink()
        try:
            _publish(tmp, path)
        except OSError as exc:
            raise as_machine_fault(exc, "cannot publish") from exc
    except BaseException:
        _discard(tmp, created)
        raise


@contextlib.contextmanager
def replaced_directory(path: Path, command: str, say=None):
    """Yield a fresh temporary directory beside `path`, published as `path` (replacing what was
    there, whole) when the block ends without an exception; on any exception only the
    temporary directory goes. For a directory the command owns by its place (a sweep's
    report/, validate-model's figures after its check); a user's --out goes through
    staged_directory. OSErrors propagate, for the caller to word."""
    path = Path(os.path.abspath(path))
    tmp, created = _open_stage(path, command, say)
    try:
        yield tmp
        (tmp / MARKER).unlink()
        _publish(tmp, path)
    except BaseException:
        _discard(tmp, created)
        raise


@contextlib.contextmanager
def staged_file(path: Path, mode: str = "w"):
    """Yield a file open on a temporary name beside `path`; when the block ends without an
    exception it is flushed to disk and renamed to `path`, so a reader sees the old file or
    the new one, whole. On any exception the temporary file goes and `path` is as it was."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, mode, **({"encoding": "utf-8"} if "b" not in mode else {})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())  # the rename must not outlive the data on a power cut
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    """Replace the text file `path` whole (staged_file)."""
    with staged_file(path) as fh:
        fh.write(text)


def _remove_empty(dirs: list[Path]) -> None:
    for d in dirs:
        with contextlib.suppress(OSError):
            d.rmdir()
