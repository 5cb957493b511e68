"""``session.files``: sandboxes/{name}/files and /archive on real sandboxes,
and the extractor that keeps a hostile sandbox's archive inside its
directory (unit tests with crafted tars at the end)."""

import asyncio
import hashlib
import io
import os
import stat
import tarfile

import pytest

from arl import (AsyncSandboxSession, ConflictError, InvalidError, NotFoundError, SandboxFileNotFoundError,
                 SandboxSession, UnsafeArchiveError)
from arl.files import safe_extract, tar_stream
from conftest import POOL

MIB = 1 << 20


@pytest.fixture(scope="module")
def session(namespace, api_client):
    with SandboxSession(POOL, namespace, api_client=api_client) as s:
        yield s


def test_write_read_stat_list_remove_mkdir(session):
    files = session.files
    written = files.write("notes/a.txt", "h\u00e9llo\n", parents=True)
    assert written["path"] == "/workspace/notes/a.txt" and written["type"] == "File" and written["size"] == 7
    assert files.read("/workspace/notes/a.txt") == "h\u00e9llo\n".encode()
    assert files.read_text("notes/a.txt") == "h\u00e9llo\n"
    assert files.read("notes/a.txt", offset=1, length=3) == "h\u00e9llo".encode()[1:4]
    # The Task-less write is what a command sees, and the other way round.
    assert session.run(["cat", "/workspace/notes/a.txt"]).stdout == "h\u00e9llo\n"
    session.run("printf 'from run' > /workspace/notes/b.bin")
    assert files.read("notes/b.bin") == b"from run"

    # Overwriting is atomic and replaces the content; bytes stay bytes.
    files.write("notes/a.txt", b"\x00\xffnew")
    assert files.read("notes/a.txt") == b"\x00\xffnew"
    info = files.stat("notes/a.txt")
    assert info["type"] == "File" and info["size"] == 5 and info["mode"] == 0o644 and info["modTime"]

    made = files.mkdir("notes/sub")
    assert made["type"] == "Directory" and made["path"] == "/workspace/notes/sub"
    files.mkdir("deep/er/still", parents=True)
    assert files.stat("deep/er")["type"] == "Directory"
    session.run("ln -s a.txt /workspace/notes/link")

    listing = files.list("notes")
    assert [(f["path"], f["type"]) for f in listing] == [
        ("/workspace/notes/a.txt", "File"), ("/workspace/notes/b.bin", "File"),
        ("/workspace/notes/link", "Symlink"), ("/workspace/notes/sub", "Directory")]
    assert listing.truncated is False
    assert [f for f in listing if f["type"] == "Symlink"][0]["linkTarget"] == "a.txt"
    assert files.stat("notes/link")["type"] == "Symlink"  # described, not followed
    assert files.exists("notes/sub") and not files.exists("notes/nope")

    files.remove("notes/b.bin")
    files.remove("notes/sub")
    assert [f["path"] for f in files.list("notes")] == ["/workspace/notes/a.txt", "/workspace/notes/link"]
    files.remove("deep", recursive=True)
    assert not files.exists("deep")


def test_modes_and_list_depth(session):
    files = session.files
    assert files.write("modes/run.sh", "#!/bin/sh\n", mode=0o755, parents=True)["mode"] == 0o755
    assert files.stat("modes/run.sh")["mode"] == 0o755
    assert files.mkdir("modes/private", mode=0o700)["mode"] == 0o700
    files.write("modes/private/x", b"x")
    assert [f["path"] for f in files.list("modes", depth=2)] == [
        "/workspace/modes/private", "/workspace/modes/private/x", "/workspace/modes/run.sh"]


def test_twenty_mib_round_trip_through_file_objects(session, tmp_path):
    data = os.urandom(20 * MIB)
    digest = hashlib.sha256(data).hexdigest()
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    with open(src, "rb") as f:  # sent chunk by chunk as it is read
        info = session.files.write("big/big.bin", f, parents=True)
    assert info["size"] == len(data)
    assert session.run(["sha256sum", "/workspace/big/big.bin"]).stdout.split()[0] == digest

    out = io.BytesIO()
    assert session.files.read_into("big/big.bin", out) == len(data)
    assert hashlib.sha256(out.getvalue()).hexdigest() == digest
    assert hashlib.sha256(session.files.read("big/big.bin")).hexdigest() == digest
    assert session.files.read("big/big.bin", offset=len(data) - 10) == data[-10:]
    session.files.remove("big", recursive=True)


