"""Container images are read in one pass per layer: each layer is inflated once, what the scan
needs from each file is taken as it streams by, and no file is ever held whole in memory."""

from __future__ import annotations

import os
import struct
import tracemalloc
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from image_helpers import Blobs, Image, add_image, layout_files, write_tar
from test_images import LIBDEMO, bootstrap_layer, oci_archive, uselib_layer

from linkscope import api
from linkscope.cli import main
from linkscope.early import EarlyReads
from linkscope.elf import facts_from_bytes
from linkscope.errors import InputError
from linkscope.inputs import Limits, layerpipe, open_package
from linkscope.inputs.blobs import Region
from linkscope.inputs.layerstream import LayerStream
from linkscope.model import BinaryFacts
from linkscope.scan import scan_path

PAD = 24 << 20


@pytest.fixture
def inflations(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The layer passes begun (one name per inflater made), counted through LayerStream."""
    made: list[str] = []
    original = LayerStream._new_inflater

    def counting(self: LayerStream) -> object:
        made.append("random" if self.random_access else "pass")
        return original(self)

    monkeypatch.setattr(LayerStream, "_new_inflater", counting)
    yield made


def spread_library() -> bytes:
    """libdemo.so.1 with its .comment moved PAD bytes in and its section headers PAD bytes
    further, at the end: a full read goes to the end, then back into the middle."""
    data = bytearray(LIBDEMO)
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    entsize, count, names = struct.unpack_from("<HHH", data, 0x3A)
    table = bytearray(data[shoff : shoff + entsize * count])
    (names_at,) = struct.unpack_from("<Q", table, names * entsize + 24)
    comment = next(
        i
        for i in range(count)
        if data[names_at + struct.unpack_from("<I", table, i * entsize)[0] :].startswith(
            b".comment\0"
        )
    )
    offset, size = struct.unpack_from("<QQ", table, comment * entsize + 24)
    body = bytes(data[offset : offset + size])
    data += b"\0" * PAD
    struct.pack_into("<Q", table, comment * entsize + 24, len(data))
    data += body + b"\0" * (PAD + (-len(body) % 8))
    struct.pack_into("<Q", data, 0x28, len(data))
    return bytes(data + table)


def big_image(tmp_path: Path) -> tuple[Path, bytes]:
    library = spread_library()
    layer = [*uselib_layer(), ("file", "var/task/lib/libbig.so.1", library, 0o755)]
    image = Image(layers=[bootstrap_layer(), layer], entrypoint=["/var/task/uselib"])
    return oci_archive(tmp_path, image), library


def binary(facts: tuple[BinaryFacts, ...], name: str) -> BinaryFacts:
    return next(b for b in facts if b.path.endswith(name))


def test_each_layer_is_inflated_once(tmp_path: Path, inflations: list[str]) -> None:
    image = Image(layers=[bootstrap_layer(), uselib_layer()], entrypoint=["/var/task/uselib"])
    path = oci_archive(tmp_path, image)
    for lean in (True, False):  # check's reading, inspect's
        inflations.clear()
        [scanned] = api.scan([str(path)], lean=lean)
        assert len(scanned.binaries) == 4
        assert inflations == ["pass", "pass"]


def test_facts_taken_in_the_pass_are_those_read_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inflations: list[str]
) -> None:
    """The differential: the same image scanned with nothing taken early (every file read
    after the pass, from a stream with checkpoints) gives the same package, field for field."""
    path, _ = big_image(tmp_path)
    for lean_above in (2 << 20, None):
        early = scan_path(str(path), Limits(), lean_above=lean_above)
        inflations.clear()
        with monkeypatch.context() as patch:
            patch.setattr(EarlyReads, "take", lambda *_args: None)
            late = scan_path(str(path), Limits(), lean_above=lean_above)
        assert inflations.count("pass") == 2 and "random" in inflations  # read after the pass
        assert early == late
        assert "libdemo.so.1" in binary(early.binaries, "!/var/task/uselib").needed


def test_a_big_library_streams_in_bounded_memory(tmp_path: Path, inflations: list[str]) -> None:
    """A 48 MiB library whose full read goes to its end and then back into the middle
    (.comment): the pass cannot go back, so that file is read again after the pass, through a
    view over a stream with checkpoints. Neither read holds it whole, and both give the facts of
    the whole bytes."""
    path, library = big_image(tmp_path)
    location = f"{path}!/var/task/lib/libbig.so.1"
    for lean in (True, False):
        inflations.clear()
        tracemalloc.start()
        [scanned] = api.scan([str(path)], lean=lean)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert inflations.count("pass") == 2 and "random" in inflations
        assert peak < 32 << 20, peak
        whole = facts_from_bytes(library, location, 0o755, lean_above=(2 << 20) if lean else None)
        assert binary(scanned.binaries, "libbig.so.1") == whole
        assert whole.toolchain.compilers  # the .comment read behind the pass was found


def test_check_reports_the_same_with_files_taken_in_the_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, _ = big_image(tmp_path)
    report = api.check([str(path)])
    monkeypatch.setattr(EarlyReads, "take", lambda *_args: None)
    assert api.check([str(path)]) == report
    assert {f.rule for f in report.findings} >= {"LS401"}  # no glibc in this image


def damaged(blob: bytes) -> bytes:
    """The gzip blob with one byte past its middle changed so that inflating it fails there
    (found by trying: a changed byte can also decode to other bytes, or end the stream)."""
    for at in range(len(blob) // 2, len(blob) - 16):
        candidate = bytearray(blob)
        candidate[at] ^= 0xFF
        inflater = zlib.decompressobj(wbits=31)
        try:
            inflater.decompress(bytes(candidate[: at + 64]))
        except zlib.error:
            return bytes(candidate)
    raise AssertionError("no byte found whose change the inflater notices")


def _gzip_layer_with_damage(tmp_path: Path) -> Path:
    """An image whose layer's deflate data is damaged inside a big ELF file."""
    blobs = Blobs()
    layer = [("file", "var/task/lib/libbig.so.1", spread_library(), 0o755)]
    image = Image(layers=[bootstrap_layer(), layer], entrypoint=["/var/task/bootstrap"])
    files = layout_files(blobs, add_image(blobs, image))
    name = max((n for n in files if n.startswith("blobs/")), key=lambda n: len(files[n]))
    files[name] = damaged(files[name])
    return write_tar(tmp_path / "damaged.tar", files)


def test_damage_inside_a_file_the_pass_reads_is_the_layer_s_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The ELF reader treats a bad read as the file's problem; the layer's damage must still
    stop the run as an input error (one line, exit 2), not become a finding about one file."""
    path = _gzip_layer_with_damage(tmp_path)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "corrupt gzip data" in err, err


def test_a_damaged_stream_fails_again_on_every_read(tmp_path: Path) -> None:
    import gzip

    data = damaged(gzip.compress(bytes(range(256)) * 4096 * 8, mtime=0))
    blob = tmp_path / "layer.gz"
    blob.write_bytes(bytes(data))
    stream = LayerStream(Region(str(blob), 0, len(data)), "gzip", "layer", 1 << 30)
    with pytest.raises(InputError, match="corrupt gzip data"):
        stream.read(8 << 20)
    failure = stream.failure
    assert failure is not None
    with pytest.raises(InputError) as again:
        stream.read(8 << 20)  # what was inflated before the damage is still served
    assert again.value is failure


# ---------------------------------------------------------------- layers inflated on the other core


@pytest.fixture
def piped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every compressed layer inflated by a forked process (big layers are, on 2+ cores)."""
    monkeypatch.setattr(layerpipe, "PIPED_FROM", 0)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)


