"""When a process moves sockets to the others (parley/realtime/balance.py, `excess`)."""

from __future__ import annotations

from parley.realtime.balance import excess

NOW = 1_000_000.0


def report(pid: str, sockets: int, age: float = 1.0, **more: float) -> dict[str, object]:
    return {"id": pid, "sockets_open": sockets, "at": NOW - age, **more}


def test_after_a_rolling_restart_the_full_process_moves_half_to_the_empty_one():
    n, reported = excess(100, [report("me", 100), report("b", 0, age=2)], "me", NOW)

    assert n == 50
    assert reported == NOW - 2  # the report the move waits to see confirmed


def test_balanced_or_slightly_over_moves_nothing():
    assert excess(52, [report("b", 48)], "me", NOW)[0] == 0
    assert excess(14, [report("b", 6)], "me", NOW)[0] == 0  # under MIN_EXCESS sockets
    assert excess(5, [report("b", 60)], "me", NOW)[0] == 0  # under: it is the one to fill


def test_nothing_moves_while_a_process_drains_or_alone():
    assert excess(100, [report("b", 0, draining=1.0)], "me", NOW)[0] == 0
    assert excess(100, [report("me", 100)], "me", NOW)[0] == 0


def test_a_process_that_stopped_reporting_is_not_counted():
    assert excess(100, [report("b", 0, age=60)], "me", NOW)[0] == 0


def test_three_processes_move_the_excess_over_the_average():
    n, _ = excess(90, [report("b", 30), report("c", 0)], "me", NOW)

    assert n == 50  # the average is 40
