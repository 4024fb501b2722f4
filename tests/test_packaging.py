"""Packaging as an operator meets it: the locks install what pyproject.toml says, with
hashes, production without the development server, and `pip wheel .` builds Parley."""

from __future__ import annotations

import email
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==([^\s;\\]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    """name -> version of every `name==version` line of a requirements file."""
    found = {}
    for line in path.read_text().splitlines():
        if match := PIN.match(line):
            found[canonical(match[1])] = match[3]
    return found


def hashed(path: Path) -> dict[str, int]:
    """name -> how many hashes a lock gives for it."""
    counts: dict[str, int] = {}
    name = None
    for line in path.read_text().splitlines():
        if match := PIN.match(line):
            name = canonical(match[1])
            counts[name] = 0
        if name and "--hash=sha256:" in line:
            counts[name] += line.count("--hash=sha256:")
    return counts


def test_settings_load_and_check_without_daphne():
    # requirements.lock has no daphne: a production install must start without it.
    code = (
        "import sys; sys.modules['daphne'] = None;"
        "import django; django.setup();"
        "from django.conf import settings; from django.core.management import call_command;"
        "call_command('check');"
        "print('daphne' in settings.INSTALLED_APPS)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "parley.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_daphne_is_an_app_where_it_is_installed():
    from django.conf import settings

    assert settings.INSTALLED_APPS[0] == "daphne"  # runserver's ASGI mode in development


def test_both_locks_pin_every_package_with_hashes():
    for lock in ("requirements.lock", "requirements-dev.lock"):
        counts = hashed(ROOT / lock)
        assert len(counts) > 30, lock
        assert [name for name, n in counts.items() if n == 0] == [], lock


def test_the_locks_agree_with_the_lists_they_are_made_from():
    runtime, dev = pins(ROOT / "requirements.lock"), pins(ROOT / "requirements-dev.lock")
    wanted = pins(ROOT / "requirements.in")
    wanted_dev = pins(ROOT / "requirements-dev.in")

    # A pin changed in an .in file without `make lock` shows here.
    assert {name: runtime.get(name) for name in wanted} == wanted
    assert {name: dev.get(name) for name in wanted | wanted_dev} == wanted | wanted_dev
    # Development installs what production runs, and more.
    assert {name: dev.get(name) for name in runtime} == runtime
    assert "daphne" not in runtime and "daphne" in dev


def test_pip_wheel_builds_parley_with_its_dependencies_and_license(tmp_path):
    # Built from a copy: setuptools leaves build/ and parley.egg-info/ where it builds.
    source = tmp_path / "source"
    shutil.copytree(
        ROOT / "parley", source / "parley", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in (
        "pyproject.toml",
        "README.md",
        "LICENSE",
        "requirements.in",
        "requirements-dev.in",
    ):
        shutil.copy(ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", "-w", str(wheels)],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    [wheel] = wheels.glob("parley-*.whl")

    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        [metadata_name] = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = email.message_from_bytes(archive.read(metadata_name))

    requires = metadata.get_all("Requires-Dist")
    runtime = {canonical(PIN.match(r)[1]): PIN.match(r)[3] for r in requires if "extra ==" not in r}
    assert runtime == pins(ROOT / "requirements.in")
    assert any(r.startswith("daphne==") and 'extra == "dev"' in r for r in requires)
    assert metadata["License-Expression"] == "MIT"
    assert any(n.endswith("licenses/LICENSE") for n in names)
    assert "parley/web/templates/web/chat.html" in names
    assert any(n.startswith("parley/web/static/web/js/") for n in names)
    assert not any(n.startswith("tests/") for n in names)


def test_the_license_is_the_one_pyproject_names():
    assert 'license = "MIT"' in (ROOT / "pyproject.toml").read_text()
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


@pytest.mark.parametrize("name", ["CHANGELOG.md", "CONTRIBUTING.md"])
def test_the_project_files_exist(name):
    assert (ROOT / name).read_text().strip()
