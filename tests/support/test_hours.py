"""Business hours: wall-clock hours in an IANA zone, across a daylight-saving change and in
two zones at the same instant; closed dates; when the team is back
(parley/support/hours.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from parley.support import hours

WEEKDAYS_9_TO_5 = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def open_in(zone: str, when: str, hours_=WEEKDAYS_9_TO_5, closed=()) -> bool:
    return hours.is_open(hours=hours_, closed_dates=list(closed), time_zone=zone, now=at(when))


def back(zone: str, when: str, hours_=WEEKDAYS_9_TO_5, closed=()) -> datetime | None:
    return hours.next_opening(hours=hours_, closed_dates=list(closed), time_zone=zone, now=at(when))


def test_nine_o_clock_in_paris_moves_in_utc_with_summer_time():
    # Paris went to summer time on Sunday 2026-03-29: 09:00 was 08:00 UTC the Monday
    # before, 07:00 UTC the Monday after.
    assert not open_in("Europe/Paris", "2026-03-23T07:30")
    assert open_in("Europe/Paris", "2026-03-23T08:30")
    assert open_in("Europe/Paris", "2026-03-30T07:30")
    assert not open_in("Europe/Paris", "2026-03-30T15:30")  # 17:30 in Paris
    assert open_in("Europe/Paris", "2026-03-23T15:30")  # 16:30 in Paris


def test_back_on_monday_morning_across_the_change():
    # Friday 2026-03-27 18:00 in Paris (17:00 UTC): back Monday 09:00 summer time.
    assert back("Europe/Paris", "2026-03-27T17:00") == at("2026-03-30T07:00")
    # and across the change back to winter time (Sunday 2026-10-25)
    assert back("Europe/Paris", "2026-10-23T16:00") == at("2026-10-26T08:00")


def test_the_same_instant_is_open_in_one_zone_and_closed_in_another():
    when = "2026-06-10T14:00"  # a Wednesday: 10:00 in New York, 23:00 in Tokyo
    assert open_in("America/New_York", when)
    assert not open_in("Asia/Tokyo", when)
    assert back("Asia/Tokyo", when) == at("2026-06-11T00:00")  # 09:00 in Tokyo


def test_a_closed_date_is_closed_all_day_and_the_team_is_back_the_next_open_day():
    closed = ["2026-12-25"]  # a Friday
    assert not open_in("Europe/Paris", "2026-12-25T10:00", closed=closed)
    assert back("Europe/Paris", "2026-12-25T10:00", closed=closed) == at("2026-12-28T08:00")


def test_no_hours_is_always_open_but_for_closed_dates():
    assert open_in("UTC", "2026-06-13T03:00", hours_={})  # a Saturday night
    assert not open_in("Europe/Paris", "2026-12-25T10:00", hours_={}, closed=["2026-12-25"])
    assert back("Europe/Paris", "2026-12-25T10:00", hours_={}, closed=["2026-12-25"]) == at(
        "2026-12-25T23:00"
    )  # midnight in Paris


def test_an_interval_to_midnight_and_a_split_day():
    split = {"sat": [["08:00", "12:00"], ["20:00", "24:00"]]}
    assert open_in("UTC", "2026-06-13T23:59", hours_=split)
    assert not open_in("UTC", "2026-06-14T00:00", hours_=split)
    assert not open_in("UTC", "2026-06-13T13:00", hours_=split)
    assert back("UTC", "2026-06-13T13:00", hours_=split) == at("2026-06-13T20:00")


@pytest.mark.parametrize(
    "bad",
    [
        [],
        {"monday": [["09:00", "17:00"]]},
        {"mon": [["9:00", "17:00"]]},
        {"mon": [["17:00", "09:00"]]},
        {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]},
        {"mon": [["09:00"]]},
        {"mon": [["09:00", "10:00"]] * 5},
        {"mon": [["24:00", "24:00"]]},
    ],
)
def test_hours_that_make_no_sense_are_refused(bad):
    _, problems = hours.clean_hours(bad)
    assert problems


def test_hours_are_stored_sorted_and_zones_and_dates_checked():
    cleaned, problems = hours.clean_hours({"tue": [["13:00", "17:00"], ["09:00", "12:00"]]})
    assert not problems and cleaned == {"tue": [["09:00", "12:00"], ["13:00", "17:00"]]}
    assert hours.clean_time_zone("Europe/Paris") == ("Europe/Paris", None)
    assert hours.clean_time_zone("Mars/Olympus")[1]
    assert hours.clean_closed_dates(["2026-12-25", "2026-12-25"]) == (["2026-12-25"], [])
    assert hours.clean_closed_dates(["25/12/2026"])[1]
