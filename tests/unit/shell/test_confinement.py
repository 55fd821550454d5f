"""A shell line cannot reach the host: no processes, no host paths outside a disk
mount's root, no symlink escapes — only the workspace filesystem."""

from __future__ import annotations

import asyncio
import builtins
import os
import subprocess

import pytest

from mirage.workspace.fs import WorkspaceFS
from mirage.workspace.vfs.disk import DiskMount
from mirage.workspace.vfs.ram import RamMount
from tests.differential.fixture import FILES
from tests.differential.harness import load_corpus
from tests.unit.shell.conftest import Shell

SECRET = "HOST-SECRET-7f3a"


@pytest.fixture
def disk_shell(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "inside.txt").write_text("inside\n")
    (tmp_path / "outside.txt").write_text(SECRET + "\n")
    (root / "link_out").symlink_to(tmp_path / "outside.txt")
    (root / "dir_out").symlink_to(tmp_path)
    fs = WorkspaceFS({"/": RamMount(), "/data": DiskMount(str(root))})
    return Shell(files={}, fs=fs), tmp_path


def test_host_programs_cannot_be_run(sh, tmp_path):
    marker = tmp_path / "ran"
    for line in (f"/bin/sh -c 'touch {marker}'", f"/usr/bin/touch {marker}", "/bin/bash -c 'id'",
                 f"exec touch {marker}", f"command /bin/touch {marker}",
                 f"find / -maxdepth 0 -exec /bin/touch {marker} ';'",
                 f"echo {marker} | xargs /usr/bin/touch"):
        r = sh.run(line)
        assert "command not found" in r.err, line
    assert not marker.exists()


def test_sh_dash_c_runs_inside_the_workspace_shell_not_on_the_host(sh, tmp_path):
    marker = tmp_path / "ran"
    r = sh.run(f"sh -c 'mkdir -p {tmp_path} && touch {marker} && echo $0 $1' me arg; bash -c id")
    assert r.out == "me arg\n" and "id: command not found" in r.err
    assert not marker.exists()                                # the host is untouched...
    assert sh.exists(str(marker))                             # ...the workspace got the file


def test_command_substitution_of_a_host_program_is_not_found(sh):
    r = sh.run("echo \"[$(id)]\"; echo \"[$(whoami)]\"")
    assert r.out == "[]\n[]\n"
    assert "id: command not found" in r.err and "uid=" not in r.out


def test_host_absolute_paths_are_workspace_paths(sh):
    r = sh.run("cat /etc/passwd; ls /etc; grep -r root /; find / -name passwd")
    assert "root:" not in r.out and "passwd" not in r.out


def test_dotdot_cannot_leave_a_disk_mount_root(disk_shell):
    shell, host = disk_shell
    assert shell.run("cat /data/inside.txt").out == "inside\n"
    for line in ("cat /data/../outside.txt", "cd /data && cat ../../outside.txt",
                 "cat /data/../../../../outside.txt", "cd /data/../../..; cat outside.txt"):
        r = shell.run(line)
        assert SECRET not in r.out and r.code != 0, line


def test_writes_through_dotdot_land_in_the_workspace_not_the_host(disk_shell):
    shell, host = disk_shell
    shell.run("echo x > /data/../../escape.txt; mkdir -p /data/../../escdir")
    assert not (host / "escape.txt").exists() and not (host.parent / "escape.txt").exists()
    assert not (host / "escdir").exists()
    assert shell.read("/escape.txt") == b"x\n"        # the RAM root got it


def test_symlinks_out_of_a_disk_root_are_not_followed(disk_shell):
    shell, host = disk_shell
    for line in ("cat /data/link_out", "cat /data/dir_out/outside.txt", "ls /data/dir_out",
                 "grep -r HOST /data", "head /data/link_out", "cp /data/link_out /copy; cat /copy"):
        r = shell.run(line)
        assert SECRET not in r.out, line
    shell.run("echo pwned > /data/link_out; echo pwned >> /data/dir_out/outside.txt")
    assert (host / "outside.txt").read_text() == SECRET + "\n"


def test_no_line_of_the_corpus_starts_a_process_or_opens_a_host_file(monkeypatch):
    """Runs every differential line with process creation and builtins.open booby-trapped."""
    calls: list[str] = []

    def trap(name):
        def refuse(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f"{name} called by the shell")
        return refuse

    lines = load_corpus()
    shell = Shell(files={"/" + k: v for k, v in FILES.items()})
    shell.run("true")                          # warm up imports before trapping
    for name in ("system", "fork", "execv", "execve", "execvp", "posix_spawn", "popen"):
        if hasattr(os, name):
            monkeypatch.setattr(os, name, trap(f"os.{name}"))
    monkeypatch.setattr(subprocess, "Popen", trap("subprocess.Popen"))
    monkeypatch.setattr(builtins, "open", trap("open"))
    monkeypatch.setattr(asyncio, "create_subprocess_exec", trap("create_subprocess_exec"))
    monkeypatch.setattr(asyncio, "create_subprocess_shell", trap("create_subprocess_shell"))
    for line in lines:
        shell.run(line)
    assert calls == []


def test_read_only_workspace_refuses_every_write_with_a_message():
    shell = Shell(files={})
    asyncio.run(shell.fs.write("/f", b"data\n"))
    ro = Shell(files={}, fs=WorkspaceFS(dict(shell.fs.mounts), read_only=True))
    for line in ("echo x > /f", "echo x >> /new", "rm /f", "mkdir /d", "touch /t", "cp /f /g",
                 "mv /f /g", "sed -i s/d/D/ /f", "tee /t < /f"):
        r = ro.run(line)
        assert r.code != 0 and "read-only" in r.err.lower(), line
    assert ro.run("cat /f").out == "data\n"
