"""Tar archives of ``session.files``: ``tar_stream`` builds one from a local
file or directory while it is sent; ``safe_extract`` extracts one from an
untrusted Sandbox, refusing any entry that would land outside its target.
"""
from __future__ import annotations

import logging
import os
import stat as _stat
import tarfile
from typing import Any, Iterable, Iterator, List, Tuple

from .commands import CHUNK_BYTES
from .errors import UnsafeArchiveError

log = logging.getLogger("arl")

_BLOCK = tarfile.BLOCKSIZE


def tar_stream(local: str, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """A tar (POSIX pax) of a local file (one entry, its base name) or of
    what a directory holds (names relative to it), produced as it is read:
    headers batched, file contents ``chunk_bytes`` at a time."""
    st = os.stat(local)  # the root itself may be a link: it is followed
    if _stat.S_ISDIR(st.st_mode):
        entries: Iterable[Tuple[str, str, os.stat_result]] = _walk(os.path.realpath(local), "")
    elif _stat.S_ISREG(st.st_mode):
        entries = [(local, os.path.basename(os.path.normpath(local)), st)]
    else:
        raise ValueError(f"{local} is not a regular file or a directory")
    pending = bytearray()
    for path, name, st in entries:
        info = tarfile.TarInfo(name)
        info.mode = _stat.S_IMODE(st.st_mode)
        info.mtime = int(st.st_mtime)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        if _stat.S_ISDIR(st.st_mode):
            info.type = tarfile.DIRTYPE
        elif _stat.S_ISLNK(st.st_mode):
            info.type = tarfile.SYMTYPE
            info.linkname = os.readlink(path)
        elif _stat.S_ISREG(st.st_mode):
            info.type = tarfile.REGTYPE
            info.size = st.st_size
        else:
            log.warning("upload: skipping %s: not a regular file, directory or symbolic link", path)
            continue
        pending += info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
        if info.type != tarfile.REGTYPE:
            continue
        with open(path, "rb") as f:
            left = info.size
            while left > 0:
                chunk = f.read(min(chunk_bytes, left))
                if not chunk:
                    raise OSError(f"{path} shrank while it was uploaded")
                left -= len(chunk)
                if pending:
                    yield bytes(pending)
                    pending.clear()
                yield chunk
        pending += b"\0" * (-info.size % _BLOCK)
        if len(pending) >= chunk_bytes:
            yield bytes(pending)
            pending.clear()
    pending += b"\0" * (2 * _BLOCK)  # the end of the archive
    yield bytes(pending)


def _walk(root: str, prefix: str) -> Iterator[Tuple[str, str, os.stat_result]]:
    """(path, name in the tar, lstat) of what ``root`` holds, depth first,
    by name; directories before their contents, links not followed."""
    with os.scandir(root) as it:
        entries = sorted(it, key=lambda e: e.name)
    for entry in entries:
        st = entry.stat(follow_symlinks=False)
        name = prefix + entry.name
        if _stat.S_ISDIR(st.st_mode):
            yield entry.path, name + "/", st
            yield from _walk(entry.path, name + "/")
        else:
            yield entry.path, name, st


# --- extracting a tar from a Sandbox, safely ---------------------------------------

def safe_extract(source: Any, dest: str) -> List[str]:
    """Extracts the tar read from ``source`` (a file-like object, read
    sequentially) into the directory ``dest`` (created if missing); the
    names extracted.

    Nothing lands outside ``dest``: an entry with an absolute name or a
    ``..`` element, a symbolic link whose target is absolute or leads out
    of ``dest``, a hard link to anything but a file extracted before, a
    device or a FIFO raises ``UnsafeArchiveError``; every directory on the
    way to an entry must resolve inside ``dest`` (an existing link there
    that leads out is refused too), and an existing file or link at an
    entry's name is replaced, never written through. Owners are not
    applied; setuid, setgid and sticky bits are dropped. Entries before a
    refused one stay extracted.
    """
    os.makedirs(dest, exist_ok=True)
    root = os.path.realpath(dest)
    extracted: List[str] = []
    files = set()
    dirs: List[Tuple[str, int, float]] = []
    with tarfile.open(fileobj=source, mode="r|") as archive:
        for member in archive:
            parts = _member_parts(member.name, member.name)
            if not parts:
                if member.isdir():
                    continue  # the root itself: dest's own mode stays
                raise UnsafeArchiveError(member.name, "no name")
            rel = "/".join(parts)
            files.discard(rel)  # a hard link may only name what is a file now
            if not (member.isreg() or member.isdir() or member.issym() or member.islnk()):
                raise UnsafeArchiveError(member.name, "not a regular file, a directory or a link")
            if member.issym():
                _check_symlink(root, parts, member)
            source_path = None
            if member.islnk():
                target = "/".join(_member_parts(member.linkname, member.name))
                if target not in files:
                    raise UnsafeArchiveError(member.name, f"a hard link to {member.linkname!r}, "
                                                          "not a file extracted before it")
                source_path = os.path.join(root, *target.split("/"))
                if os.path.islink(source_path) or not _inside(root, os.path.realpath(source_path)):
                    raise UnsafeArchiveError(member.name, f"a hard link to {member.linkname!r}, "
                                                          "which is no longer a file inside the directory")
            parent = _make_parents(root, parts[:-1], member.name)
            _data_filter(member, root)
            path = os.path.join(parent, parts[-1])
            mode = member.mode & 0o777
            if member.isdir():
                if os.path.islink(path) or (os.path.lexists(path) and not os.path.isdir(path)):
                    os.unlink(path)
                if not os.path.lexists(path):
                    os.mkdir(path, 0o700)
                dirs.append((path, mode, member.mtime))
            else:
                _clear(path, member.name)
                if member.isreg():
                    _write_file(archive, member, path, mode)
                    files.add(rel)
                elif member.issym():
                    os.symlink(member.linkname, path)
                else:
                    os.link(source_path, path, follow_symlinks=False)  # type: ignore[arg-type]
                    files.add(rel)
                try:
                    os.utime(path, (member.mtime, member.mtime), follow_symlinks=False)
                except (NotImplementedError, OSError):
                    pass
            extracted.append(rel)
    # Directories get their modes last: a read-only one would refuse its entries.
    for path, mode, mtime in reversed(dirs):
        os.chmod(path, mode)
        os.utime(path, (mtime, mtime))
    return extracted


def _data_filter(member: tarfile.TarInfo, root: str) -> None:
    """Python's own check where it has one (``tarfile.data_filter``:
    3.11.4+, 3.12): a second opinion on the entry. Only its verdict is used,
    not the member it rewrites (that would also drop group and other write
    bits). It refuses a little more: an entry whose name resolves outside
    through a link already in the directory, which the checks here would
    replace instead."""
    check = getattr(tarfile, "data_filter", None)
    if check is None:
        return
    try:
        check(member, root)
    except tarfile.FilterError as e:  # type: ignore[attr-defined]
        raise UnsafeArchiveError(member.name, str(e)) from None


def _member_parts(name: str, member: str) -> List[str]:
    """The elements of an entry's (or a hard link's target's) name, checked:
    relative, no ``..``, no NUL; ``.`` and empty elements dropped."""
    if "\0" in name:
        raise UnsafeArchiveError(member, "a NUL byte in a name")
    if name.startswith("/"):
        raise UnsafeArchiveError(member, f"an absolute name ({name!r})")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchiveError(member, f"a '..' element ({name!r})")
    return parts


def _inside(root: str, path: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _check_symlink(root: str, parts: List[str], member: tarfile.TarInfo) -> None:
    """A link's target must be relative and stay inside ``root``, both as
    written and as the links already there resolve it."""
    target = member.linkname
    if not target or "\0" in target:
        raise UnsafeArchiveError(member.name, "a link with no target")
    if target.startswith("/"):
        raise UnsafeArchiveError(member.name, f"a link to an absolute path ({target!r})")
    lexical = os.path.normpath(os.path.join(root, *parts[:-1], target))
    resolved = os.path.realpath(os.path.join(os.path.realpath(os.path.join(root, *parts[:-1])), target))
    if not _inside(root, lexical) or not _inside(root, resolved):
        raise UnsafeArchiveError(member.name, f"a link leading outside the directory ({target!r})")


def _make_parents(root: str, parts: List[str], member: str) -> str:
    """Creates the directories on the way to an entry, each checked to
    resolve inside ``root`` (an existing link among them may only lead
    inside); the real path of the last."""
    current = root
    for part in parts:
        path = os.path.join(current, part)
        if os.path.lexists(path):
            real = os.path.realpath(path)
            if not _inside(root, real):
                raise UnsafeArchiveError(member, f"{part!r} on its way is a link leading outside the directory")
            if not os.path.isdir(real):
                raise NotADirectoryError(f"extracting {member!r}: {path} is not a directory")
            current = real
        else:
            os.mkdir(path)
            current = path
    return current


def _clear(path: str, member: str) -> None:
    """Removes what is at ``path`` (a file or a link), so nothing is
    written through a link; a directory there is an error."""
    if os.path.islink(path) or (os.path.lexists(path) and not os.path.isdir(path)):
        os.unlink(path)
    elif os.path.lexists(path):
        raise IsADirectoryError(f"extracting {member!r}: {path} is a directory")


def _write_file(archive: tarfile.TarFile, member: tarfile.TarInfo, path: str, mode: int) -> None:
    src = archive.extractfile(member)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "wb") as out:
        if src is not None:
            while True:
                chunk = src.read(CHUNK_BYTES)
                if not chunk:
                    break
                out.write(chunk)
        os.fchmod(out.fileno(), mode)


__all__ = ["safe_extract", "tar_stream"]
