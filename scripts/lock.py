"""Regenerate requirements*.lock from requirements*.in with pip's own resolver."""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

for name in ("requirements", "requirements-dev"):
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--dry-run",
                "--ignore-installed",
                "--report",
                report.name,
                "-r",
                str(ROOT / f"{name}.in"),
            ],
            check=True,
        )
        resolved = json.loads(Path(report.name).read_text())["install"]
    pins = sorted(f"{p['metadata']['name']}=={p['metadata']['version']}" for p in resolved)
    header = f"# Generated from {name}.in by `make lock` (pip's resolver); every package pinned.\n"
    (ROOT / f"{name}.lock").write_text(header + "\n".join(pins) + "\n")
    print(f"{name}.lock: {len(pins)} packages")
