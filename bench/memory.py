"""Python heap per idle socket, and who keeps it: `python -m bench.memory`.

Scenario 4 (idle sockets) measured deterministically instead of by RSS: the server runs in a
child process under uvicorn with the flags of `make run`, on a SQLite database prepared as
the bench prepares it. After 10 sockets warmed it up (then closed), tracemalloc starts; N
token-authenticated sockets connect, send `resume`, get `resumed` and sit idle; the live
heap is then divided by N and grouped by the innermost frame of Parley, Channels, uvicorn
or websockets on each allocation's stack ("other" when none is on it). With `--rss` nothing
is traced and the growth of the process's RSS is divided instead (what the bench measures:
the heap plus allocator fragmentation and memory outside Python's allocators).

    python -m bench.memory                                  # parley and bare, 1,000 sockets
    python -m bench.memory --systems parley --sockets 400 --top 40
    python -m bench.memory --rss --sockets 2000
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import threading
import tracemalloc
from collections import defaultdict
from pathlib import Path
from typing import Any

FRAMES = 40
GROUPS = ("parley", "channels", "uvicorn", "websockets", "bench")
REPORT = "memory-report "  # the child's answer on stdout starts with this


def _group(filename: str) -> str | None:
    path = filename.replace("\\", "/")
    for name in GROUPS:
        if f"/{name}/" in path:
            return name
    return None


def _short(filename: str) -> str:
    path = filename.replace("\\", "/")
    for name in GROUPS:
        if f"/{name}/" in path:
            return name + "/" + path.rsplit(f"/{name}/", 1)[1]
    return path.rsplit("/", 2)[-1] if "/" in path else path


def heap_report(snapshot: tracemalloc.Snapshot) -> dict[str, Any]:
    """Bytes and blocks by group and by the line that decided the group."""
    groups: dict[str, int] = defaultdict(int)
    lines: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    stacks: dict[tuple[str, str], tuple[int, list[str]]] = {}  # the biggest stack of each
    total = 0
    for stat in snapshot.statistics("traceback"):
        frames = list(reversed(stat.traceback))  # innermost first
        where = next((f for f in frames if _group(f.filename)), frames[0])
        group = _group(where.filename) or "other"
        total += stat.size
        groups[group] += stat.size
        line = lines[(group, f"{_short(where.filename)}:{where.lineno}")]
        line[0] += stat.size
        line[1] += stat.count
        key = (group, f"{_short(where.filename)}:{where.lineno}")
        if stat.size > stacks.get(key, (0, []))[0]:
            stacks[key] = (stat.size, [f"{_short(f.filename)}:{f.lineno}" for f in frames])
    return {
        "total": total,
        "groups": dict(groups),
        "lines": [[g, w, size, count, stacks[g, w][1]] for (g, w), (size, count) in lines.items()],
    }


# -- the server (child process) ------------------------------------------------------------


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def serve(app: str, port: int, trace: bool) -> None:
    """Run `app` under uvicorn with `make run`'s flags; stdin says when to start and snap."""
    from uvicorn.main import main as uvicorn_main

    from bench.systems import UVICORN_FLAGS, raise_open_file_limit

    raise_open_file_limit()

    def control() -> None:
        base = 0
        for line in sys.stdin:
            gc.collect()
            if line.strip() == "start":
                base = _rss()
                if trace:
                    tracemalloc.start(FRAMES)
                print("ok", flush=True)
            elif line.strip() == "snap":
                report = {"rss": _rss() - base}
                if trace:
                    report |= heap_report(tracemalloc.take_snapshot())
                    tracemalloc.stop()
                print(REPORT + json.dumps(report), flush=True)

    threading.Thread(target=control, daemon=True).start()
    uvicorn_main.main([app, "--port", str(port), *UVICORN_FLAGS])


# -- the driver ----------------------------------------------------------------------------


def _ask(proc: subprocess.Popen[str], command: str) -> str:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(command + "\n")
    proc.stdin.flush()
    while True:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("the server went away")
        if line.startswith(REPORT):
            return line[len(REPORT) :]
        if line.strip() == "ok":
            return ""


