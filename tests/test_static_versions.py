"""During a rolling deploy a process of the old version and one of the new serve each
other's hashed static files, and a page's ES modules are all of its own version, cached
for good (docs/deployment.md, "Static files across versions")."""

from __future__ import annotations

import json
import re
import shutil
import urllib.request
from pathlib import Path
from urllib.parse import urljoin

from parley.web.liveserver import LiveServer

ROOT = Path(__file__).resolve().parent.parent
APP_STATIC = ROOT / "parley" / "web" / "static"
IMPORT = re.compile(
    r"""(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|import\s*["']([^"']+)["']"""
)


class Version(LiveServer):
    """A production-like process (DEBUG off, hashed static files) on a shared STATIC_ROOT."""

    def __init__(self, workdir: Path, static_root: Path, overlay: Path) -> None:
        workdir.mkdir()
        super().__init__(workdir)
        self.env.update(
            DEBUG="false",
            SECRET_KEY="static-versions-test-key-" + "x" * 40,
            SECURE_SSL_REDIRECT="false",
            STATIC_ROOT=str(static_root),
            DJANGO_SETTINGS_MODULE="tests.sites.static_overlay",
            PARLEY_TEST_STATIC_OVERLAY=str(overlay),
        )

    def collectstatic(self) -> dict[str, str]:
        """This version's files into the shared root (never cleared); its manifest."""
        self.manage("collectstatic", "--noinput", "-v0")
        manifest = Path(self.env["STATIC_ROOT"]) / "staticfiles.json"
        return json.loads(manifest.read_text())["paths"]


def fetch(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers.get("Cache-Control", ""), response.read().decode()


def module_graph(base: str, entry: str) -> dict[str, set[str]]:
    """Every module the entry imports, directly or not: URL path -> its imports."""
    graph: dict[str, set[str]] = {}
    todo = [entry]
    while todo:
        path = todo.pop()
        if path in graph:
            continue
        source = fetch(base + path)[2]
        imports = {urljoin(path, a or b) for a, b in IMPORT.findall(source)}
        graph[path] = imports
        todo.extend(imports)
    return graph


def test_old_and_new_processes_serve_each_others_pages_and_modules(tmp_path):
    static_root = tmp_path / "static"
    old_overlay, new_overlay = tmp_path / "old", tmp_path / "new"
    old_overlay.mkdir()
    # The next version changed one module that app.js imports, and nothing else.
    api = new_overlay / "web" / "js" / "api.js"
    api.parent.mkdir(parents=True)
    shutil.copy(APP_STATIC / "web" / "js" / "api.js", api)
    api.write_text(api.read_text() + "\n// the next version\n")
    old = Version(tmp_path / "a", static_root, old_overlay)
    new = Version(tmp_path / "b", static_root, new_overlay)
    try:
        # given: the old version collected and serving, then the new one collected and started
        old_manifest = old.collectstatic()
        old.start()
        new_manifest = new.collectstatic()
        new.start()

        # then: each version's modules are hashed, its own, and the change reached app.js
        entry = {
            v: "/static/" + m["web/js/app.js"]
            for v, m in (("old", old_manifest), ("new", new_manifest))
        }
        assert entry["old"] != entry["new"]
        assert old_manifest["web/js/dom.js"] == new_manifest["web/js/dom.js"]
        for version, manifest in (("old", old_manifest), ("new", new_manifest)):
            graph = module_graph(old.url, entry[version])
            modules = set(graph) | set().union(*graph.values())
            hashed = {"/static/" + name for name in manifest.values()}
            assert "/static/" + manifest["web/js/api.js"] in modules
            assert modules <= hashed, modules - hashed  # no plain name, no other version's
            assert len(modules) >= 10
            # and every one of them is served by both processes, cached for good
            for server in (old, new):
                for module in modules:
                    status, cache, _ = fetch(server.url + module)
                    assert status == 200, (server.url, module)
                    assert "immutable" in cache, (server.url, module, cache)

        # the pages: each process's login page's files, asked of the other process
        for page_of, other in ((old, new), (new, old)):
            html = fetch(page_of.url + "/accounts/login/")[2]
            files = set(re.findall(r'(?:src|href)="(/static/[^"]+)"', html))
            assert any(f.endswith(".css") for f in files), html
            for path in files:
                status, cache, _ = fetch(other.url + path)
                assert status == 200 and "immutable" in cache, (other.url, path, cache)
    finally:
        old.stop()
        new.stop()
