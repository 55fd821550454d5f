"""Is stderr the journal? (systemd.exec(5), JOURNAL_STREAM)."""

from __future__ import annotations

import os
import sys
from typing import TextIO


def stderr_is_journal(journal_stream: str | None, stderr: TextIO | None = None) -> bool:
    """True when ``JOURNAL_STREAM`` ("DEVICE:INODE") names the file stderr is connected to.

    systemd sets JOURNAL_STREAM for a service whose stdout/stderr go to the journal;
    comparing it with stderr's device and inode (as systemd.exec(5) recommends) avoids
    writing ``<N>`` prefixes when stderr was redirected elsewhere by a child shell
    that merely inherited the variable.
    """
    if not journal_stream:
        return False
    device, sep, inode = journal_stream.partition(":")
    if not sep or not device.isdigit() or not inode.isdigit():
        return False
    stream = stderr if stderr is not None else sys.stderr
    try:
        info = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return info.st_dev == int(device) and info.st_ino == int(inode)


def journal_from_environment() -> bool:
    """Whether stderr is the journal, from this process's own JOURNAL_STREAM."""
    import os

    return stderr_is_journal(os.environ.get("JOURNAL_STREAM"))
