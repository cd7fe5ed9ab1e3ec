"""TFRecord framing: the only code that knows how event files are laid out on disk.

Each record is: uint64 length (little endian), uint32 masked CRC32C of the length bytes,
`length` bytes of payload, uint32 masked CRC32C of the payload. The CRC is checked with the
hardware-accelerated `crc32c` package; TensorBoard's pure-Python fallback checks it byte by
byte, which is why it manages only a few MB/s.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import BinaryIO, Iterator

import crc32c

_HEADER = struct.Struct("<QI")
_FOOTER = struct.Struct("<I")
_MASK_DELTA = 0xA282EAD8


def masked_crc(data: bytes | memoryview) -> int:
    """The masked CRC32C that TFRecord stores (see tensorflow/core/lib/hash/crc32c.h)."""
    crc = crc32c.crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def frame(payload: bytes) -> bytes:
    """One TFRecord: header, payload and footer (used by the writer)."""
    length = struct.pack("<Q", len(payload))
    return length + struct.pack("<I", masked_crc(length)) + payload + struct.pack("<I", masked_crc(payload))


@dataclass
class FileAccount:
    """What reading one file yielded: records read, records skipped and why."""

    path: str
    size: int = 0
    records_read: int = 0
    records_skipped: int = 0
    problems: list[str] = field(default_factory=list)

    def skip(self, reason: str) -> None:
        self.records_skipped += 1
        self.problems.append(reason)


def iter_records(stream: BinaryIO, size: int, account: FileAccount, chunk: int = 8 << 20) -> Iterator[tuple[int, memoryview]]:
    """Yield (offset, payload) for every intact record of an open event file of `size` bytes.

    The file is read in chunks, so memory does not grow with the file. A payload is only
    valid until the next record is requested. A record whose payload CRC is wrong is skipped
    and reported; the framing is still intact, so reading goes on with the next record. A
    header whose own CRC is wrong, or a length that runs past the end of the file, leaves no
    trustworthy way to find the next record: that is reported and reading stops there. The
    length is checked against the bytes left before anything is allocated from it.
    """
    buf = b""
    base = 0  # file offset of buf[0]
    pos = 0  # offset within buf
    while True:
        if len(buf) - pos < _HEADER.size:
            buf, base, pos = buf[pos:] + stream.read(chunk), base + pos, 0
            if not buf:
                return
            if len(buf) < _HEADER.size:
                account.skip(f"truncated record header at byte {base} ({len(buf)} bytes left)")
                return
        offset = base + pos
        length, length_crc = _HEADER.unpack_from(buf, pos)
        if masked_crc(memoryview(buf)[pos : pos + 8]) != length_crc:
            account.skip(f"corrupt record header at byte {offset}; the rest of the file ({size - offset} bytes) is unreadable")
            return
        needed = _HEADER.size + length + _FOOTER.size
        if length > size - offset - _HEADER.size - _FOOTER.size:
            account.skip(f"truncated last record at byte {offset} (needs {needed} bytes, {size - offset} left)")
            return
        if len(buf) - pos < needed:
            buf, base, pos = buf[pos:] + stream.read(max(chunk, needed)), base + pos, 0
            if len(buf) < needed:
                account.skip(f"truncated last record at byte {offset} (needs {needed} bytes, {len(buf)} left)")
                return
        view = memoryview(buf)
        body = pos + _HEADER.size
        payload = view[body : body + length]
        (payload_crc,) = _FOOTER.unpack_from(buf, body + length)
        if masked_crc(payload) != payload_crc:
            account.skip(f"bad CRC in record at byte {offset}; record skipped")
        else:
            account.records_read += 1
            yield offset, payload
        pos += needed
