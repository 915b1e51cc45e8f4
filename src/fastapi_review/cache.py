"""The content-hash cache: one entry per checked file, holding its per-file result.

An entry is keyed by everything the per-file phase depends on: the tool (its version and the
installed sources, so an edited checkout never reuses stale results), the effective
configuration, the file's paths and enabled rules — that gives the entry's name — and the
file's bytes, whose digest is stored in the entry and compared on every load.  The project phase
is never cached: it re-runs from the cached facts, so cross-file findings follow every change.

Entries are written to a temporary file and renamed into place, so concurrent runs never see a
partial entry; a corrupt, truncated or foreign entry fails its checksum and is ignored (and
rewritten by the next run that checks the file).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import shutil
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Optional, Sequence

from fastapi_review import __version__

if TYPE_CHECKING:
    from fastapi_review.config import Config
    from fastapi_review.engine import FileResult

CACHE_DIR_NAME = ".fastapi_review_cache"
_MAGIC = b"FRC1"
_DIGEST = 32  # blake2b digest size of the file bytes and of the payload


def content_digest(data: bytes) -> bytes:
    """The digest of a file's bytes that an entry is valid for."""
    return hashlib.blake2b(data, digest_size=_DIGEST).digest()


@lru_cache(maxsize=1)
def tool_fingerprint() -> str:
    """The version plus the size and mtime of every installed source file of the package."""
    package = Path(__file__).resolve().parent
    digest = hashlib.blake2b(__version__.encode(), digest_size=16)
    for path in sorted(package.rglob("*.py")):
        stat = path.stat()
        digest.update(f"{path.relative_to(package)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


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
        self._salt = f"{tool_fingerprint()}|{config_fingerprint(config)}"
        self._ready = False
        self._writer: Optional[ThreadPoolExecutor] = None
        self._abandoned = False

    def entry_name(self, path: Path, relative: str, codes: Sequence[str], profile: str = "") -> str:
        """The entry of one file (by its absolute path: runs from any directory share it) as
        checked with these rules, for this project profile (library versions, dialects)."""
        key = "\0".join((self._salt, str(path.absolute()), relative, ",".join(codes), profile))
        return hashlib.blake2b(key.encode(), digest_size=20).hexdigest()

    def load(self, name: str, digest: bytes, display: str) -> "Optional[FileResult]":
        """The cached result for `name` if it was stored for these exact bytes, else None;
        its findings and facts name the file as `display` (how this run shows the file)."""
        result = self._load(name, digest)
        if result is not None and result.facts is not None and result.facts.path != display:
            result = _shown_as(result, display)
        return result

    def _load(self, name: str, digest: bytes) -> "Optional[FileResult]":
        try:
            blob = (self._entries / name).read_bytes()
        except OSError:
            return None
        header = len(_MAGIC) + 2 * _DIGEST
        if len(blob) <= header or not blob.startswith(_MAGIC):
            return None
        stored, checksum, payload = blob[4 : 4 + _DIGEST], blob[4 + _DIGEST : header], blob[header:]
        if stored != digest or content_digest(payload) != checksum:
            return None
        try:
            return pickle.loads(payload)
        except Exception:  # noqa: BLE001 - an entry from an incompatible build: a miss
            return None

    def store(self, name: str, digest: bytes, result: "FileResult") -> None:
        """Write an entry atomically (in the background inside `writing_in_background`); a
        cache that cannot be written is silently skipped."""
        try:
            payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        except pickle.PicklingError:
            return
        blob = _MAGIC + digest + content_digest(payload) + payload
        if self._writer is not None:
            self._writer.submit(self._write, name, blob)
        else:
            self._write(name, blob)

    def abandon(self, workers: Sequence[int] = ()) -> None:
        """An interrupted run: write no further entry, and remove the temporary files of this
        process and of its terminated `workers` (an entry is either whole or absent: it is
        renamed into place once written)."""
        self._abandoned = True
        for pid in (os.getpid(), *workers):
            try:
                for temporary in self._entries.glob(f".*.{pid}.tmp"):
                    _unlink(temporary)
            except OSError:
                pass

    def _write(self, name: str, blob: bytes) -> None:
        if self._abandoned:
            return
        try:
            self._prepare()
            # a name no other process uses (each process writes its entries from one thread)
            temporary = self._entries / f".{name}.{os.getpid()}.tmp"
            try:
                with open(temporary, "wb") as out:
                    out.write(blob)
                os.replace(temporary, self._entries / name)
            except BaseException:
                _unlink(temporary)
                raise
        except OSError:
            return

    @contextmanager
    def writing_in_background(self) -> Iterator[None]:
        """Entries stored meanwhile are written by one background thread, and all of them by the
        end: creating and renaming files waits on the file system without holding the GIL, so a
        one-process run goes on checking (about 2% of a cold run)."""
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cache-writer")
        try:
            yield
        finally:
            writer, self._writer = self._writer, None
            writer.shutdown(wait=True)

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "_writer": None}  # pool workers get the cache, not the thread

    def _prepare(self) -> None:
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