def make_tree(root):
    """Files with their own modes and times, an empty directory, links in and out of directories."""
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "a.txt").write_text("a\n")
    (root / "sub" / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (root / "sub" / "deeper" / "x.bin").write_bytes(os.urandom(300_000))
    (root / "name with spaces \u00e9").write_text("unicode\n")
    (root / ("long-" + "n" * 120)).write_text("a name longer than ustar's 100 bytes\n")
    os.symlink("sub/run.sh", root / "link")
    os.symlink("../a.txt", root / "sub" / "up")
    os.chmod(root / "a.txt", 0o600)
    os.chmod(root / "sub" / "run.sh", 0o755)
    os.chmod(root / "sub", 0o750)
    for p in sorted(root.rglob("*"), reverse=True):
        os.utime(p, (1_000_000_000, 1_000_000_000), follow_symlinks=False)


def snapshot(root):
    """What a tree holds: per path, its type, mode, mtime and content or link target."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            rel = os.path.relpath(path, root)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode), int(st.st_mtime))
            else:
                with open(path, "rb") as f:
                    out[rel] = ("file", stat.S_IMODE(st.st_mode), int(st.st_mtime), hashlib.sha256(f.read()).digest())
    return out


def test_upload_a_tree_and_download_it_back_equal(session, tmp_path):
    src, back = tmp_path / "src", tmp_path / "back"
    src.mkdir()
    make_tree(src)
    message = session.files.upload(src, "/workspace/tree")
    assert "extracted" in message
    listed = {f["path"]: f for f in session.files.list("tree")}
    assert listed["/workspace/tree/link"]["linkTarget"] == "sub/run.sh"
    assert listed["/workspace/tree/a.txt"]["mode"] == 0o600
    assert session.run(["sh", "/workspace/tree/link"]).stdout == "hi\n"

    names = session.files.download("/workspace/tree", back)
    assert "sub/deeper/x.bin" in names and "link" in names
    assert snapshot(back) == snapshot(src)

    # A single file keeps its name, in the remote directory and locally.
    session.files.upload(src / "a.txt", "single")
    assert session.files.read_text("single/a.txt") == "a\n"
    assert session.files.download("single/a.txt", tmp_path / "one") == ["a.txt"]
    assert (tmp_path / "one" / "a.txt").read_text() == "a\n"
    assert stat.S_IMODE(os.stat(tmp_path / "one" / "a.txt").st_mode) == 0o600
    session.files.remove("tree", recursive=True)


def test_download_of_a_hostile_tree_writes_nothing_outside(session, tmp_path):
    """The sandbox holds a link to /etc: an extractor that followed it would
    write there. It is refused, and nothing appears outside the directory."""
    session.run("mkdir -p /workspace/evil/x && echo before > /workspace/evil/a && "
                "ln -s /etc /workspace/evil/link && ln -s ../../../.. /workspace/evil/x/up")
    dest = tmp_path / "dest"
    before = set(os.listdir(tmp_path))
    with pytest.raises(UnsafeArchiveError) as info:
        session.files.download("/workspace/evil", dest)
    assert "link" in str(info.value) or "up" in str(info.value)
    assert set(os.listdir(tmp_path)) == before | {"dest"}
    for dirpath, _, filenames in os.walk(dest):
        for name in filenames:
            assert not os.path.islink(os.path.join(dirpath, name))
    session.files.remove("evil", recursive=True)


def test_file_errors_follow_the_contract(session, tmp_path):
    files = session.files
    with pytest.raises(SandboxFileNotFoundError) as missing:
        files.read("no/such/file")
    err = missing.value
    assert isinstance(err, NotFoundError) and isinstance(err, FileNotFoundError) and isinstance(err, LookupError)
    assert err.status == 404 and err.filename == "no/such/file"
    for call in (lambda: files.stat("nope"), lambda: files.remove("nope"), lambda: files.list("nope"),
                 lambda: files.download("nope", tmp_path / "d"), lambda: files.write("nope/x", b"x")):
        with pytest.raises(SandboxFileNotFoundError):
            call()

    for call in (lambda: files.read("../etc/passwd"), lambda: files.write("a/../../x", b"x"),
                 lambda: files.upload(tmp_path, "../x"), lambda: files.mkdir("..")):
        with pytest.raises(InvalidError) as invalid:
            call()
        assert invalid.value.status == 422 and invalid.value.fields == ["path"]

    files.write("conflict/f", b"x", parents=True)
    with pytest.raises(ConflictError):
        files.mkdir("conflict/f")  # exists
    with pytest.raises(ConflictError):
        files.remove("conflict")  # not empty
    with pytest.raises(ConflictError):
        files.read("conflict")  # a directory
    files.remove("conflict", recursive=True)

    # A large body refused before the server read it: the server's answer,
    # not a broken connection.
    with pytest.raises(InvalidError):
        files.write("../big", io.BytesIO(b"x" * (8 * MIB)))
    with pytest.raises(SandboxFileNotFoundError):
        files.write("no/dir/big", b"x" * (8 * MIB))


def test_async_files(namespace, api_client, tmp_path):
    async def main():
        async with AsyncSandboxSession(POOL, namespace, api_client=api_client) as s:
            files = s.files
            await files.write("async/a.txt", "async\n", parents=True)
            assert await files.read("async/a.txt") == b"async\n"
            assert await files.read_text("async/a.txt") == "async\n"
            assert (await files.stat("async/a.txt"))["size"] == 6
            assert [f["path"] for f in await files.list("async")] == ["/workspace/async/a.txt"]
            await files.mkdir("async/d")
            assert await files.exists("async/d")
            buf = io.BytesIO()
            assert await files.read_into("async/a.txt", buf) == 6
            await files.upload(tmp_path / "up", "async/up")
            assert await files.download("async/up", tmp_path / "down") == ["f"]
            await files.remove("async", recursive=True)
            assert not await files.exists("async")
            with pytest.raises(SandboxFileNotFoundError):
                await files.read("async/a.txt")

    (tmp_path / "up").mkdir()
    (tmp_path / "up" / "f").write_text("uploaded\n")
    asyncio.run(main())
    assert (tmp_path / "down" / "f").read_text() == "uploaded\n"


# --- the extractor, with crafted archives ------------------------------------------

def crafted(*entries):
    """A tar of (name, type, payload) entries: payload is a file's bytes or a link's target."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, kind, payload in entries:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.mode = 0o644
            if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                info.linkname = payload
                tar.addfile(info)
            elif kind == tarfile.REGTYPE:
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
            else:
                tar.addfile(info)
    buf.seek(0)
    return buf


F, D, S, H = tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE


@pytest.mark.parametrize("entries, why", [
    ([("../escape", F, b"x")], "'..'"),
    ([("a/../../escape", F, b"x")], "'..'"),
    ([("/tmp/arl-absolute-escape", F, b"x")], "absolute"),
    ([("link", S, "/etc")], "absolute"),
    ([("link", S, "../outside")], "outside"),
    ([("d/link", S, "../../outside")], "outside"),
    ([("d", S, "."), ("x", S, "d/..")], "outside"),  # lexically inside, really the parent
    ([("h", H, "../../etc/passwd")], "'..'"),
    ([("h", H, "never-extracted")], "hard link"),
    ([("l", S, "f"), ("h", H, "l")], "hard link"),  # a hard link to a link would move it
    ([("dev", tarfile.CHRTYPE, None)], "not a regular file"),
    ([("blk", tarfile.BLKTYPE, None)], "not a regular file"),
    ([("fifo", tarfile.FIFOTYPE, None)], "not a regular file"),
])
def test_extractor_refuses_hostile_entries(tmp_path, entries, why):
    dest = tmp_path / "dest"
    with pytest.raises(UnsafeArchiveError) as info:
        safe_extract(crafted(*entries), str(dest))
    assert why in str(info.value)
    assert set(os.listdir(tmp_path)) == {"dest"}
    assert not os.path.exists("/tmp/arl-absolute-escape")


def test_extractor_never_writes_through_links(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim").write_text("unchanged")
    dest = tmp_path / "dest"
    dest.mkdir()
    # A link already in the destination, leading out: refused on the way.
    os.symlink(str(outside), dest / "pre")
    with pytest.raises(UnsafeArchiveError, match="leading outside"):
        safe_extract(crafted(("pre/victim", F, b"overwritten")), str(dest))
    # A link leading out, then a file of that name: the link is replaced, not
    # followed (Pythons with tarfile.data_filter refuse the entry instead).
    os.symlink(str(outside / "victim"), dest / "to-victim")
    if hasattr(tarfile, "data_filter"):
        with pytest.raises(UnsafeArchiveError):
            safe_extract(crafted(("to-victim", F, b"replaced")), str(dest))
    else:
        safe_extract(crafted(("to-victim", F, b"replaced")), str(dest))
        assert not os.path.islink(dest / "to-victim") and (dest / "to-victim").read_text() == "replaced"
    assert (outside / "victim").read_text() == "unchanged"
    # A link made by the archive, then an entry through it (the classic): refused.
    with pytest.raises(UnsafeArchiveError):
        safe_extract(crafted(("esc", S, "../outside"), ("esc/victim", F, b"overwritten")), str(dest))
    assert (outside / "victim").read_text() == "unchanged"
    assert sorted(os.listdir(outside)) == ["victim"]


def test_extractor_keeps_what_is_safe(tmp_path):
    dest = tmp_path / "dest"
    names = safe_extract(crafted(
        ("./", D, None), ("./dir/", D, None), ("dir/f", F, b"content"), ("dir/rel", S, "f"),
        ("dir/up", S, "../dir/f"), ("hard", H, "dir/f"), ("dir/sub/implicit", F, b"parents made"),
    ), str(dest))
    assert names == ["dir", "dir/f", "dir/rel", "dir/up", "hard", "dir/sub/implicit"]
    assert (dest / "dir" / "f").read_bytes() == b"content"
    assert os.readlink(dest / "dir" / "rel") == "f" and (dest / "dir" / "up").read_bytes() == b"content"
    assert os.stat(dest / "hard").st_ino == os.stat(dest / "dir" / "f").st_ino
    assert (dest / "dir" / "sub" / "implicit").read_bytes() == b"parents made"


def test_extractor_drops_setuid_and_sets_directory_modes_last(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        ro = tarfile.TarInfo("ro")
        ro.type, ro.mode = tarfile.DIRTYPE, 0o555
        tar.addfile(ro)
        suid = tarfile.TarInfo("ro/suid")
        suid.mode, suid.size = 0o4755, 2
        tar.addfile(suid, io.BytesIO(b"#!"))
    buf.seek(0)
    safe_extract(buf, str(tmp_path / "d"))
    assert stat.S_IMODE(os.stat(tmp_path / "d" / "ro").st_mode) == 0o555
    assert stat.S_IMODE(os.stat(tmp_path / "d" / "ro" / "suid").st_mode) == 0o755
    os.chmod(tmp_path / "d" / "ro", 0o755)  # let pytest clean up


def test_tar_stream_is_a_tar_of_the_tree(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    make_tree(src)
    os.mkfifo(src / "fifo")  # skipped with a warning
    data = b"".join(tar_stream(str(src), chunk_bytes=4096))
    assert len(data) % 512 == 0
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert "fifo" not in members
    assert members["link"].issym() and members["link"].linkname == "sub/run.sh"
    assert members["sub"].isdir() and members["sub"].mode == 0o750
    assert members["a.txt"].mode == 0o600 and members["a.txt"].mtime == 1_000_000_000
    assert members["long-" + "n" * 120].isreg()
    os.unlink(src / "fifo")
    back = tmp_path / "back"
    safe_extract(io.BytesIO(data), str(back))
    assert snapshot(back) == snapshot(src)
    one = b"".join(tar_stream(str(src / "a.txt")))
    with tarfile.open(fileobj=io.BytesIO(one)) as tar:
        assert tar.getnames() == ["a.txt"]
