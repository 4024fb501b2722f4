"""`python -m bench`: run the scenarios, print the table, write JSON, plots and the docs.

    python -m bench                                  everything (what `make bench` runs)
    python -m bench --scenario fanout --duration 5   one scenario, shorter
    python -m bench --quick                          every scenario, small and short
    python -m bench --systems bare,parley --profile  py-spy each server while it runs

A run of every scenario writes bench/results/latest.json (git keeps the older ones), the
plots next to it and the table into docs/performance.md; a partial run writes to
bench/results/partial.tmp/ (ignored by git) and leaves the docs alone unless --docs is
given. --merge puts a partial run's scenarios into latest.json and the docs (a re-run).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from bench import report
from bench.coordinator import wait_until_quiet
from bench.scenarios import (
    HISTORY_SYSTEMS,
    MULTI_SYSTEMS,
    REACTIONS_SYSTEMS,
    SCENARIOS,
    SERVER_CHOICE_SYSTEMS,
    TRAFFIC_SYSTEMS,
    WIDGET_SYSTEMS,
    dataset,
    history_run,
    idle_run,
    traffic_run,
    widget_run,
)
from bench.systems import (
    ROOT,
    SYSTEMS,
    UVICORN_FLAGS,
    Deployment,
    Services,
    raise_open_file_limit,
)

RESULTS = ROOT / "bench" / "results"
DOCS = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- bench:results -->", "<!-- /bench:results -->"


class Progress:
    """One status line, rewritten in place on a terminal, printed every few seconds otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stdout.isatty()
        self.last = 0.0
        self.width = 0

    def __call__(self, message: str) -> None:
        if self.tty:
            pad = max(0, self.width - len(message))
            sys.stdout.write("\r" + message + " " * pad)
            sys.stdout.flush()
            self.width = len(message)
        elif time.monotonic() - self.last > 3:
            print(message, flush=True)
            self.last = time.monotonic()

    def done(self, message: str) -> None:
        if self.tty:
            sys.stdout.write("\r" + " " * self.width + "\r")
            self.width = 0
        print(message, flush=True)
        self.last = 0.0


def machine() -> dict[str, Any]:
    import django
    import uvicorn
    import websockets

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "host": socket.gethostname(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "uvicorn": uvicorn.__version__,
        "websockets": websockets.__version__,
        "uvicorn_flags": " ".join(UVICORN_FLAGS),
    }


def reachable(url: str, default_port: int) -> bool:
    rest = url.split("://", 1)[-1].split("/", 1)[0].split("@")[-1]
    host, _, port = rest.partition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port or default_port)), timeout=2):
            return True
    except OSError:
        return False


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--scenario",
        action="append",
        choices=list(SCENARIOS),
        help="run only this scenario (repeatable); default: all",
    )
    p.add_argument("--systems", default="", help="comma-separated subset of: " + ", ".join(SYSTEMS))
    p.add_argument(
        "--duration",
        type=float,
        default=20.0,
        help="seconds of traffic per system in scenarios 1, 3, 6 (default 20)",
    )
    p.add_argument(
        "--light-duration",
        type=float,
        default=60.0,
        help="seconds of traffic per system in scenario 2 (default 60: 300 messages, so that "
        "its p99 over deliveries rests on its 3 slowest messages, not on a single one)",
    )
    p.add_argument("--idle-sizes", default="2000,10000", help="scenario 4 socket counts")
    p.add_argument("--history-sizes", default="10000,1000000", help="scenario 5 sizes")
    p.add_argument("--history-samples", type=int, default=300)
    p.add_argument(
        "--widget-visitors", type=int, default=1000, help="scenario 7: visitors (default 1,000)"
    )
    p.add_argument(
        "--widget-rate",
        type=float,
        default=5.0,
        help="scenario 7: new visitors a second (default 5: 1,000 in 200 s)",
    )
    p.add_argument("--workers", type=int, default=1, help="load generator processes (traffic)")
    p.add_argument("--idle-workers", type=int, default=2, help="load generator processes (idle)")
    p.add_argument(
        "--quick",
        action="store_true",
        help="5 s runs, 2,000 idle sockets, history at 10,000 and 100,000",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="record each traffic run's first server with py-spy (bench/results/profiles)",
    )
    p.add_argument(
        "--parley-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for the Parley servers (an experiment; repeatable)",
    )
    p.add_argument(
        "--parley-db-query",
        default="",
        help="appended to Parley's DATABASE_URL, e.g. conn_max_age=600 (an experiment)",
    )
    p.add_argument("--docs", action="store_true", help="update docs/performance.md even if partial")
    p.add_argument(
        "--merge",
        action="store_true",
        help="put this run's scenarios into bench/results/latest.json (a re-run after a fix)",
    )
    p.add_argument(
        "--pg-url", default=os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
    )
    p.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
    )
    p.add_argument("--redis-dbs", default="11,12", help="two Redis db numbers the run may flush")
    args = p.parse_args(argv)
    if args.quick:
        args.duration = min(args.duration, 5.0)
        args.light_duration = min(args.light_duration, 5.0)
        args.idle_sizes = "2000"
        args.history_sizes = "10000,100000"
        args.history_samples = min(args.history_samples, 100)
        args.widget_visitors = min(args.widget_visitors, 200)
    return args


