"""``session.files``: a Sandbox's files through ``sandboxes/{name}/files``
and ``sandboxes/{name}/archive``, without Tasks.

Paths in the Sandbox are absolute, or relative to its workspace; a ``..``
element is refused (``InvalidError``). Contents travel as they are read:
``write`` sends a file-like object chunk by chunk, ``read_into`` writes the
answer chunk by chunk, ``upload`` builds its tar while it is sent and
``download`` extracts the tar while it arrives, so none of them holds a whole
file or tree in memory.

The Sandbox is not trusted: ``download`` refuses (``UnsafeArchiveError``)
an entry that would land outside the local directory (an absolute name, a
``..`` element, a symbolic or hard link leading out, a write through a link)
or that is not a regular file, a directory or a link (a device, a FIFO).
"""

from __future__ import annotations

import json
import logging
import os
from typing import IO, Any, Callable, Dict, List, Optional, Tuple, Union

from .client import ArlClient
from .commands import CHUNK_BYTES, request_body
from .errors import ApiError, SandboxFileNotFoundError, wrap_file_exception
from .archives import safe_extract, tar_stream
from .types import FileInfo

log = logging.getLogger("arl")

#: What ``write`` takes: bytes, text (UTF-8) or a file-like object.
Data = Union[bytes, bytearray, memoryview, str, IO[bytes], IO[str]]


class FileListing(List[FileInfo]):
    """The entries ``list`` found (sorted by path); ``truncated`` says the
    agent stopped at its limit (10,000 entries)."""

    truncated: bool = False