def no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@pytest.mark.skipif(not hasattr(os, "fork"), reason="layers are piped to a forked process only")
@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_a_piped_layer_reads_as_an_inflated_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compression: str
) -> None:
    if compression == "zstd":
        pytest.importorskip("zstandard", reason="zstd layers need the zstandard package")
    library = spread_library()
    layer = [*uselib_layer(), ("file", "var/task/lib/libbig.so.1", library, 0o755)]
    image = Image(
        layers=[bootstrap_layer(), layer],
        entrypoint=["/var/task/uselib"],
        compression=compression,
    )
    path = oci_archive(tmp_path, image)
    here = scan_path(str(path), Limits(), lean_above=2 << 20)
    with monkeypatch.context() as patch:
        patch.setattr(layerpipe, "PIPED_FROM", 0)
        patch.setattr(os, "cpu_count", lambda: 2)
        forked: list[int] = []
        original = layerpipe.Inflater.__init__

        def counting(self: layerpipe.Inflater, *args: Any) -> None:
            original(self, *args)
            forked.append(1)

        patch.setattr(layerpipe.Inflater, "__init__", counting)
        unpiped: list[int] = []  # the digest comes from the forked process, not hashed here
        patch.setattr(LayerStream, "_unpipe", lambda _self: unpiped.append(1))
        there = scan_path(str(path), Limits(), lean_above=2 << 20)
        assert not unpiped
        inspected = scan_path(str(path), Limits())  # reads libbig again after the pass
    assert len(forked) == 4 and no_children_left()
    assert here == there
    assert inspected == scan_path(str(path), Limits())


