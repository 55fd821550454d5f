"""The .rpm: digests, file list, scriptlet syntax, and a real install/upgrade/erase with
`rpm --root` into a scratch copy of the Debian root (no Fedora root can be booted here:
CI reaches no Fedora mirror). The scriptlets run for real inside that root, with /proc
mounted as a package manager's chroot would have it: they create the user, the folders
and the socket's enablement link; only starting units is skipped (nothing is booted).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import debian_root

CONFIG = "etc/mirage/mirage.yaml"
SCRIPTLETS = ("PREIN", "POSTIN", "PREUN", "POSTUN")


def rpm(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["rpm", *args], capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"rpm {' '.join(args)} exited {result.returncode}:\n"
                             f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return result


def rpm_in_root(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """rpm --root ROOT ..., with /proc mounted in ROOT inside a private mount namespace
    (systemd-tmpfiles and systemd-sysusers refuse to run without it)."""
    script = 'mount -t proc proc "$1/proc" && shift && exec "$@"'
    result = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
                             "sh", str(root), "rpm", "--root", str(root), *args],
                            capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"rpm --root {' '.join(args)} exited {result.returncode}:\n"
                             f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return result


def in_root(root: Path, *argv: str) -> str:
    return subprocess.run(["chroot", str(root), *argv], capture_output=True, text=True,
                          check=True, timeout=60).stdout


@pytest.fixture(scope="module")
def scratch_root(root_tarball, workdir):
    root = debian_root.extract(root_tarball, workdir / "rpm-root")
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def rpm_installed(scratch_root, packages):
    rpm_in_root(scratch_root, "-i", "--nodeps", str(packages["rpm"]))
    return scratch_root


def test_rpm_digests_verify(packages):
    out = rpm("-K", str(packages["rpm"])).stdout
    assert out.strip().endswith("digests OK"), out


def test_rpm_places_every_file_and_marks_the_config_noreplace(packages):
    path = str(packages["rpm"])
    files = set(rpm("-qlp", path).stdout.split())
    for expected in ("/usr/bin/mirage", "/usr/lib/mirage/venv/bin/mirage",
                     "/usr/lib/mirage/venv/pyvenv.cfg", "/usr/lib/systemd/system/mirage.service",
                     "/usr/lib/systemd/system/mirage.socket", "/usr/lib/sysusers.d/mirage.conf",
                     "/usr/lib/tmpfiles.d/mirage.conf", "/etc/mirage/mirage.yaml",
                     "/usr/share/man/man1/mirage.1.gz", "/usr/share/doc/mirage/copyright"):
        assert expected in files, expected
    assert not [f for f in files if f.startswith(("/var/lib/mirage", "/tmp", "/root"))]

    flags = dict(reversed(line.split(" ", 1)) for line in rpm(
        "-qp", "--qf", "[%{FILEFLAGS:fflags} %{FILENAMES}\n]", path).stdout.splitlines()
        if " " in line)
    assert set(flags["/etc/mirage/mirage.yaml"]) >= {"c", "n"}      # %config(noreplace)
    assert rpm("-qp", "--qf", "%{ARCH}", path).stdout == "x86_64"
    requires = rpm("-qp", "--requires", path).stdout.split("\n")
    assert "/usr/bin/python3.11" in requires and "systemd" in requires


def test_rpm_scriptlets_are_valid_posix_shell(packages, workdir):
    for tag in SCRIPTLETS:
        body = rpm("-qp", "--qf", f"%{{{tag}}}", str(packages["rpm"])).stdout
        assert body and body != "(none)", f"no {tag} scriptlet"
        for shell in (["dash", "-n"], ["bash", "--posix", "-n"]):
            checked = subprocess.run(shell, input=body, capture_output=True, text=True)
            assert checked.returncode == 0, f"{tag} under {shell[0]}: {checked.stderr}"


def test_rpm_install_runs_its_scriptlets_in_the_target_root(rpm_installed):
    root = rpm_installed
    passwd = in_root(root, "getent", "passwd", "mirage").strip().split(":")
    assert passwd[5] == "/var/lib/mirage" and int(passwd[2]) < 1000
    assert in_root(root, "stat", "-c", "%U %G %a", "/var/lib/mirage").split()[:2] == ["mirage", "mirage"]
    assert in_root(root, "stat", "-c", "%U %G %a", "/" + CONFIG).split() == ["root", "mirage", "640"]
    link = root / "etc/systemd/system/sockets.target.wants/mirage.socket"
    assert link.is_symlink()
    assert (root / "usr/bin/mirage").readlink() == Path("/usr/lib/mirage/venv/bin/mirage")
    assert "daemon" in in_root(root, "/usr/bin/mirage", "--help")
    verify = rpm_in_root(root, "-V", "--nodeps", "mirage", check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_rpm_upgrade_keeps_the_edited_config_and_the_state(rpm_installed, upgrade_packages):
    root = rpm_installed
    config = root / CONFIG
    config.write_text(config.read_text() + "\n# edited by the operator\n")
    (root / "var/lib/mirage/marker").write_text("state")

    rpm_in_root(root, "-U", "--nodeps", str(upgrade_packages["rpm"]))

    assert rpm_in_root(root, "-q", "--qf", "%{VERSION}-%{RELEASE}", "mirage").stdout == "0.1.0-2"
    assert config.read_text().endswith("# edited by the operator\n")
    assert (root / "var/lib/mirage/marker").read_text() == "state"
    assert (root / "etc/systemd/system/sockets.target.wants/mirage.socket").is_symlink()


def test_rpm_erase_disables_the_socket_and_keeps_the_state(rpm_installed):
    root = rpm_installed
    rpm_in_root(root, "-e", "mirage")
    for gone in ("usr/lib/mirage", "usr/bin/mirage", "usr/lib/systemd/system/mirage.socket",
                 "etc/systemd/system/sockets.target.wants/mirage.socket"):
        assert not (root / gone).exists() and not (root / gone).is_symlink(), gone
    assert (root / "var/lib/mirage/marker").exists()               # rpm has no purge
    assert (root / (CONFIG + ".rpmsave")).exists()                  # the operator's edits
