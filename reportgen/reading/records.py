"""TFRecord framing: the only code that knows how event files are laid out on disk.

Each record is: uint64 length (little endian), uint32 masked CRC32C of the length bytes,
`length` bytes of payload, uint32 masked CRC32C of the payload. The CRC is checked with the
hardware-accelerated `crc32c` package; TensorBoard's pure-Python fallback checks it byte by
byte, which is why it manages only a few MB/s.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterator
from typing import Protocol

from reportgen.model import FileAccount


def _crc32c_function() -> Callable[[bytes | memoryview], int]:
    """The `crc32c` package's C function, loaded without the package's __init__, which imports
    importlib.metadata (and with it email) only to set __version__: 45 ms of the ~600 ms that
    `reportgen inspect` of a 267 MB log takes. Falls back to a plain import."""
    try:
        import importlib.machinery
        import importlib.util

        spec = importlib.util.find_spec("crc32c")  # finds the package without importing it
        for folder in (spec.submodule_search_locations or []) if spec else []:
            for suffix in importlib.machinery.EXTENSION_SUFFIXES:
                path = os.path.join(folder, "_crc32c" + suffix)
                if os.path.exists(path):
                    loader = importlib.machinery.ExtensionFileLoader("crc32c._crc32c", path)
                    extension = importlib.util.spec_from_loader(loader.name, loader)
                    if extension is None:
                        break
                    module = importlib.util.module_from_spec(extension)
                    loader.exec_module(module)
                    return module.crc32c
    except Exception:
        pass
    import crc32c

    return crc32c.crc32c


crc32c_of = _crc32c_function()

_HEADER = struct.Struct("<QI")
_FOOTER = struct.Struct("<I")
_MASK_DELTA = 0xA282EAD8


def masked_crc(data: bytes | memoryview) -> int:
    """The masked CRC32C that TFRecord stores (see tensorflow/core/lib/hash/crc32c.h)."""
    crc = crc32c_of(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


class Readable(Protocol):
    """What reading needs of a file: a local file's or fsspec's buffered reader both have it."""

    def readinto(self, buffer: memoryview, /) -> int | None: ...


def iter_spans(stream: Readable, size: int, account: FileAccount, chunk: int = 8 << 20, *, start: int = 0,
               stop: int | None = None) -> Iterator[tuple[int, bytearray, int, int]]:
    """Yield (offset, buffer, start, end) for every intact record: its payload is buffer[start:end].

    The file is read in chunks into one reused buffer, so memory does not grow with the file
    and no fresh memory is faulted in per chunk; the buffer is only valid until the next
    record is requested. A record whose payload CRC is wrong is skipped and reported; the
    framing is still intact, so reading goes on with the next record. A header whose own CRC
    is wrong, or a length that runs past the end of the file, leaves no trustworthy way to find
    the next record: that is reported and reading stops there. The length is checked against
    the bytes left before anything is allocated from it.
    """
    buf = bytearray(chunk)
    filled = 0  # valid bytes in buf
    base = start  # file offset of buf[0]
    pos = 0  # offset within buf
    eof = False
    crc = crc32c_of
    unpack_header = _HEADER.unpack_from
    unpack_footer = _FOOTER.unpack_from
    view = memoryview(buf)
    while True:
        if stop is not None and base + pos >= stop:
            account.stopped_at = base + pos
            return
        if filled - pos < 12 and not eof:
            view.release()
            buf, filled, base, pos, eof = _refill(stream, buf, filled, base, pos, 12)
            view = memoryview(buf)
        if filled - pos < 12:
            if filled > pos:
                account.skip(f"truncated record header at byte {base + pos} ({filled - pos} bytes left)")
            return
        length, length_crc = unpack_header(buf, pos)
        # Compare unmasked CRCs: cheaper than masking every computed one.
        rotated = (length_crc - _MASK_DELTA) & 0xFFFFFFFF
        if crc(view[pos : pos + 8]) != ((rotated >> 17) | (rotated << 15)) & 0xFFFFFFFF:
            offset = base + pos
            account.skip(f"corrupt record header at byte {offset}; the rest of the file ({size - offset} bytes) is "
                         "unreadable")
            return
        needed = 16 + length
        if length > size - base - pos - 16:
            offset = base + pos
            account.skip(f"truncated last record at byte {offset} (needs {needed} bytes, {size - offset} left)")
            return
        if filled - pos < needed:
            view.release()
            buf, filled, base, pos, eof = _refill(stream, buf, filled, base, pos, needed)
            view = memoryview(buf)
            if filled - pos < needed:
                account.skip(f"truncated last record at byte {base + pos} (needs {needed} bytes, {filled - pos} left)")
                return
        body = pos + 12
        (payload_crc,) = unpack_footer(buf, body + length)
        rotated = (payload_crc - _MASK_DELTA) & 0xFFFFFFFF
        if crc(view[body : body + length]) != ((rotated >> 17) | (rotated << 15)) & 0xFFFFFFFF:
            account.skip(f"bad CRC in record at byte {base + pos}; record skipped")
        else:
            account.records_read += 1
            yield base + pos, buf, body, body + length
        pos += needed


def _refill(stream: Readable, buf: bytearray, filled: int, base: int, pos: int, needed: int):
    """Move the unread tail to the front of the buffer (growing it if a record needs more) and read."""
    tail = filled - pos
    if needed > len(buf):
        grown = bytearray(max(needed, 2 * len(buf)))
        grown[:tail] = buf[pos:filled]
        buf = grown
    else:
        buf[:tail] = buf[pos:filled]
    filled, eof = tail, False
    with memoryview(buf) as view:
        while filled < len(buf):
            got = stream.readinto(view[filled:])
            if not got:
                eof = True
                break
            filled += got
    return buf, filled, base + pos, 0, eof