async def _sockets(specs: list[Any], concurrency: int = 100) -> Any:
    from bench.loadgen import Plan, Worker

    worker = Worker(Plan(clients=specs, connect_concurrency=concurrency))
    connected = await worker.connect_all()
    if connected["failures"]:
        raise RuntimeError(f"handshakes failed: {connected['failures']}")
    await worker.go_live()
    return worker


def measure(
    system: str, n: int, workdir: Path, trace: bool = True, concurrency: int = 100
) -> dict[str, Any]:
    from bench.scenarios import IDLE_FIRST, IDLE_ROOM, dataset
    from bench.systems import PY, ROOT, SYSTEMS, Deployment, Server, free_port, wait_for_port

    dep = Deployment(SYSTEMS[system], workdir, None)
    dep.prepare(dataset(["idle"], [n]), {})
    app = {"bare": "bench.bare:app", "parley": "parley.asgi:application"}[system]
    port = free_port()
    log = (workdir / f"{system}.log").open("w")
    proc = subprocess.Popen(
        [PY, "-m", "bench.memory", "--serve", app, str(port), *([] if trace else ["--rss"])],
        env=dep.env,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        wait_for_port(port, proc)  # type: ignore[arg-type]
        server = [Server(proc, port, workdir / f"{system}.log")]  # type: ignore[arg-type]
        specs = [dep.client(server, IDLE_FIRST + i, f"i{i // IDLE_ROOM}") for i in range(n)]

        async def run() -> dict[str, Any]:
            warm = await _sockets(specs[-10:])  # imports, first queries, the hub
            await warm.close_all()
            await asyncio.sleep(1.5)
            _ask(proc, "start")
            live = await _sockets(specs, concurrency)
            await asyncio.sleep(2.0)
            report = json.loads(_ask(proc, "snap"))
            await live.close_all()
            return report

        return asyncio.run(run())
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def show(system: str, n: int, report: dict[str, Any], top: int, stacks: bool = False) -> None:
    def kb(size: int) -> str:
        return f"{size / n / 1024:6.2f}"

    if "total" not in report:
        print(f"{system}: {n:,} idle sockets, RSS {kb(report['rss'])} KB per socket")
        return
    print(f"\n{system}: {n:,} idle sockets, Python heap {kb(report['total'])} KB per socket")
    for group, size in sorted(report["groups"].items(), key=lambda g: -g[1]):
        print(f"  {kb(size)} KB  {group}")
    print(f"  top {top} lines (KB per socket, blocks per socket, innermost frame of a group):")
    for group, where, size, count, stack in sorted(report["lines"], key=lambda x: -x[2])[:top]:
        print(f"  {kb(size)} KB {count / n:6.2f}  {group:10} {where}")
        if stacks:  # the biggest allocation stack of that line, innermost first
            print("".join(f"{'':30}{frame}\n" for frame in stack[:12]), end="")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--systems", default="parley,bare")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--rss", action="store_true", help="RSS growth instead of the heap")
    parser.add_argument(
        "--concurrency", type=int, default=100, help="handshakes in flight (the bench: 100)"
    )
    parser.add_argument("--stacks", action="store_true", help="show a stack for each line")
    parser.add_argument("--json", help="also write the reports to this file")
    parser.add_argument("--serve", nargs=2, metavar=("APP", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), trace=not args.rss)
        return
    from bench.systems import raise_open_file_limit

    raise_open_file_limit()
    reports = {}
    with tempfile.TemporaryDirectory(prefix="parley-memory-") as tmp:
        for system in args.systems.split(","):
            reports[system] = measure(
                system, args.sockets, Path(tmp), not args.rss, args.concurrency
            )
            show(system, args.sockets, reports[system], args.top, args.stacks)
    if {"parley", "bare"} <= set(reports):
        what = "rss" if args.rss else "total"
        ratio = reports["parley"][what] / reports["bare"][what]
        print(f"\nparley ÷ bare ({'RSS' if args.rss else 'Python heap'}): {ratio:.2f}×")
    if args.json:
        Path(args.json).write_text(json.dumps({"sockets": args.sockets, **reports}))


if __name__ == "__main__":
    main()
