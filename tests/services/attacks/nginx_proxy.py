"""nginx in front of test server processes, configured from docs/deployment.md's block.

The documented `nginx` block is read from docs/deployment.md and changed only where a
test must: its upstreams are the test's servers, it listens on a free loopback port
without TLS, and its logs, pid and temporary files live in a directory of its own. nginx
runs as a child process (`daemon off`) of Debian's package, `/usr/sbin/nginx`.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
NGINX = os.environ.get("PARLEY_NGINX", "/usr/sbin/nginx")


def documented_block() -> str:
    text = (ROOT / "docs" / "deployment.md").read_text()
    found = re.search(r"```nginx\n(.*?)```", text, re.S)
    assert found, "docs/deployment.md has no nginx block"
    return found.group(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NginxProxy:
    def __init__(self, upstream_ports: list[int]) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="parley-nginx-"))
        self.port = free_port()
        block = documented_block()
        upstreams = "".join(f"    server 127.0.0.1:{p};\n" for p in upstream_ports)
        block = re.sub(
            r"(upstream parley \{\n\s*least_conn;\n)(\s*server [^\n]+\n)+",
            rf"\g<1>{upstreams}",
            block,
        )
        block = block.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{self.port};")
        block = re.sub(r"\s*ssl_certificate(_key)? [^\n]+", "", block)
        block = block.replace("/var/log/nginx/parley.access.log", str(self.dir / "access.log"))
        block = block.replace("/var/lib/parley/media/", str(self.dir / "media") + "/")
        block = block[: block.rindex("server {")]  # the port-80 redirect: not needed here
        temp = "".join(
            f"    {kind}_temp_path {self.dir / kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        self.conf = self.dir / "nginx.conf"
        self.conf.write_text(
            ("user root;\n" if os.geteuid() == 0 else "")
            + f"daemon off;\nworker_processes 1;\npid {self.dir / 'nginx.pid'};\n"
            f"error_log {self.dir / 'error.log'} info;\n"
            "events { worker_connections 4096; }\n"
            f"http {{\n{temp}{block}}}\n"
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> NginxProxy:
        self.process = subprocess.Popen(
            [NGINX, "-p", str(self.dir), "-c", str(self.conf), "-e", str(self.dir / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited:\n{self.error_log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"nginx did not listen within 20 s:\n{self.error_log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def error_log(self) -> str:
        path = self.dir / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""