class SandboxFiles:
    """The files of one Sandbox (``session.files``)."""

    def __init__(self, client: ArlClient, namespace: str, sandbox: Callable[[], str]):
        self._client = client
        self.namespace = namespace
        self._sandbox = sandbox

    # --- transport ------------------------------------------------------------

    def _path(self, subresource: str = "files") -> str:
        return self._client.path(self.namespace, "sandboxes", self._sandbox(), subresource)

    def _request(self, method: str, path: str, query: List[Tuple[str, str]], *, subresource: str = "files",
                 body: Any = None, headers: Optional[Dict[str, str]] = None) -> Any:
        """The streamed response; refusals as typed errors about ``path``."""
        url = self._path(subresource)
        try:
            return self._client.request(method, url, [("path", path)] + query, body=body, headers=headers)
        except ApiError as e:
            raise wrap_file_exception(e, path) from None

    def _json(self, method: str, path: str, query: List[Tuple[str, str]], *, body: Any = None,
              headers: Optional[Dict[str, str]] = None, subresource: str = "files") -> Dict[str, Any]:
        response = self._request(method, path, query, body=body, headers=headers, subresource=subresource)
        try:
            data = response.data
        finally:
            response.release_conn()
        return json.loads(data) if data else {}

    # --- reading ----------------------------------------------------------------

    def read(self, path: str, *, offset: int = 0, length: Optional[int] = None) -> bytes:
        """The file's bytes (from ``offset``, at most ``length`` of them)."""
        chunks: List[bytes] = []
        self._read(path, offset, length, chunks.append)
        return b"".join(chunks)

    def read_text(self, path: str, encoding: str = "utf-8", errors: str = "strict") -> str:
        """The file's content as text."""
        return self.read(path).decode(encoding, errors)

    def read_into(self, path: str, dst: IO[bytes], *, offset: int = 0, length: Optional[int] = None) -> int:
        """Writes the file's bytes to the file-like ``dst`` as they arrive;
        how many were written."""
        return self._read(path, offset, length, dst.write)

    def _read(self, path: str, offset: int, length: Optional[int], sink: Callable[[bytes], Any]) -> int:
        query: List[Tuple[str, str]] = []
        if offset:
            query.append(("offset", str(int(offset))))
        if length is not None:
            if length <= 0:
                return 0
            query.append(("length", str(int(length))))
        response = self._request("GET", path, query, headers={"Accept": "application/octet-stream, */*"})
        total = 0
        try:
            for chunk in response.stream(CHUNK_BYTES, decode_content=True):
                sink(chunk)
                total += len(chunk)
        finally:
            response.release_conn()
        return total

    def stat(self, path: str) -> FileInfo:
        """What the path is (a link is described, not followed):
        ``{"path", "type", "size", "mode", "modTime", "linkTarget"}``."""
        return self._json("GET", path, [("view", "stat")])["items"][0]

    def exists(self, path: str) -> bool:
        """Whether the path exists (a dangling link does)."""
        try:
            self.stat(path)
        except SandboxFileNotFoundError:
            return False
        return True

    def list(self, path: str = ".", depth: int = 1) -> FileListing:
        """The entries under a directory, ``depth`` levels down (1: its
        children), sorted by path; ``.truncated`` when the agent stopped at
        its limit."""
        answer = self._json("GET", path, [("view", "list"), ("depth", str(int(depth)))])
        listing = FileListing(answer.get("items") or [])
        listing.truncated = bool(answer.get("truncated"))
        return listing

    # --- writing ----------------------------------------------------------------

    def write(self, path: str, data: Data, mode: Optional[int] = None, parents: bool = False) -> FileInfo:
        """Writes the file atomically (the old content stays until the new
        one is complete). ``data`` is bytes, text (UTF-8) or a file-like
        object, sent as it is read. ``mode`` (``0o755``): the file's
        permission bits (default: 0644 for a new file, an existing one's
        kept). ``parents`` creates missing directories."""
        query = self._mode_parents(mode, parents)
        answer = self._json("PUT", path, query, body=request_body(data),
                            headers={"Content-Type": "application/octet-stream"})
        return answer["items"][0]

    def mkdir(self, path: str, mode: Optional[int] = None, parents: bool = False) -> FileInfo:
        """Makes a directory (``ConflictError`` if the path exists, unless
        ``parents``, which also makes the missing ones above it)."""
        return self._json("POST", path, self._mode_parents(mode, parents))["items"][0]

    def remove(self, path: str, recursive: bool = False) -> None:
        """Removes a file, a link or an empty directory; with ``recursive``
        a directory and everything in it."""
        self._json("DELETE", path, [("recursive", "true")] if recursive else [])

    @staticmethod
    def _mode_parents(mode: Optional[int], parents: bool) -> List[Tuple[str, str]]:
        query: List[Tuple[str, str]] = []
        if mode is not None:
            query.append(("mode", str(int(mode))))
        if parents:
            query.append(("parents", "true"))
        return query

    # --- trees --------------------------------------------------------------------

    def upload(self, local_path: Union[str, "os.PathLike[str]"], remote_dir: str) -> str:
        """Copies a local file or directory into the directory ``remote_dir``
        (created if missing): a file keeps its name, a directory's contents
        land in ``remote_dir``. Regular files, directories and symbolic
        links travel with their permission bits and modification times
        (links as links, never followed); other entries are skipped with a
        warning. The tar is built while it is sent. Returns the server's
        message ("extracted N entries ...")."""
        local = os.fspath(local_path)
        body = tar_stream(local)
        answer = self._json("PUT", remote_dir, [], subresource="archive", body=body,
                            headers={"Content-Type": "application/x-tar"})
        return str(answer.get("message", ""))

    def download(self, remote_path: str, local_dir: Union[str, "os.PathLike[str]"]) -> List[str]:
        """Copies a file or directory of the Sandbox into the local directory
        ``local_dir`` (created if missing): a file keeps its name, a
        directory's contents land in ``local_dir``. The names extracted.
        The tar is extracted as it arrives, safely (see ``safe_extract``)."""
        response = self._request("GET", remote_path, [], subresource="archive",
                                 headers={"Accept": "application/x-tar, */*"})
        try:
            return safe_extract(response, os.fspath(local_dir))
        finally:
            response.close()
            response.release_conn()


__all__ = ["SandboxFiles", "FileListing", "safe_extract", "tar_stream"]
