"""Booted-systemd package tests: on only with RUN_SYSTEM_TESTS=1 (.ci/run sets it).

They need root, systemd-nspawn (systemd-container), debootstrap, rpm, nsenter, network
to the Debian mirror and PyPI, a few minutes and about 1 GB of disk. Figures (build,
debootstrap, boot and install times, package sizes) are printed at the end of the run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import debian_root  # noqa: E402
from nspawn import BootedContainer, die_with_parent  # noqa: E402

SWITCH = "RUN_SYSTEM_TESTS"
REPO = Path(__file__).resolve().parents[2]
TOOLS = ("systemd-nspawn", "debootstrap", "nsenter", "rpm", "unshare", "tar", "chroot", "dash")

FIGURES: dict[str, str] = {}
STARTED: list[float] = []


def system_tests_enabled() -> bool:
    return os.environ.get(SWITCH) == "1"


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason=f"booted-systemd package tests are off: set {SWITCH}=1 "
                                   "(root, systemd-nspawn, debootstrap, rpm; .ci/run does)")
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.system)
            if not system_tests_enabled():
                item.add_marker(skip)


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        if STARTED:
            FIGURES["total system test time"] = f"{time.monotonic() - STARTED[0]:.0f} s"
        terminalreporter.section("system test figures")
        for key, value in FIGURES.items():
            terminalreporter.write_line(f"{key}: {value}")


@pytest.fixture(scope="session")
def figures() -> dict[str, str]:
    STARTED.append(time.monotonic())
    return FIGURES


@pytest.fixture(scope="session")
def prerequisites():
    """With the switch on, a missing tool is an error, never a silent skip."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    problems = []
    if os.geteuid() != 0:
        problems.append("they must run as root (systemd-nspawn, nsenter)")
    if missing:
        problems.append(f"missing tools: {', '.join(missing)} (apt-get install systemd-container "
                        "debootstrap rpm; .ci/run installs them)")
    if problems:
        pytest.fail(f"{SWITCH}=1 but " + "; ".join(problems), pytrace=False)


@pytest.fixture(scope="session")
def workdir(prerequisites, figures):
    """Scratch space outside /tmp (the packages, the booted root), removed at the end."""
    base = Path(os.environ.get("SYSTEM_TEST_WORKDIR", "/var/tmp"))
    path = Path(tempfile.mkdtemp(prefix="mirage-systest-", dir=base))
    yield path
    shutil.rmtree(path, ignore_errors=True)


class PackageBuild:
    """packaging/build running in the background: the session starts both releases at
    once so they overlap with debootstrap and the boot; each is awaited when needed."""

    def __init__(self, out: Path, release: int, formats: str = "deb rpm"):
        self.release, self.formats = release, formats
        self.started = time.monotonic()
        self.log = open(out.parent / f"build-{release}.log", "w+")
        self.process = subprocess.Popen(
            [str(REPO / "packaging" / "build"), "--out", str(out), "--release", str(release),
             "--formats", formats],
            stdout=subprocess.PIPE, stderr=self.log, text=True, preexec_fn=die_with_parent)
        self._built: dict[str, Path] | None = None

    def result(self) -> dict[str, Path]:
        if self._built is None:
            stdout, _ = self.process.communicate(timeout=1800)
            self.log.seek(0)
            if self.process.returncode != 0:
                pytest.fail(f"packaging/build --release {self.release} failed:\n"
                            f"{self.log.read()[-4000:]}", pytrace=False)
            FIGURES[f"packaging/build --release {self.release} (concurrent)"] = \
                f"{time.monotonic() - self.started:.0f} s"
            self._built = {}
            for line in stdout.split():
                path = Path(line)
                self._built[path.suffix.lstrip(".")] = path
                FIGURES[f"size {path.name}"] = f"{path.stat().st_size / 1e6:.1f} MB"
        return self._built

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()


class PrebuiltPackages:
    """SYSTEM_TEST_PACKAGES=DIR (a debugging aid): use DIR/dist1 and DIR/dist2 as built
    by packaging/build --release 1 / --release 2 instead of building."""

    def __init__(self, folder: Path):
        self.folder = folder

    def result(self) -> dict[str, Path]:
        found = {p.suffix.lstrip("."): p for p in sorted(self.folder.glob("mirage*"))}
        if set(found) != {"deb", "rpm"}:
            pytest.fail(f"SYSTEM_TEST_PACKAGES: no .deb and .rpm in {self.folder}", pytrace=False)
        return found

    def stop(self) -> None:
        pass


@pytest.fixture(scope="session")
def builds(workdir):
    prebuilt = os.environ.get("SYSTEM_TEST_PACKAGES")
    if prebuilt:
        started = {release: PrebuiltPackages(Path(prebuilt) / f"dist{release}")
                   for release in (1, 2)}
    else:
        started = {release: PackageBuild(workdir / f"dist{release}", release)
                   for release in (1, 2)}
    yield started
    for build in started.values():
        build.stop()


@pytest.fixture(scope="session")
def packages(builds) -> dict[str, Path]:
    """Release 1 of the .deb and the .rpm, built from this checkout by packaging/build."""
    return builds[1].result()


@pytest.fixture(scope="session")
def upgrade_packages(builds) -> dict[str, Path]:
    """Release 2 of the same version: an upgrade for both formats."""
    return builds[2].result()


@pytest.fixture(scope="session")
def root_tarball(prerequisites, builds, figures) -> Path:
    return debian_root.ensure_tarball(figures)


@pytest.fixture(scope="module")
def booted(root_tarball, workdir, figures, request):
    """One booted Debian 12 container per test module."""
    name = request.module.__name__.rsplit(".", 1)[-1]
    root = debian_root.extract(root_tarball, workdir / f"root-{name}")
    container = BootedContainer(root, workdir / f"boot-{name}.log")
    try:
        figures[f"boot ({name})"] = f"{container.boot():.1f} s"
        yield container
    finally:
        container.shutdown()
        shutil.rmtree(root, ignore_errors=True)
