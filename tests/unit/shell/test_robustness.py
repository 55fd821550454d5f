"""Malformed and odd lines (malformed_lines.txt) never raise out of run_line: each
ends with an exit status and, when it fails, a message — never a traceback or a 500."""

from __future__ import annotations

import asyncio
from pathlib import Path

from mirage.workspace.shell.runner import Limits, run_line
from mirage.workspace.testing import ram_workspace_fs

LINES = [line for line in (Path(__file__).parent / "malformed_lines.txt").read_text().split("\n")
         if line.strip()]


def test_malformed_lines_end_with_a_status_not_an_exception():
    async def go():
        fs = ram_workspace_fs()
        await fs.write("/a", b"hello\n")
        results = []
        for line in LINES:
            results.append((line, await run_line(fs, line, limits=Limits(timeout_seconds=5,
                                                                          output_limit_bytes=1 << 20))))
        return results
    results = asyncio.run(go())
    assert len(results) == len(LINES) > 150
    for line, result in results:
        assert 0 <= result.exit_code <= 255, line
        assert b"Traceback" not in result.stderr, line
        if result.exit_code == 2 and not result.stdout:
            assert result.stderr, f"silent failure for {line!r}"


def test_a_command_choking_on_its_arguments_reports_status_2(sh):
    r = sh.run("uniq -f notanumber /a.txt; echo after")
    assert r.out == "after\n" and "uniq: invalid arguments" in r.err
