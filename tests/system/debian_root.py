"""A minimal Debian 12 root for the booted-systemd tests, debootstrapped once and cached.

The cache lives outside the repo (``/var/cache/mirage-ci`` unless SYSTEM_TEST_CACHE_DIR
says otherwise) as one tarball per (suite, variant, package list, mirror): a changed
list makes a new tarball. Each test run extracts a private copy.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

SUITE = "bookworm"
VARIANT = "minbase"
# systemd + dbus to boot; curl to talk to the daemon; python3 (3.11) for the package's
# venv; python3-jwt so the distro's older pyjwt sits in dist-packages, where the
# package's private venv must not see it; procps (/bin/kill, the unit's ExecReload) is
# a dependency of the package that minbase lacks, and the container has no network.
INCLUDE = ("systemd", "systemd-sysv", "dbus", "curl", "ca-certificates", "python3",
           "python3-jwt", "procps")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEFAULT_CACHE = Path("/var/cache/mirage-ci")


def cache_dir() -> Path:
    return Path(os.environ.get("SYSTEM_TEST_CACHE_DIR") or DEFAULT_CACHE)


def configured_mirror(sources_dir: Path = Path("/etc/apt")) -> str:
    """The Debian archive this machine's apt uses (the one registry CI can reach)."""
    candidates: list[Path] = []
    if (sources_dir / "sources.list").exists():
        candidates.append(sources_dir / "sources.list")
    candidates += sorted((sources_dir / "sources.list.d").glob("*"))
    for path in candidates:
        try:
            text = path.read_text()
        except OSError:
            continue
        for uri in re.findall(r"^\s*URIs:\s*(\S+)", text, re.M):       # deb822
            if _is_main_archive(uri):
                return uri.rstrip("/")
        for uri in re.findall(r"^\s*deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+\S+", text, re.M):  # one-line
            if _is_main_archive(uri):
                return uri.rstrip("/")
    return DEFAULT_MIRROR


def _is_main_archive(uri: str) -> bool:
    return uri.rstrip("/").endswith("/debian")


def cache_key(mirror: str) -> str:
    text = "|".join((SUITE, VARIANT, ",".join(INCLUDE), mirror))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def ensure_tarball(figures: dict[str, str] | None = None) -> Path:
    """The cached root tarball, debootstrapping it first when the cache is cold."""
    mirror = os.environ.get("SYSTEM_TEST_DEBIAN_MIRROR") or configured_mirror()
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    tarball = folder / f"{SUITE}-{VARIANT}-{cache_key(mirror)}.tar"
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)          # one debootstrap at a time per cache
        if tarball.exists():
            if figures is not None:
                figures["debootstrap"] = f"cached ({tarball})"
            return tarball
        work = folder / f"build-{os.getpid()}"
        shutil.rmtree(work, ignore_errors=True)
        started = time.monotonic()
        try:
            result = subprocess.run(
                ["debootstrap", f"--variant={VARIANT}", f"--include={','.join(INCLUDE)}",
                 SUITE, str(work / "root"), mirror],
                capture_output=True, text=True, timeout=1200)
            if result.returncode != 0:
                log = (result.stdout + result.stderr)[-3000:]
                raise RuntimeError(f"debootstrap {SUITE} from {mirror} failed:\n{log}")
            # no apt lists are needed inside: the package's dependencies are all present
            subprocess.run(["tar", "--numeric-owner", "--xattrs", "--xattrs-include=*",
                            "-C", str(work / "root"), "-cf", str(tarball) + ".part", "."],
                           check=True, timeout=600)
            os.replace(str(tarball) + ".part", tarball)
            for stale in folder.glob(f"{SUITE}-{VARIANT}-*.tar"):    # an older package list
                if stale != tarball:
                    stale.unlink()
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if figures is not None:
            figures["debootstrap"] = f"{time.monotonic() - started:.0f} s (cold cache, {mirror})"
        return tarball


def extract(tarball: Path, into: Path) -> Path:
    """A private copy of the root, for one test session."""
    into.mkdir(parents=True)
    subprocess.run(["tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "-C", str(into),
                    "-xf", str(tarball)], check=True, timeout=600)
    return into
