"""Output files (`--junit-xml`, `--dot`, `--svg`): checked before any work, written whole.

`check()` refuses, before anything is computed, a path that cannot be an output: empty,
`-`, a folder, in a folder that does not exist, the same file as an input (`--cases
c.toml --junit-xml c.toml` would destroy the cases) or as another output. `write()` is
the one way an output reaches the disk: a temporary file in the same folder, then
`os.replace` (for a regular file), so a reader sees the old report or the new one, never
half of one; two runs writing one path each leave one whole file; and a run that fails
or is interrupted before it writes leaves the old file untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Mapping

from gradexplain.errors import OutputError, UsageError


def check(outputs: Mapping[str, str | None], inputs: Iterable[str] = ()) -> None:
    """Refuse unusable output paths; `outputs` maps an option (`--dot`) to its path."""
    given = {option: path for option, path in outputs.items() if path is not None}
    inputs = [path for path in inputs if _usable(path)]
    for option, path in given.items():
        if path in ("", "-"):
            raise UsageError(
                f"{option} needs a file name, not {path!r}: it writes a file, never stdout"
            )
        if not _usable(path):
            raise UsageError(
                f"{option} {path!r} cannot be a file name here (a NUL byte, or "
                f"a character the file system cannot encode)"
            )
        if os.path.isdir(path):
            raise UsageError(f"{option} {path}: is a folder, not a file")
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise UsageError(f"{option} {path}: the folder {folder} does not exist")
        for input_path in inputs:
            if _same(path, input_path):
                raise UsageError(
                    f"{option} {path} is also an input ({input_path}); writing "
                    f"it would destroy the input"
                )
    seen: dict[str, str] = {}
    for option, path in given.items():
        for other, earlier in seen.items():
            if _same(path, earlier):
                raise UsageError(f"{other} and {option} both write {path}")
        seen[option] = path


def _usable(path: str) -> bool:
    """Whether the OS can take `path` at all (no NUL; encodable, as argv always is)."""
    try:
        return b"\0" not in os.fsencode(path)
    except UnicodeEncodeError:
        return False


def _same(a: str, b: str) -> bool:
    """Whether two paths name one file (a link or `./c.toml` included)."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one does not exist (yet): compare where they would be
        return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def write(path: str, text: str, option: str) -> None:
    """Write `text` (UTF-8) to `path` atomically; a failure is an OutputError (exit 74) and
    leaves any old file as it was, with no temporary file behind. A path that exists but
    is not a plain regular file (/dev/null, a FIFO, a link such as /dev/stdout) is written
    in place: replacing it would put a plain file where the device or the link was."""
    try:
        if os.path.lexists(path) and (os.path.islink(path) or not os.path.isfile(path)):
            with open(path, "wb") as file:
                file.write(text.encode("utf-8"))
        else:
            _replace(path, text)
    except OSError as exc:
        raise OutputError(f"{option}: cannot write {path}: {exc.strerror or exc}") from None


def _replace(path: str, text: str) -> None:
    """A temporary file beside `path`, then os.replace; removed if anything fails."""
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".gradexplain-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(text.encode("utf-8"))
        os.chmod(temporary, _mode(path))
        os.replace(temporary, path)
    except BaseException:  # a full disk, or Ctrl-C: the old file stays whole
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _mode(path: str) -> int:
    """The old file's permissions, or what open() would give a new one (0o666 - umask)."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def input_paths(specs: Iterable[str]) -> list[str]:
    """The files that values and expectations read: `@path` and `NAME=@path`."""
    paths = []
    for spec in specs:
        value = spec.partition("=")[2] if "=" in spec and not spec.startswith("@") else spec
        if value.startswith("@") and len(value) > 1:
            paths.append(value[1:])
    return paths
