"""Run one corpus line in the Mirage shell (RAM workspace) and in /bin/bash (temp folder)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from mirage.workspace.shell.runner import Limits, run_line
from mirage.workspace.testing import ram_workspace_fs

HERE = Path(__file__).parent
LIMITS = Limits(timeout_seconds=10, output_limit_bytes=1 << 20)


def load_corpus(path: Path = HERE / "corpus.txt") -> list[str]:
    """Entries: one per line; '#' comments and blank lines skipped; '|' continues an entry."""
    entries: list[str] = []
    for line in path.read_text().split("\n"):
        if line.startswith("|") and entries:
            entries[-1] += "\n" + line[1:]
        elif line.strip() and not line.startswith("#"):
            entries.append(line)
    return entries


def reference_tools() -> Path:
    """A folder put first on bash's PATH so 'awk' is GNU awk (Debian's default is mawk)."""
    folder = Path(tempfile.mkdtemp(prefix="mirage-difftools-"))
    gawk = shutil.which("gawk")
    if gawk:
        (folder / "awk").symlink_to(gawk)
    return folder


def lay_out(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def run_bash(line: str, files: dict[str, bytes], tools: Path) -> tuple[bytes, int]:
    with tempfile.TemporaryDirectory(prefix="mirage-diff-") as tmp:
        root = Path(tmp)
        lay_out(root, files)
        env = {"LC_ALL": "C", "HOME": str(root), "PATH": f"{tools}:/usr/bin:/bin",
               "USER": "mirage", "SHELL": "/bin/bash"}
        proc = subprocess.run(["/bin/bash", "-c", line], cwd=root, env=env, capture_output=True,
                              stdin=subprocess.DEVNULL, timeout=20)
        return proc.stdout, proc.returncode


async def run_mirage(line: str, files: dict[str, bytes]) -> tuple[bytes, int]:
    fs = ram_workspace_fs()
    for rel, data in files.items():
        parent = "/" + rel.rsplit("/", 1)[0] if "/" in rel else None
        if parent:
            await fs.mkdir(parent, parents=True, exist_ok=True)
        await fs.write("/" + rel, data)
    result = await run_line(fs, line, limits=LIMITS)
    return result.stdout, result.exit_code


def has_reference_tools() -> bool:
    return all(shutil.which(t) for t in ("gawk", "jq")) and os.path.exists("/bin/bash")
