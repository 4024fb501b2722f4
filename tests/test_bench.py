"""The benchmark cannot rot: its load generator runs against the bare server for ~2 s."""

from __future__ import annotations

from bench.coordinator import Traffic, run_traffic
from bench.systems import SYSTEMS, Dataset, Deployment


async def test_load_generator_counts_every_message_against_the_bare_server(tmp_path):
    # given: the bare reference server with one room of 10 users
    dataset = Dataset()
    dataset.add_room("fanout", list(range(10)))
    bare = Deployment(SYSTEMS["bare"], tmp_path, None)
    bare.prepare(dataset, {})
    servers = bare.start()
    try:
        clients = [
            bare.client(servers, u, "fanout", sender=u if u < 2 else None) for u in range(10)
        ]
        # when: two senders send as fast as acks allow for 2 s
        result, latencies = await run_traffic(
            Traffic(clients, duration=1.5, warmup=0.5), [s.pid for s in servers], print, "smoke"
        )
    finally:
        bare.stop(servers)
    # then: every acknowledged message reached all 10 sockets once, with a latency each
    assert result["acked"] > 10
    assert result["errors"] == {}
    assert result["expected"] == result["acked"] * 10
    assert result["lost"] == 0
    assert result["duplicates"] == 0
    assert result["delivered"] == result["expected"]
    assert result["delivered_per_second"] > 0
    assert len(latencies) == result["latency_ms"]["n"] > 0
    assert result["handshakes"]["connected"] == 10
    assert result["server"]["rss_mb"] > 0


def test_the_memory_tool_attributes_the_heap_of_idle_sockets(tmp_path):
    from bench.memory import measure

    # when: 20 idle sockets on the bare server, traced
    report = measure("bare", 20, tmp_path)

    # then: a plausible heap per socket, most of it attributed to the server's libraries
    per_socket = report["total"] / 20
    assert 5_000 < per_socket < 100_000
    assert report["groups"]["uvicorn"] + report["groups"]["websockets"] > report["total"] / 2
    assert sum(size for _, _, size, _, _ in report["lines"]) == report["total"]


async def test_the_widget_scenario_counts_every_visitor_message_in_every_inbox(tmp_path):
    from bench import report
    from bench.scenarios import WIDGET_TEAM, dataset, widget_run

    # given: Parley on SQLite with a widget, its team of 5 and the plain room's senders
    parley = Deployment(SYSTEMS["parley"], tmp_path, None)
    parley.prepare(dataset(["widget"], [], 6), {})

    # when: 6 visitors open the widget and write, then the idle sockets are measured
    result = await widget_run(parley, 6, 20.0, print, 1)

    # then: each visitor's message reached each team socket once, after the visitor joined
    assert result["errors"] == {}
    assert result["team"] == WIDGET_TEAM
    assert result["acked"] == result["visitor_sockets"] == 6
    assert result["expected"] == result["received"] == result["joined"] == 6 * WIDGET_TEAM
    assert result["lost"] == result["duplicates"] == 0
    assert result["latency_ms"]["n"] == 6 * WIDGET_TEAM
    # and the plain messages sent meanwhile are counted the same way, as the baseline
    plain = result["plain"]
    assert plain["acked"] > 0
    assert plain["received"] == plain["expected"] == plain["acked"] * WIDGET_TEAM
    assert plain["lost"] == 0
    assert plain["latency_ms"]["n"] == plain["received"]
    # and memory was measured on as many visitor sockets as signed-in users' sockets
    for kind in ("visitor", "user"):
        assert result["idle"][kind]["handshakes"]["connected"] == 6
        assert result["idle"][kind]["handshakes"]["failures"] == {}
    # and the table names the raised limits the server ran with, and checks the targets
    runs = {"runs": {"widget": {"parley": result}}}
    checks = {t["target"] for t in report.targets(runs)}
    assert "7 widget parley: lost" in checks
    assert "7 widget parley: p99 send to inbox ÷ plain message p99" in checks
    assert "7 widget parley: KB per idle visitor socket ÷ user socket" in checks
    text = report.render(runs | {"targets": []}, {"widget": "7. widget"})
    assert "PARLEY_RATE_WIDGET_VISITORS=" in text
    assert "PARLEY_VISITOR_SOCKETS_PER_IP=0" in text


async def test_the_reactions_scenario_counts_every_edit_and_reaction_on_every_socket(tmp_path):
    from bench import report
    from bench.scenarios import FANOUT_USERS, dataset, traffic_run

    # given: Parley on SQLite with scenario 1's room of 50
    parley = Deployment(SYSTEMS["parley"], tmp_path, None)
    parley.prepare(dataset(["reactions"], []), {})

    # when: its 5 senders mix edits and reactions into their messages for 2 s
    result, _ = await traffic_run("reactions", parley, 2.0, print, 1, None)

    # then: each acknowledged change reached all 50 sockets once, as did each message
    assert result["errors"] == {}
    assert result["changes_expected"] > 0
    assert result["changes_delivered"] == result["changes_expected"]
    assert result["changes_expected"] % FANOUT_USERS == 0
    assert result["lost"] == result["duplicates"] == 0
    assert result["delivered"] == result["expected"] + result["changes_expected"]
    # and the target compares it with scenario 1 of the same run
    runs = {"runs": {"reactions": {"parley": result}, "fanout": {"parley": result}}}
    (check,) = [t for t in report.targets(runs) if t["target"].startswith("8 ")]
    assert check["value"] == 1.0 and check["pass"]
