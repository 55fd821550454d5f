"""Framed records, the unit of the log and of snapshots.

One record on disk::

    u32 length (big-endian, of what follows the CRC)
    u32 crc32 of the payload
    payload = u32 header length + header (JSON, UTF-8) + data bytes

A reader stops at the first record that is short, too large or fails its CRC:
everything before it is trusted, everything from it on is a torn or corrupt tail.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import dataclass
from typing import Any

_FRAME = struct.Struct(">II")
_HEADER_LEN = struct.Struct(">I")
MAX_RECORD = 1 << 34


def encode(header: dict[str, Any], data: bytes = b"") -> bytes:
    head = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    payload = _HEADER_LEN.pack(len(head)) + head + data
    return _FRAME.pack(len(payload), zlib.crc32(payload)) + payload


@dataclass
class Decoded:
    records: list[tuple[dict[str, Any], bytes]]
    good_end: int                 # offset just past the last good record
    problem: str | None           # why reading stopped early (None: clean end)


def decode_all(buffer: bytes | memoryview) -> Decoded:
    view = memoryview(buffer)
    records: list[tuple[dict[str, Any], bytes]] = []
    offset = 0
    total = len(view)
    while offset < total:
        if total - offset < _FRAME.size:
            return Decoded(records, offset, f"truncated record header at byte {offset}")
        length, crc = _FRAME.unpack_from(view, offset)
        start = offset + _FRAME.size
        if length < _HEADER_LEN.size or length > MAX_RECORD:
            return Decoded(records, offset, f"impossible record length at byte {offset}")
        if start + length > total:
            return Decoded(records, offset, f"truncated record at byte {offset}")
        payload = view[start:start + length]
        if zlib.crc32(payload) != crc:
            return Decoded(records, offset, f"checksum mismatch at byte {offset}")
        (head_len,) = _HEADER_LEN.unpack_from(payload, 0)
        if head_len > length - _HEADER_LEN.size:
            return Decoded(records, offset, f"bad header length at byte {offset}")
        try:
            header = json.loads(bytes(payload[_HEADER_LEN.size:_HEADER_LEN.size + head_len]))
        except ValueError:
            return Decoded(records, offset, f"unreadable header at byte {offset}")
        if not isinstance(header, dict):
            return Decoded(records, offset, f"bad header at byte {offset}")
        records.append((header, bytes(payload[_HEADER_LEN.size + head_len:])))
        offset = start + length
    return Decoded(records, offset, None)
