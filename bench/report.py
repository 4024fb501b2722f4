"""Turning a run's numbers into the table, the target checks, the JSON and the plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

# Parley variant -> the plain Channels system on the same database and layer.
PLAIN_OF = {"parley": "plain", "parley-pg": "plain-pg"}


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or not b:
        return "–"
    r = a / b
    return f"{r:.2f}×" if r < 10 else f"{r:.0f}×"


def _rows(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    line = "  ".join(
        h.ljust(w) if i == 0 else h.rjust(w)
        for i, (h, w) in enumerate(zip(headers, widths, strict=True))
    )
    out = [line, "  ".join("-" * w for w in widths)]
    for r in rows:
        out.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    return out


def traffic_table(
    runs: dict[str, dict[str, Any]], baseline: str | None = None, by: str = "delivered"
) -> list[str]:
    """One row per system; the ratio columns compare delivered/s, or p99 with by="p99"."""
    ratio_names = ["÷bare", "÷plain"] if by == "delivered" else ["p99 ÷bare", "p99 ÷plain"]
    headers = [
        "system",
        "delivered/s",
        "sent/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "lost",
        "dup",
        "err",
        "cpu %",
        "rss MB",
        "gen cpu %",
        "bg cpu %",
        *ratio_names,
    ]

    def metric(r: dict[str, Any]) -> float | None:
        if not r:
            return None
        return r["delivered_per_second"] if by == "delivered" else r["latency_ms"]["p99"]

    rows = []
    bare = runs.get("bare", {})
    for name, r in runs.items():
        lat = r["latency_ms"]
        plain = runs.get(PLAIN_OF.get(name, ""), {})
        if baseline:
            plain = runs.get(baseline, {}) if name != baseline else {}
        parley = name.startswith("parley")
        rows.append(
            [
                name,
                _fmt(r["delivered_per_second"]),
                _fmt(r["sent_per_second"]),
                _fmt(lat["p50"]),
                _fmt(lat["p95"]),
                _fmt(lat["p99"]),
                _fmt(lat["max"]),
                _fmt(r["lost"]),
                _fmt(r["duplicates"]),
                _fmt(sum(r["errors"].values())),
                _fmt(r["server"]["cpu"], 0),
                _fmt(r["server"]["rss_mb"], 0),
                _fmt(r["server"]["generator_cpu"], 0),
                _fmt(r["server"].get("other_cpu"), 0),
                _ratio(metric(r), metric(bare)) if parley and bare else "",
                _ratio(metric(r), metric(plain)) if parley and plain else "",
            ]
        )
    return _rows(headers, rows)


def _cpu_ms_per_handshake(r: dict[str, Any]) -> float | None:
    """Server CPU time per handshake over the connect phase: what a connect costs, less
    bent by the rest of the machine than the rate is (the rate needs the CPU free)."""
    hs, cpu_seconds = r["handshakes"], r.get("server", {}).get("cpu_seconds")
    if cpu_seconds is None or not hs["connected"]:
        return None
    return cpu_seconds * 1000 / hs["connected"]


def idle_table(runs: dict[str, dict[str, Any]]) -> list[str]:
    headers = [
        "system",
        "sockets",
        "handshakes/s",
        "hs p50 ms",
        "hs p99 ms",
        "cpu ms/hs",
        "bg cpu %",
        "failed",
        "KB/socket",
        "base MB",
        "rss MB",
        "KB ÷bare",
        "hs/s ÷bare",
        "KB ÷plain",
    ]
    rows = []
    bare = runs.get("bare", {})
    for name, r in runs.items():
        hs = r["handshakes"]
        plain = runs.get(PLAIN_OF.get(name, ""), {})
        is_parley = name.startswith("parley")
        rows.append(
            [
                name,
                _fmt(hs["connected"]),
                _fmt(hs["per_second"]),
                _fmt(hs["latency_ms"]["p50"]),
                _fmt(hs["latency_ms"]["p99"]),
                _fmt(_cpu_ms_per_handshake(r), 2),
                _fmt(r.get("server", {}).get("other_cpu"), 0),
                _fmt(sum(hs["failures"].values())),
                _fmt(r["kb_per_socket"]),
                _fmt(r["rss_base_mb"], 0),
                _fmt(r["rss_mb"], 0),
                _ratio(r["kb_per_socket"], bare.get("kb_per_socket")) if is_parley and bare else "",
                _ratio(hs["per_second"], bare.get("handshakes", {}).get("per_second"))
                if is_parley and bare
                else "",
                _ratio(r["kb_per_socket"], plain.get("kb_per_socket"))
                if is_parley and plain
                else "",
            ]
        )
    return _rows(headers, rows)


def _cpu_ms_per_delivery(r: dict[str, Any]) -> float | None:
    """Server CPU time over the visitors' phase per message delivered to a team socket
    (visitors' and plain ones): a visitor's session, first message, conversation and
    socket are all in it, so it reads as "what the inbox costs"."""
    cpu_seconds = r.get("server", {}).get("cpu_seconds")
    deliveries = r["received"] + r["plain"]["received"]
    if cpu_seconds is None or not deliveries:
        return None
    return cpu_seconds * 1000 / deliveries


def widget_table(runs: dict[str, dict[str, Any]]) -> list[str]:
    headers = [
        "system",
        "visitors",
        "wrote",
        "inbox",
        "lost",
        "dup",
        "err",
        "p50 ms",
        "p99 ms",
        "plain p50",
        "plain p99",
        "p99 ÷plain",
        "cpu %",
        "cpu ms/dlv",
        "bg cpu %",
        "KB/visitor",
        "KB/user",
        "KB ÷user",
    ]
    rows = []
    for name, r in runs.items():
        lat, plain = r["latency_ms"], r["plain"]["latency_ms"]
        visitor_kb = r["idle"]["visitor"]["kb_per_socket"]
        user_kb = r["idle"]["user"]["kb_per_socket"]
        rows.append(
            [
                name,
                _fmt(r["visitors"]),
                _fmt(r["acked"]),
                f"{r['received']:,}/{r['expected']:,}",
                _fmt(r["lost"] + r["plain"]["lost"]),
                _fmt(r["duplicates"]),
                _fmt(sum(r["errors"].values())),
                _fmt(lat["p50"]),
                _fmt(lat["p99"]),
                _fmt(plain["p50"]),
                _fmt(plain["p99"]),
                _ratio(lat["p99"], plain["p99"]),
                _fmt(r["server"]["cpu"], 0),
                _fmt(_cpu_ms_per_delivery(r), 2),
                _fmt(r["server"].get("other_cpu"), 0),
                _fmt(visitor_kb),
                _fmt(user_kb),
                _ratio(visitor_kb, user_kb),
            ]
        )
    return _rows(headers, rows)


def widget_notes(runs: dict[str, dict[str, Any]]) -> list[str]:
    """Under the widget table: how it ran, the settings it needed, and what went wrong."""
    first = next(iter(runs.values()))
    settings = ", ".join(f"{k}={v}" for k, v in first.get("settings", {}).items())
    plain = first["plain"]
    lines = [
        "",
        "Each visitor: session, first message "
        f"over HTTP, visitor socket (resume); {first['team']} team sockets receive "
        f"conversation.joined and message.created; {plain['senders']} signed-in senders "
        f"send plain messages at {plain['rate']:g}/s each to a room with the same team "
        "(p50/p99: send to each team socket). KB: RSS per idle socket on a fresh server, "
        "visitor sockets against as many signed-in users' (scenario 4's way).",
        f"Server settings for this scenario (one client address for all): {settings}.",
    ]
    for name, r in runs.items():
        joined = (
            f"{r['visitors']:,} visitors at {r['rate']:g}/s in {r['seconds']:g} s; "
            f"conversation.joined {r['joined']:,}/{r['expected']:,}"
        )
        http = f"session p50 {r['session_ms']['p50']} ms, send answered p50 {r['send_ms']['p50']}"
        sockets = (
            f"visitor sockets live {r['visitor_sockets']:,}; cpu ms/visitor "
            f"{_fmt(r['server']['cpu_seconds'] * 1000 / max(1, r['visitors']), 0)}; idle "
            f"handshakes/s visitor {_fmt(r['idle']['visitor']['handshakes']['per_second'])}, "
            f"user {_fmt(r['idle']['user']['handshakes']['per_second'])}"
        )
        lines.append(f"  {name:<10} {joined}; {http} / p99 {r['send_ms']['p99']} ms; {sockets}")
        if r["errors"]:
            lines.append(f"  {name:<10} errors: {r['errors']}")
    return lines


def history_table(runs: dict[str, dict[str, Any]]) -> list[str]:
    headers = [
        "system",
        "messages",
        "via",
        "newest p50",
        "newest p99",
        "middle p50",
        "middle p99",
        "newest ÷small",
        "middle ÷small",
    ]
    rows = []
    for name, r in runs.items():
        sizes = sorted(r["sizes"], key=int)
        small = r["sizes"][sizes[0]]
        for size in sizes:
            s = r["sizes"][size]
            for via in ("rest", "selector"):
                newest, middle = s.get(f"{via}_newest"), s.get(f"{via}_middle")
                if newest is None:
                    continue
                first = size == sizes[0]
                rows.append(
                    [
                        name,
                        _fmt(int(size)),
                        via,
                        _fmt(newest["p50"], 2),
                        _fmt(newest["p99"], 2),
                        _fmt(middle["p50"], 2),
                        _fmt(middle["p99"], 2),
                        "" if first else _ratio(newest["p50"], small[f"{via}_newest"]["p50"]),
                        "" if first else _ratio(middle["p50"], small[f"{via}_middle"]["p50"]),
                    ]
                )
            if "rest_unavailable" in s and size == sizes[0]:
                rows.append(
                    [
                        name,
                        "",
                        "rest",
                        "endpoint missing: " + s["rest_unavailable"][:40],
                        "",
                        "",
                        "",
                        "",
                        "",
                    ]
                )
    return _rows(headers, rows)


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets as ratios within this run; each PASS or FAIL."""
    out: list[dict[str, Any]] = []
    runs = results["runs"]

    def check(name: str, value: float | None, limit: float, op: str, detail: str) -> None:
        if value is None:
            return
        ok = value >= limit if op == ">=" else value <= limit
        out.append(
            {
                "target": name,
                "value": round(value, 3),
                "limit": limit,
                "op": op,
                "pass": bool(ok),
                "detail": detail,
            }
        )

    fan = runs.get("fanout", {})
    mixed = runs.get("reactions", {})
    for parley in ("parley", "parley-pg"):
        if parley in mixed and parley in fan and fan[parley]["delivered_per_second"]:
            check(
                f"8 edits and reactions {parley}: delivered events/s ÷ scenario 1",
                mixed[parley]["delivered_per_second"] / fan[parley]["delivered_per_second"],
                0.8,
                ">=",
                "within 0.8× of the plain fan-out of the same run (issue 15), 0 lost",
            )
    for parley in ("parley", "parley-pg"):
        if parley not in fan:
            continue
        mine = fan[parley]["delivered_per_second"]
        if "bare" in fan:
            check(
                f"1 fan-out {parley}: delivered/s ÷ bare",
                mine / fan["bare"]["delivered_per_second"],
                0.25,
                ">=",
                "at least 25% of bare",
            )
        plain = PLAIN_OF[parley]
        if plain in fan and fan[plain]["delivered_per_second"]:
            check(
                f"1 fan-out {parley}: delivered/s ÷ {plain}",
                mine / fan[plain]["delivered_per_second"],
                10,
                ">=",
                "at least 10× plain Channels",
            )
    light = runs.get("light", {})
    for parley in ("parley", "parley-pg"):
        if parley not in light:
            continue
        if "bare" in light and light["bare"]["latency_ms"]["p99"]:
            check(
                f"2 light {parley}: p99 ÷ bare p99",
                light[parley]["latency_ms"]["p99"] / light["bare"]["latency_ms"]["p99"],
                3,
                "<=",
                "p99 at most 3× bare's",
            )
        check(f"2 light {parley}: lost", float(light[parley]["lost"]), 0, "<=", "0 lost")
    for size, idle in runs.get("idle", {}).items():
        bare = idle.get("bare")
        for parley in ("parley", "parley-pg"):
            if parley not in idle or not bare:
                continue
            check(
                f"4 idle {size} {parley}: KB/socket ÷ bare",
                idle[parley]["kb_per_socket"] / bare["kb_per_socket"],
                1.3,
                "<=",
                "memory per idle socket at most 1.3× bare's",
            )
            check(
                f"4 idle {size} {parley}: handshakes/s ÷ bare",
                idle[parley]["handshakes"]["per_second"] / bare["handshakes"]["per_second"],
                0.5,
                ">=",
                "authenticated handshakes/s at least half of bare's",
            )
    for parley, r in runs.get("history", {}).items():
        sizes = sorted(r["sizes"], key=int)
        if len(sizes) < 2:
            continue
        small, big = r["sizes"][sizes[0]], r["sizes"][sizes[-1]]
        via = "rest" if "rest_newest" in big else "selector"
        for page in ("newest", "middle"):
            check(
                f"5 history {parley} ({via}): {page} page p50 at {int(sizes[-1]):,} ÷ at "
                f"{int(sizes[0]):,}",
                big[f"{via}_{page}"]["p50"] / small[f"{via}_{page}"]["p50"],
                1.5,
                "<=",
                "at most 1.5× the cost at the small size",
            )
    for parley, r in runs.get("widget", {}).items():
        check(
            f"7 widget {parley}: visitor messages missing from a team socket",
            float(r["visitors"] * r["team"] - r["received"]),
            0,
            "<=",
            "every visitor writes and their message reaches all 5 of the team",
        )
        check(f"7 widget {parley}: lost", float(r["lost"]), 0, "<=", "0 lost")
        if r["plain"]["latency_ms"]["p99"] and r["latency_ms"]["p99"] is not None:
            check(
                f"7 widget {parley}: p99 send to inbox ÷ plain message p99",
                r["latency_ms"]["p99"] / r["plain"]["latency_ms"]["p99"],
                3,
                "<=",
                "at most 3× a plain message's p99 in the same run",
            )
        user_kb = r["idle"]["user"]["kb_per_socket"]
        if user_kb:
            check(
                f"7 widget {parley}: KB per idle visitor socket ÷ user socket",
                r["idle"]["visitor"]["kb_per_socket"] / user_kb,
                1.3,
                "<=",
                "memory per idle visitor socket at most 1.3× a signed-in user's",
            )
    multi = runs.get("multi", {})
    if "parley-pg-2p" in multi:
        check(
            "6 two processes: lost",
            float(multi["parley-pg-2p"]["lost"]),
            0,
            "<=",
            "every message delivered",
        )
        if "parley-pg-mem" in multi and multi["parley-pg-mem"]["delivered_per_second"]:
            check(
                "6 two processes over Redis: delivered/s ÷ one process in-memory",
                multi["parley-pg-2p"]["delivered_per_second"]
                / multi["parley-pg-mem"]["delivered_per_second"],
                0.7,
                ">=",
                "the Redis layer costs at most 30% of single-process throughput",
            )
    return out


def slowest_lines(runs: dict[str, dict[str, Any]]) -> list[str]:
    """Under the light-load table: how many messages the p99 rests on, and each system's
    slowest messages (seconds into the window: ms), to tell one stall from a slow tail."""
    lines = []
    for name, r in runs.items():
        slow = r.get("slowest_messages")
        if not slow or not slow["slowest"]:
            continue
        if not lines:
            lines.append("")
            lines.append(
                f"p99 over deliveries rests on the slowest {slow['p99_rests_on_messages']:g} "
                f"of {slow['messages']} messages; slowest messages (s into the window: ms):"
            )
        worst = ", ".join(f"{t:g} s: {ms:g}" for t, ms in slow["slowest"])
        lines.append(f"  {name:<14} {worst}")
    return lines


def render(results: dict[str, Any], titles: dict[str, str]) -> str:
    lines: list[str] = []
    runs = results["runs"]
    for key in ("fanout", "light", "rooms"):
        if key in runs:
            by = "p99" if key == "light" else "delivered"
            lines += ["", f"## {titles[key]}", ""] + traffic_table(runs[key], by=by)
            if key == "light":
                lines += slowest_lines(runs[key])
    for size, idle in runs.get("idle", {}).items():
        lines += ["", f"## {titles['idle']}: {int(size):,} sockets", ""] + idle_table(idle)
    if "history" in runs:
        lines += ["", f"## {titles['history']} (ms)", ""] + history_table(runs["history"])
    if "multi" in runs:
        lines += ["", f"## {titles['multi']} (÷plain column: ÷ parley-pg-mem)", ""]
        lines += traffic_table(runs["multi"], baseline="parley-pg-mem")
    if runs.get("widget"):
        lines += ["", f"## {titles['widget']}", ""] + widget_table(runs["widget"])
        lines += widget_notes(runs["widget"])
    checks = results.get("targets", [])
    if checks:
        lines += ["", "## Targets (ratios within this run)", ""]
        for t in checks:
            mark = "PASS" if t["pass"] else "FAIL"
            lines.append(
                f"{mark}  {t['target']}: {t['value']:g} (want {t['op']} {t['limit']:g}; "
                f"{t['detail']})"
            )
    return "\n".join(lines).lstrip("\n")


def plots(
    results: dict[str, Any], latencies: dict[str, dict[str, np.ndarray]], out: Path
) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made: list[Path] = []
    runs = results["runs"]
    for key, systems in latencies.items():
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for name, values in systems.items():
            if values.size == 0:
                continue
            v = np.sort(values)
            y = np.arange(1, v.size + 1) / v.size
            step = max(1, v.size // 4000)
            ax.plot(np.maximum(v[::step], 0.01), y[::step], label=name)
        ax.set_xscale("log")
        ax.set_xlabel("end-to-end latency (ms, log scale)")
        ax.set_ylabel("fraction of deliveries")
        ax.set_title(f"Latency distribution: {key}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        path = out / f"latency-{key}.png"
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        made.append(path)
    keys = [k for k in ("fanout", "rooms", "multi") if k in runs]
    if keys:
        fig, axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 4.2), squeeze=False)
        for ax, key in zip(axes[0], keys, strict=True):
            names = list(runs[key])
            values = [runs[key][n]["delivered_per_second"] for n in names]
            ax.bar(
                names,
                values,
                color=["#888" if not n.startswith("parley") else "#3a7" for n in names],
            )
            if max(values) > 20 * max(1.0, min(values)):
                ax.set_yscale("log")
            ax.set_title(f"{key}: delivered msgs/s")
            ax.tick_params(axis="x", rotation=45)
            for label in ax.get_xticklabels():
                label.set_ha("right")
        fig.tight_layout()
        path = out / "throughput.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        made.append(path)
    if "fanout" in runs:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for name, r in runs["fanout"].items():
            if r["timeseries"]:
                t, v = zip(*r["timeseries"], strict=True)
                ax.plot(t, v, label=name)
        ax.set_yscale("log")
        ax.set_xlabel("seconds")
        ax.set_ylabel("deliveries/s (250 ms buckets)")
        ax.set_title("Fan-out throughput over time")
        ax.grid(True, alpha=0.3)
        ax.legend()
        path = out / "timeseries-fanout.png"
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        made.append(path)
    if runs.get("idle"):
        sizes = list(runs["idle"])
        fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
        width = 0.8 / max(1, len(sizes))
        for i, size in enumerate(sizes):
            names = list(runs["idle"][size])
            x = np.arange(len(names)) + i * width
            axes[0].bar(
                x,
                [runs["idle"][size][n]["kb_per_socket"] for n in names],
                width,
                label=f"{int(size):,}",
            )
            axes[1].bar(
                x,
                [runs["idle"][size][n]["handshakes"]["per_second"] or 0 for n in names],
                width,
                label=f"{int(size):,}",
            )
            for ax in axes:
                ax.set_xticks(
                    np.arange(len(names)) + width * (len(sizes) - 1) / 2,
                    names,
                    rotation=45,
                    ha="right",
                )
        axes[0].set_title("KB of server memory per idle socket")
        axes[1].set_title("handshakes per second")
        for ax in axes:
            ax.legend(title="sockets")
        fig.tight_layout()
        path = out / "idle.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        made.append(path)
    return made