class Run:
    """One invocation: which scenarios on which systems, and everything they measured."""

    def __init__(self, args: argparse.Namespace, progress: Progress) -> None:
        self.args, self.progress = args, progress
        self.keys = [k for k in SCENARIOS if not args.scenario or k in args.scenario]
        self.wanted = [s for s in args.systems.split(",") if s] or list(SYSTEMS)
        unknown = set(self.wanted) - set(SYSTEMS)
        if unknown:
            raise SystemExit(f"unknown systems: {', '.join(sorted(unknown))}")
        self.idle_sizes = [int(s) for s in args.idle_sizes.split(",") if s]
        self.history_sizes = [int(s) for s in args.history_sizes.split(",") if s]
        self.services: Services | None = None
        if any(SYSTEMS[s].db == "pg" for s in self.wanted):
            if reachable(args.pg_url, 5432) and reachable(args.redis_url, 6379):
                dbs = tuple(int(d) for d in args.redis_dbs.split(","))
                self.services = Services(args.pg_url, args.redis_url, (dbs[0], dbs[1]))
            else:
                print("PostgreSQL or Redis is not reachable: skipping the -pg systems", flush=True)
                self.wanted = [s for s in self.wanted if SYSTEMS[s].db != "pg"]
        self.results: dict[str, Any] = {
            "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": " ".join(["python -m bench", *sys.argv[1:]]),
            "machine": machine(),
            "options": {k: v for k, v in vars(args).items() if k not in ("pg_url", "redis_url")},
            "scenarios": {k: SCENARIOS[k].title for k in self.keys},
            "runs": {},
            "errors": [],
        }
        self.latencies: dict[str, dict[str, Any]] = {}
        self.deployments: dict[str, Deployment] = {}
        self.workdir = Path(tempfile.mkdtemp(prefix="parley-bench-"))
        self.profile_dir = RESULTS / "profiles.tmp" if args.profile else None

    def systems_for(self, key: str) -> list[str]:
        pool = {
            "multi": MULTI_SYSTEMS,
            "history": HISTORY_SYSTEMS,
            "widget": WIDGET_SYSTEMS,
            "reactions": REACTIONS_SYSTEMS,
            "fanout": SERVER_CHOICE_SYSTEMS,
            "light": SERVER_CHOICE_SYSTEMS,
        }.get(key, TRAFFIC_SYSTEMS)
        return [s for s in pool if s in self.wanted]

    def failed(self, key: str, name: str, exc: Exception) -> None:
        traceback.print_exc()
        self.results["errors"].append({"system": name, "scenario": key, "error": str(exc)})
        self.progress.done(f"[{key}] {name} FAILED: {exc}")

    async def prepare(self) -> None:
        ds = dataset(self.keys, self.idle_sizes, self.args.widget_visitors)
        shared: dict[tuple[str, str], Deployment] = {}
        needed: list[str] = []
        for key in self.keys:
            if key != "history":
                needed += [s for s in self.systems_for(key) if s not in needed]
        for name in needed:
            self.progress(f"preparing {name}: {ds.users:,} users, {len(ds.rooms)} rooms")
            started = time.monotonic()
            dep = Deployment(
                SYSTEMS[name],
                self.workdir,
                self.services,
                dict(e.split("=", 1) for e in self.args.parley_env),
                self.args.parley_db_query,
            )
            try:
                await asyncio.to_thread(dep.prepare, ds, shared)
            except Exception as exc:
                self.failed("prepare", name, exc)
                continue
            self.deployments[name] = dep
            self.progress.done(f"prepared {name} in {time.monotonic() - started:.0f} s")

    async def history(self, name: str) -> None:
        await wait_until_quiet(self.progress)
        self.results["runs"].setdefault("history", {})[name] = await asyncio.to_thread(
            history_run,
            name,
            self.workdir,
            self.services,
            self.history_sizes,
            self.args.history_samples,
            self.progress,
        )
        self.progress.done(f"[history] {name}: done")

    async def idle(self, dep: Deployment) -> None:
        name = dep.system.name
        for n in self.idle_sizes:
            quiet = await wait_until_quiet(self.progress)
            r = await idle_run(dep, n, self.progress, self.args.idle_workers, self.profile_dir)
            r["background_cpu_before"] = quiet
            self.results["runs"].setdefault("idle", {}).setdefault(str(n), {})[name] = r
            hs = r["handshakes"]
            self.progress.done(
                f"[idle {n:,}] {name}: {hs['connected']:,} sockets, "
                f"{hs['per_second']:,.0f} handshakes/s, {r['kb_per_socket']} KB/socket"
            )

    async def widget(self, dep: Deployment) -> None:
        name = dep.system.name
        quiet = await wait_until_quiet(self.progress)
        r = await widget_run(
            dep,
            self.args.widget_visitors,
            self.args.widget_rate,
            self.progress,
            self.args.idle_workers,
        )
        r["background_cpu_before"] = quiet
        self.results["runs"].setdefault("widget", {})[name] = r
        self.progress.done(
            f"[widget] {name}: {r['acked']:,} visitors wrote, lost {r['lost']:,}, "
            f"p99 {r['latency_ms']['p99']} ms (plain {r['plain']['latency_ms']['p99']} ms), "
            f"{r['idle']['visitor']['kb_per_socket']} KB/visitor socket "
            f"({r['idle']['user']['kb_per_socket']} KB/user socket)"
        )

    async def traffic(self, key: str, dep: Deployment) -> None:
        name = dep.system.name
        quiet = await wait_until_quiet(self.progress)
        duration = self.args.light_duration if key == "light" else self.args.duration
        r, lat = await traffic_run(
            key, dep, duration, self.progress, self.args.workers, self.profile_dir
        )
        r["background_cpu_before"] = quiet
        self.results["runs"].setdefault(key, {})[name] = r
        self.latencies.setdefault(key, {})[name] = lat
        lat_ms = r["latency_ms"]
        self.progress.done(
            f"[{key}] {name}: {r['delivered_per_second']:,.0f} delivered/s, "
            f"p50 {lat_ms['p50']} ms, p99 {lat_ms['p99']} ms, lost {r['lost']:,}, "
            f"dup {r['duplicates']:,}, cpu {r['server']['cpu']:.0f}%"
        )

    async def __call__(self) -> dict[str, Any]:
        try:
            await self.prepare()
            for key in self.keys:
                scenario = SCENARIOS[key]
                self.progress.done(f"\n== scenario {scenario.number}: {scenario.title}")
                for name in self.systems_for(key):
                    try:
                        if key == "history":
                            await self.history(name)
                        elif name in self.deployments:
                            if key == "idle":
                                await self.idle(self.deployments[name])
                            elif key == "widget":
                                await self.widget(self.deployments[name])
                            else:
                                await self.traffic(key, self.deployments[name])
                    except Exception as exc:
                        self.failed(key, name, exc)
        finally:
            if self.services is not None:
                self.services.cleanup()
            shutil.rmtree(self.workdir, ignore_errors=True)
        self.results["finished"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.results["targets"] = report.targets(self.results)
        return self.results


def versions() -> str:
    def out(cmd: list[str]) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=5).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return "?"

    redis = out(["redis-server", "--version"]).split()
    version = next((w.removeprefix("v=") for w in redis if w.startswith("v=")), "?")
    return f"{out(['psql', '--version'])}; Redis {version}"


