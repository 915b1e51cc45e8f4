"""The content-hash cache: per-file results (and project-phase results) in pack files.

An entry is keyed by everything the per-file phase depends on: the tool (its version and a
digest of its installed sources' bytes), the effective configuration, the file's path relative
to the project root, its enabled rules and project profile — that gives the entry's name — and
the file's bytes, whose digest is stored in the entry and compared on every load.  Nothing in a
key names the checkout's location or a file's mtime, so a cache restored on another machine, in
another checkout path or after a fresh install of the same tool hits.

Entries live in pack files, each a checksummed pickle of many entries, named by the digest of
its bytes: a run reads every pack once (one read instead of one per source file) and writes
its new entries as new packs.  A pack is written to a temporary file and renamed into place,
so concurrent runs never see a partial pack, and two runs (or CI shards) never write the same
name with different contents: copying several cache directories into one merges them.  A run
that read or wrote more than one pack compacts them into one.  A corrupt, truncated or foreign
pack fails its checksum and is ignored (its entries are checked and written again).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import os
import pickle
import shutil
import sys
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Optional, Sequence

from fastapi_review import __version__

if TYPE_CHECKING:
    from fastapi_review.config import Config
    from fastapi_review.engine import FileResult
    from fastapi_review.findings import Finding

CACHE_DIR_NAME = ".fastapi_review_cache"
PACK_SUFFIX = ".pack"
_MAGIC = b"FRP1"
_DIGEST = 32  # blake2b digest size of the file bytes and of a pack's payload
_BATCH_BYTES = 2 << 20  # a batch writes a pack each time this much waits (bounds the memory it holds)
_MAX_PACKS = 8  # more packs than this are merged into one (each later run reads them all)
_PROJECT = "project:"  # the names of project-phase entries
_temporaries = itertools.count()


def content_digest(data: bytes) -> bytes:
    """The digest of a file's bytes that an entry is valid for."""
    return hashlib.blake2b(data, digest_size=_DIGEST).digest()


def sources_fingerprint(package: Path) -> str:
    """A digest of the bytes of every Python source under `package` (not their mtimes: a fresh
    install of the same sources has the same fingerprint)."""
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(hashlib.blake2b(path.read_bytes(), digest_size=16).digest())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def tool_fingerprint() -> str:
    """The version, the Python it runs on and the digest of the installed sources (computed
    once per process: about 6 ms)."""
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    return f"{__version__}|{python}|{sources_fingerprint(Path(__file__).resolve().parent)}"


def config_fingerprint(config: "Config") -> str:
    """The settings that can change a file's per-file result (not where the config lives)."""
    relevant = dataclasses.replace(config, root=Path("."), source=None)
    return hashlib.blake2b(repr(relevant).encode(), digest_size=16).hexdigest()


def default_cache_dir(config: "Config") -> Path:
    """`.fastapi_review_cache/` beside the configuration (the project root)."""
    return config.root / CACHE_DIR_NAME


