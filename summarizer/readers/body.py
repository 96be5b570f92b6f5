"""An input's raw bytes, taken in one bounded pass and readable again from the start.

Taking an input reads it block by block: the first block is judged before anything else is
read (so /dev/zero is refused as binary at once), every block counts against the size limit
(so an endless pipe is refused as soon as it passes it) and goes into the digest. A small
input is then held in memory; a big one is read again from the file it is in, or, for a
stream (stdin, a device, a URL's body), from a temporary spool written as it arrived, as
`sort` does. Memory stays flat whatever the input's size.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import weakref
from typing import BinaryIO, Callable, Iterator, TypeVar

from .errors import ReadError, TooLarge

BLOCK = 64 * 1024  # bytes read at a time; the first block decides format and encoding
HELD = 2**20  # inputs up to this size are held in memory

T = TypeVar("T")


class Body:
    """The bytes of one input: `digest` (sha256) and `size` are known; `chunks()` reads them
    again from the start, a block at a time, as often as asked."""

    def __init__(self, digest: str, size: int, held: bytes | None = None, file: BinaryIO | None = None):
        self.digest = digest
        self.size = size
        self.held = held
        self._file = file
        if file is not None:
            weakref.finalize(self, file.close)  # closed with the document that reads it

    def chunks(self) -> Iterator[bytes]:
        if self.held is not None:
            for start in range(0, len(self.held), BLOCK):
                yield self.held[start:start + BLOCK]
            return
        fd, offset = self._file.fileno(), 0
        while offset < self.size:  # pread: each reader keeps its own position
            data = os.pread(fd, min(BLOCK, self.size - offset), offset)
            if not data:  # the file shrank since it was taken
                return
            yield data
            offset += len(data)

    def read(self) -> bytes:
        """All of it at once (a PDF or an HTML page is parsed whole), bounded by the limit."""
        return self.held if self.held is not None else b"".join(self.chunks())


def take_file(name: str, limit: int, judge: Callable[[bytes], T]) -> tuple[Body, T]:
    """A file, or whatever the path names: a device, a FIFO, a /proc file are taken as streams."""
    try:
        file = open(name, "rb", buffering=0)
    except FileNotFoundError:
        raise ReadError("no such file or folder") from None
    except OSError as exc:
        raise ReadError(f"cannot read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(file.fileno())
        in_place = stat.S_ISREG(info.st_mode) and info.st_size > 0  # a size a pread can trust
        body, judged = take(file.read, limit, judge, announced=info.st_size if in_place else None,
                            backing=file if in_place else None)
    except OSError as exc:
        file.close()
        raise ReadError(f"cannot read: {exc.strerror or exc}") from None
    except BaseException:
        file.close()
        raise
    if body.held is not None or not in_place:
        file.close()
    return body, judged


def take(read: Callable[[int], bytes], limit: int, judge: Callable[[bytes], T], *,
         announced: int | None = None, backing: BinaryIO | None = None,
         tick: Callable[[], None] | None = None) -> tuple[Body, T]:
    """Read `read(n)` to its end (each call returns at most n bytes, b"" at the end).

    `judge(first block)` runs before the rest is read and may refuse the input (a binary file);
    `announced` is a size known in advance (a file's), refused at once when over `limit`;
    `backing` is a regular file that can be read again in place, so nothing is spooled;
    `tick()` runs after each block (a download's deadline).
    """
    first = _first_block(read, tick)
    judged = judge(first)
    if announced is not None and announced > limit:
        raise TooLarge(limit)
    hasher, size = hashlib.sha256(), 0
    held: list[bytes] | None = []
    spool = None
    try:
        data = first
        while data:
            size += len(data)
            if size > limit:
                raise TooLarge(limit)
            hasher.update(data)
            if held is not None:
                held.append(data)
                if size > HELD:
                    if backing is None:
                        spool = tempfile.TemporaryFile()
                        spool.writelines(held)
                    held = None
            elif spool is not None:
                spool.write(data)
            if tick is not None:
                tick()
            data = read(BLOCK)
        if held is not None:
            return Body(hasher.hexdigest(), size, held=b"".join(held)), judged
        if spool is not None:
            spool.flush()
        return Body(hasher.hexdigest(), size, file=backing or spool), judged
    except BaseException:
        if spool is not None:
            spool.close()
        raise


def _first_block(read: Callable[[int], bytes], tick: Callable[[], None] | None) -> bytes:
    """A whole block, or all there is: a pipe hands over a few KB per read."""
    parts, size = [], 0
    while size < BLOCK and (data := read(BLOCK - size)):
        parts.append(data)
        size += len(data)
        if tick is not None:
            tick()
    return b"".join(parts)