@pytest.mark.usefixtures("piped")
def test_damage_in_a_piped_layer_is_the_same_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _gzip_layer_with_damage(tmp_path)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "corrupt gzip data" in err, err
    assert no_children_left()


@pytest.mark.usefixtures("piped")
def test_a_piped_bomb_stops_at_the_limit(tmp_path: Path) -> None:
    from linkscope.errors import LimitExceededError

    bomb = [("file", "var/task/zeros", b"\0" * (8 << 20), 0o644)]
    path = oci_archive(tmp_path, Image(layers=[bootstrap_layer(), bomb], entrypoint=["/x"]))
    with pytest.raises(LimitExceededError, match="decompression bomb"):
        api.scan([str(path)], Limits(max_image_bytes=4 << 20))
    assert no_children_left()


@pytest.mark.usefixtures("piped")
def test_a_piped_layer_s_digest_is_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import gzip

    blobs = Blobs()
    image = Image(layers=[bootstrap_layer()], entrypoint=["/var/task/bootstrap"])
    files = layout_files(blobs, add_image(blobs, image))
    name = max((n for n in files if n.startswith("blobs/")), key=lambda n: len(files[n]))
    files[name] = gzip.compress(gzip.decompress(files[name]) + b"\0" * 1024, mtime=0)
    path = write_tar(tmp_path / "swapped.tar", files)
    assert main(["check", str(path)]) == 2
    assert "does not match its digest" in capsys.readouterr().err
    assert no_children_left()


def test_plain_files_keep_no_head_and_metadata_is_still_found(tmp_path: Path) -> None:
    """A file the scan needs nothing more of keeps no first bytes from the pass; a file that is
    metadata only by its merged path (written through a lower layer's link to a .dist-info
    folder) is read again after the pass, and found."""
    metadata = b"Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n"
    base = [
        *bootstrap_layer(),
        ("dir", "var/task/pkg-1.0.dist-info", 0o755),
        ("symlink", "var/task/meta", "pkg-1.0.dist-info"),
        ("file", "var/task/notes.txt", b"plain text\n" * 100, 0o644),
    ]
    upper = [("file", "var/task/meta/METADATA", metadata, 0o644)]
    path = oci_archive(tmp_path, Image(layers=[base, upper], entrypoint=["/var/task/bootstrap"]))
    package = open_package(str(path), Limits(), early=EarlyReads(None, 1 << 20))
    assert package.content is not None
    heads = {m.inner: package.content.read(m, 0) for m in package.members if m.size > 0}
    assert set(heads) >= {"var/task/notes.txt", "var/task/pkg-1.0.dist-info/METADATA"}
    entries = package.content.entries  # type: ignore[attr-defined]
    kept = {m.inner: len(entries[m.index].head) for m in package.members if m.size > 0}
    assert kept["var/task/notes.txt"] == 0 and kept["var/task/bootstrap"] == 512
    scanned = scan_path(str(path), Limits())
    [found] = [m for m in scanned.metadata if m.inner.endswith("METADATA")]
    assert found.inner == "var/task/pkg-1.0.dist-info/METADATA"
    assert found.text == metadata.decode()


def test_the_loader_s_files_are_kept_from_the_pass(tmp_path: Path, inflations: list[str]) -> None:
    """ld.so.cache and ld.so.conf are read by the image facts after the pass: kept whole from
    it, even though the scan needs nothing more of them (no second inflation of the layer)."""
    etc = [
        ("dir", "etc", 0o755),
        ("file", "etc/ld.so.conf", b"include /etc/ld.so.conf.d/*.conf\n", 0o644),
        ("dir", "etc/ld.so.conf.d", 0o755),
        ("file", "etc/ld.so.conf.d/x.conf", b"/opt/lib\n", 0o644),
    ]
    image = Image(layers=[[*etc, *bootstrap_layer()]], entrypoint=["/var/task/bootstrap"])
    [scanned] = api.scan([str(oci_archive(tmp_path, image))], lean=True)
    assert scanned.image is not None and "/opt/lib" in scanned.image.ld_so_conf
    assert inflations == ["pass"]
