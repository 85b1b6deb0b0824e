"""Atomic writes: every folder and file the package produces is written aside, then renamed into place.

A crash (or Ctrl-C) at any point leaves either the previous version or the new one, never a mix; `sha256_file`
gives the checksums the saved folders record, and `check_sha256` verifies them on load.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

__all__ = ["check_sha256", "replace_dir", "sha256_file", "staging_dir", "write_text", "written_dir", "written_file"]


def staging_dir(target: str | os.PathLike) -> Path:
    """A fresh empty folder next to `target` (same file system, so a rename can move it into place), with the
    permissions `mkdir` would give `target`."""
    target = Path(target).expanduser().absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    umask = os.umask(0)  # mkdtemp makes the folder private (0700); the folder it becomes gets mkdir's mode
    os.umask(umask)
    staging.chmod(0o777 & ~umask)
    return staging


def replace_dir(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Move folder `src` to `dst`, replacing an existing `dst`: the old folder is renamed aside, the new one renamed
    in, then the old one removed. If the second rename fails, the old folder is put back."""
    src, dst = Path(src), Path(dst).expanduser().absolute()
    if not dst.exists():
        os.replace(src, dst)
        return
    backup = Path(tempfile.mkdtemp(prefix=f".{dst.name}.old-", dir=dst.parent)) / "old"
    os.replace(dst, backup)
    try:
        os.replace(src, dst)
    except BaseException:
        os.replace(backup, dst)
        raise
    finally:
        shutil.rmtree(backup.parent, ignore_errors=True)


@contextlib.contextmanager
def written_dir(target: str | os.PathLike) -> Iterator[Path]:
    """``with written_dir(target) as staging:`` fill `staging`; on success it replaces `target`, and on any error
    it is removed, leaving `target` as it was."""
    staging = staging_dir(target)
    try:
        yield staging
        replace_dir(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # nothing left once it was moved into place


@contextlib.contextmanager
def written_file(path: str | os.PathLike) -> Iterator[Path]:
    """``with written_file(path) as temporary:`` write `temporary` (a sibling of `path`); on success it is renamed
    to `path`, and on any error it is removed, leaving `path` as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write `text` to `path` through a temporary sibling file and an atomic rename."""
    with written_file(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_sha256(
    folder: str | os.PathLike, checksums: Mapping[str, str], listing: str, what: str, remedy: str = ""
) -> None:
    """Each file named in `checksums` is in `folder` and has that SHA-256, else a `FileNotFoundError` /
    `ValueError` naming the file, `listing` (where the checksums are recorded), `what` the folder is and `remedy`."""
    hint = f"; {remedy}" if remedy else ""
    for name, expected in checksums.items():
        path = Path(folder) / name
        if not path.is_file():
            raise FileNotFoundError(f"{what} {folder} is missing {name}{hint}")
        if sha256_file(path) != expected:
            raise ValueError(
                f"{path} does not match its checksum in {listing}: {what} is corrupted or truncated{hint}"
            )
