"""nginx in front of the test's server processes, configured as docs/deployment.md says.

The configuration is not written here: it is the ```nginx block of docs/deployment.md's
section "5. nginx", with only what a test on loopback must change — the upstream
servers' addresses (their parameters, such as `max_fails`, are kept), plain HTTP on a
free port instead of TLS on 443, the media directory, and no port-80 redirect. So a
change to the documented configuration is what the tests run.

nginx runs as a child of the test (`daemon off`), with its prefix, pid file, logs and
temporary directories in a directory of its own: no root, no global path.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def available() -> bool:
    return Path(NGINX).exists()


def documented_config() -> str:
    """The ```nginx block of docs/deployment.md's section "5. nginx"."""
    text = (ROOT / "docs" / "deployment.md").read_text()
    section = text[text.index("## 5. nginx") :]
    match = re.search(r"```nginx\n(.*?)```", section, re.S)
    assert match, "docs/deployment.md section 5 has no ```nginx block"
    return match.group(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loopback_config(upstreams: list[int], port: int, media: Path) -> str:
    """The documented server configuration, pointed at these upstream ports and served
    over plain HTTP on `port`."""
    conf = documented_config()
    # the upstream block: one `server` line per test server, parameters kept
    servers = re.findall(r"^(\s*)server 127\.0\.0\.1:\d+(.*);$", conf, re.M)
    assert servers, "the documented upstream lists no server"
    indent, params = servers[0]
    lines = "".join(f"{indent}server 127.0.0.1:{p}{params};\n" for p in upstreams)
    conf = re.sub(r"(?:^\s*server 127\.0\.0\.1:\d+.*;\n)+", lines, conf, count=1, flags=re.M)
    # the port-80 redirect goes; the TLS server listens on plain HTTP
    conf = re.sub(r"server \{\s*listen 80;.*?\n\}\n?", "", conf, flags=re.S)
    conf = re.sub(r"listen 443[^;]*;", f"listen 127.0.0.1:{port};", conf)
    conf = re.sub(r"^\s*ssl_\w+ .*\n", "", conf, flags=re.M)
    conf = re.sub(r"alias /var/lib/parley/media/;", f"alias {media}/;", conf)
    assert "listen 127.0.0.1" in conf and "ssl" not in conf, conf
    return conf


class Nginx:
    """`nginx -g 'daemon off;'` in a temporary prefix, proxying to `upstreams`."""

    def __init__(self, upstreams: list[int]) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="parley-nginx-"))
        (self.dir / "media").mkdir()
        (self.dir / "logs").mkdir()
        self.port = free_port()
        d = self.dir
        self.conf = d / "nginx.conf"
        self.conf.write_text(
            f"""worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
{loopback_config(upstreams, self.port, d / "media")}
}}
"""
        )
        self.process = subprocess.Popen(
            [NGINX, "-p", str(d), "-c", str(self.conf), "-e", str(d / "logs/error.log")]
            + ["-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/"

    def _wait_ready(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited:\n{self.error_log()}")
            try:
                with urllib.request.urlopen(f"{self.http}/healthz", timeout=3) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"nginx not ready after {timeout} s:\n{self.error_log()}")

    def error_log(self) -> str:
        path = self.dir / "logs" / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        errors = self.error_log()
        if errors:  # captured: shown with a failing test
            print(f"nginx error log:\n{errors[-20000:]}")
        shutil.rmtree(self.dir, ignore_errors=True)