def write_docs(text: str, results: dict[str, Any]) -> None:
    m = results["machine"]
    block = "\n".join(
        [
            BEGIN,
            f"Run {results['started']} on `{m['host']}`: {m['cpu']}, {m['cores']} cores, "
            f"{m['memory_gb']} GB, Linux {m['kernel']}, Python {m['python']}, "
            f"Django {m['django']}, uvicorn {m['uvicorn']} (`{m.get('uvicorn_flags', '')}`), "
            f"websockets {m['websockets']}; "
            f"{results.get('services', '')}.",
            "",
            f"Command: `{results['command'].strip()}` (`make bench` runs `python -m bench`).",
            "",
            "```",
            text,
            "```",
            END,
        ]
    )
    doc = DOCS.read_text() if DOCS.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    if BEGIN in doc and END in doc:
        head, _, rest = doc.partition(BEGIN)
        _, _, tail = rest.partition(END)
        doc = head + block + tail
    else:
        doc += "\n" + block + "\n"
    DOCS.write_text(doc)


def merge(path: Path, new: dict[str, Any]) -> dict[str, Any]:
    """The last full run with this run's scenarios put in place of its own (--merge)."""
    base = json.loads(path.read_text())
    for key, runs in new["runs"].items():
        if key == "idle":
            for size, systems in runs.items():
                base["runs"].setdefault("idle", {}).setdefault(size, {}).update(systems)
        else:
            base["runs"].setdefault(key, {}).update(runs)
    redone = set(new["scenarios"])
    base["errors"] = [e for e in base["errors"] if e["scenario"] not in redone] + new["errors"]
    base.setdefault("merged", []).append(
        {"command": new["command"], "started": new["started"], "scenarios": sorted(redone)}
    )
    base["command"] += f" + {new['command']}"
    base["targets"] = report.targets(base)
    return base


def main(argv: list[str] | None = None) -> int:
    raise_open_file_limit()
    args = parse(argv)
    progress = Progress()
    bench = Run(args, progress)
    results = asyncio.run(bench())
    latencies = bench.latencies
    results["services"] = versions()
    experiment = args.parley_env or args.parley_db_query or args.profile
    full = not (args.scenario or args.systems or args.quick or experiment)
    if args.merge:
        results = merge(RESULTS / "latest.json", results)
        full = True
    titles = {k: f"{s.number}. {s.title}" for k, s in SCENARIOS.items()}
    text = report.render(results, titles)
    print("\n" + text)
    for e in results["errors"]:
        print(f"ERROR {e['scenario']} {e['system']}: {e['error'][:300]}")
    out = RESULTS if full else RESULTS / "partial.tmp"
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=1) + "\n")
    made = report.plots(results, latencies, out)
    print(f"\nresults: {out / 'latest.json'}; plots: {', '.join(p.name for p in made)}")
    if full or args.docs:
        write_docs(text, results)
        print(f"table written to {DOCS.relative_to(ROOT)}")
    failed = [t for t in results["targets"] if not t["pass"]]
    if failed:
        print(f"{len(failed)} of {len(results['targets'])} targets not met")
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