class Cache:
    """Per-file results in `directory`, for one tool build and one configuration."""

    def __init__(self, directory: Path, config: "Config") -> None:
        self.directory = directory
        self._entries = directory / f"v{__version__}"
        self._tool = tool_fingerprint()
        self._salt = f"{self._tool}|{config_fingerprint(config)}"
        self._ready = False
        self._abandoned = False
        self._index: Optional[dict[tuple[str, bytes], bytes]] = None  # (name, digest) → payload
        self._pending: dict[str, tuple[bytes, bytes]] = {}
        self._pending_bytes = 0
        self._batching = False
        self._projects: set[str] = set()
        self.written = False  # this process wrote a pack

    def entry_name(self, relative: str, codes: Sequence[str], profile: str = "") -> str:
        """The entry of one file (by its path relative to the project root: runs from any
        directory or checkout path share it) as checked with these rules, for this project
        profile (library versions, dialects)."""
        key = "\0".join((self._salt, relative, ",".join(codes), profile))
        return hashlib.blake2b(key.encode(), digest_size=20).hexdigest()

    def load(self, name: str, digest: bytes, display: str) -> "Optional[FileResult]":
        """The cached result for `name` if it was stored for these exact bytes, else None;
        its findings and facts name the file as `display` (how this run shows the file)."""
        result = self._load(name, digest)
        if result is not None and result.facts is not None and result.facts.path != display:
            result = _shown_as(result, display)
        return result

    def _load(self, name: str, digest: bytes) -> "Optional[FileResult]":
        stored = self._read_index().get((name, digest))
        if stored is None:
            return None
        try:
            return pickle.loads(stored)
        except Exception:  # noqa: BLE001 - an entry from an incompatible build: a miss
            return None

    def load_project(self, key: str) -> "Optional[list[Finding]]":
        """The findings a project phase over exactly these inputs (`key`) gave, if stored."""
        return self._load(_PROJECT + key, b"")  # type: ignore[return-value]

    def store_project(self, key: str, findings: "list[Finding]") -> None:
        """Remember a project phase's findings under the digest of its inputs."""
        self._projects.add(_PROJECT + key)
        self.store(_PROJECT + key, b"", findings)  # type: ignore[arg-type]

    def store(self, name: str, digest: bytes, result: "FileResult") -> None:
        """Add an entry; it is written with the others at the end of the batch (see `batch`),
        or at once outside one.  A cache that cannot be written is silently skipped."""
        try:
            payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        except pickle.PicklingError:
            return
        self._pending[name] = (digest, payload)
        self._pending_bytes += len(payload)
        if not self._batching or self._pending_bytes > _BATCH_BYTES:
            self.flush()

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Entries stored meanwhile are written as one pack when the block ends."""
        self._batching = True
        try:
            yield
        finally:
            self._batching = False
            self.flush()

    def flush(self) -> None:
        """Write the pending entries as one new pack."""
        pending, self._pending, self._pending_bytes = self._pending, {}, 0
        if pending and not self._abandoned:
            if self._write_pack(pending) is not None:
                self.written = True

    def compact(self) -> None:
        """Merge every pack of the directory into one when there are more than a few (a pool's
        workers each write theirs, and so does every run that checked a file): entries of other
        tool builds, and project-phase results this run did not store, go."""
        packs = _packs(self._entries)
        if len(packs) <= _MAX_PACKS or self._abandoned:
            self._index = None  # a later run with this object reads the packs written meanwhile
            return
        merged: dict[str, tuple[bytes, bytes]] = {}
        for pack in packs:  # oldest first: a file's newest entry wins
            merged.update(_read_pack(pack, self._tool))
        # project-phase results of earlier inputs are not worth keeping: only this run's
        merged = {k: v for k, v in merged.items() if not k.startswith(_PROJECT) or k in self._projects}
        kept = self._write_pack(merged)
        if kept is None:
            return
        for pack in packs:
            if pack != kept:
                _unlink(pack)
        self._index = {(name, digest): payload for name, (digest, payload) in merged.items()}

    def abandon(self, workers: Sequence[int] = ()) -> None:
        """An interrupted run: write no further pack, and remove the temporary files of this
        process and of its terminated `workers` (a pack is either whole or absent: it is
        renamed into place once written)."""
        self._abandoned = True
        self._pending = {}
        for pid in (os.getpid(), *workers):
            try:
                for temporary in self._entries.glob(f".*.{pid}.tmp"):
                    _unlink(temporary)
            except OSError:
                pass

    def _read_index(self) -> dict[tuple[str, bytes], bytes]:
        if self._index is None:
            self._index = {}
            for pack in _packs(self._entries):
                self._index.update(((name, digest), payload) for name, (digest, payload) in _read_pack(pack, self._tool).items())
        return self._index

    def _write_pack(self, entries: dict[str, tuple[bytes, bytes]]) -> Optional[Path]:
        payload = pickle.dumps((self._tool, entries), protocol=pickle.HIGHEST_PROTOCOL)
        checksum = content_digest(payload)
        try:
            self.prepare()
            target = self._entries / f"{checksum[:16].hex()}{PACK_SUFFIX}"  # named by its checksum
            # a name no other process or thread uses
            temporary = self._entries / f".{target.stem}.{next(_temporaries)}.{os.getpid()}.tmp"
            try:
                with open(temporary, "wb") as out:
                    out.write(_MAGIC + checksum)
                    out.write(payload)
                os.replace(temporary, target)
            except BaseException:
                _unlink(temporary)
                raise
        except OSError:
            return None
        return target

    def __getstate__(self) -> dict[str, object]:
        # pool workers get the settings, not the packs read by the parent
        return {**self.__dict__, "_index": {}, "_pending": {}}

    def prepare(self) -> None:
        """Create the directory, tagged as a cache (CACHEDIR.TAG) that git ignores."""
        if self._ready:
            return
        self._entries.mkdir(parents=True, exist_ok=True)
        ignore = self.directory / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# created by fastapi-review: the cache is not source\n*\n", encoding="utf-8")
        tag = self.directory / "CACHEDIR.TAG"
        if not tag.exists():
            tag.write_text(
                "Signature: 8a477f597d28d172789f06886806bc55\n# fastapi-review cache: https://bford.info/cachedir/\n",
                encoding="utf-8",
            )
        self._ready = True


def _packs(directory: Path) -> list[Path]:
    """The packs of a cache directory, oldest first."""
    found = []
    try:
        for pack in directory.glob(f"*{PACK_SUFFIX}"):
            try:
                found.append((pack.stat().st_mtime_ns, pack.name, pack))
            except OSError:  # merged into another meanwhile
                pass
    except OSError:
        pass
    return [pack for _, _, pack in sorted(found)]


def _read_pack(pack: Path, tool: str) -> dict[str, tuple[bytes, bytes]]:
    """A pack's entries, or none when it is damaged or was written by another tool build."""
    try:
        blob = pack.read_bytes()
    except OSError:  # removed meanwhile by another run's compaction
        return {}
    header = len(_MAGIC) + _DIGEST
    if len(blob) <= header or not blob.startswith(_MAGIC):
        return {}
    payload = blob[header:]
    if content_digest(payload) != blob[len(_MAGIC) : header]:
        return {}
    try:
        written_by, entries = pickle.loads(payload)
    except Exception:  # noqa: BLE001 - a foreign or incompatible pack: ignored
        return {}
    return entries if written_by == tool and isinstance(entries, dict) else {}


def _shown_as(result: "FileResult", display: str) -> "FileResult":
    """A cached result stored by a run that showed the file under another path."""
    result.findings = [dataclasses.replace(f, path=display) for f in result.findings]
    result.deferred = [((display, *fields[1:]), needed, args) for fields, needed, args in result.deferred]
    if result.facts is not None:
        result.facts.path = display
    return result


def clean(directory: Path) -> bool:
    """Delete a cache directory; False when there was none."""
    if not directory.is_dir():
        return False
    if not (directory / "CACHEDIR.TAG").is_file() and directory.name != CACHE_DIR_NAME:
        raise OSError(f"{directory} does not look like a fastapi-review cache (no CACHEDIR.TAG); not deleting it")
    shutil.rmtree(directory)
    return True


def _unlink(path: "str | Path") -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
