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
