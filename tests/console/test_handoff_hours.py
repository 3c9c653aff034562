"""Advisers' opening hours: open or not at a given instant, and when they open next, on Casablanca's clocks
(which go back an hour for Ramadan and forward after it)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from console.handoff.hours import OpeningHours

CASA = ZoneInfo("Africa/Casablanca")
UTC = dt.timezone.utc
SPEC = "mon-fri 09:00-18:00; sat 09:00-13:00"


def casa(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=CASA)


@pytest.fixture
def hours() -> OpeningHours:
    return OpeningHours.parse(SPEC, "2026-12-25,2027-01-01", "Africa/Casablanca")


# 2026-11-30 is a Monday; Casablanca is at +01 then.
@pytest.mark.parametrize(
    ("at", "open_"),
    [
        (casa(2026, 12, 1, 10, 30), True),  # Tuesday morning
        (casa(2026, 12, 1, 9, 0), True),  # the opening minute itself
        (casa(2026, 12, 1, 8, 59, 59), False),
        (casa(2026, 12, 1, 18, 0), False),  # the end is excluded
        (casa(2026, 12, 1, 17, 59), True),
        (casa(2026, 12, 1, 22, 0), False),  # Tuesday night
        (casa(2026, 12, 5, 11, 0), True),  # Saturday morning
        (casa(2026, 12, 5, 15, 0), False),  # Saturday afternoon
        (casa(2026, 12, 6, 11, 0), False),  # Sunday
        (casa(2026, 12, 25, 11, 0), False),  # a Friday, but a holiday
        (casa(2027, 1, 1, 10, 0), False),
    ],
)
def test_open_at(hours: OpeningHours, at: dt.datetime, open_: bool) -> None:
    assert hours.is_open(at) is open_


def test_the_instant_counts_not_the_zone_it_is_written_in(hours: OpeningHours) -> None:
    # 08:30 UTC on a Tuesday in December is 09:30 in Casablanca (+01): open.
    assert hours.is_open(dt.datetime(2026, 12, 1, 8, 30, tzinfo=UTC))
    assert not hours.is_open(dt.datetime(2026, 12, 1, 7, 30, tzinfo=UTC))


def test_a_naive_datetime_is_refused(hours: OpeningHours) -> None:
    with pytest.raises(ValueError, match="naive"):
        hours.is_open(dt.datetime(2026, 12, 1, 10, 0))
    with pytest.raises(ValueError, match="naive"):
        hours.next_opening(dt.datetime(2026, 12, 1, 10, 0))


def test_next_opening_is_now_when_open(hours: OpeningHours) -> None:
    at = dt.datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    opening = hours.next_opening(at)
    assert opening == at and opening is not None and opening.tzinfo == CASA


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (casa(2026, 12, 1, 7, 0), casa(2026, 12, 1, 9, 0)),  # early on a weekday: the same morning
        (casa(2026, 12, 1, 19, 0), casa(2026, 12, 2, 9, 0)),  # evening: tomorrow
        (casa(2026, 12, 5, 14, 0), casa(2026, 12, 7, 9, 0)),  # Saturday afternoon: Monday
        (casa(2026, 12, 6, 11, 0), casa(2026, 12, 7, 9, 0)),  # Sunday: Monday
        (casa(2026, 12, 24, 18, 30), casa(2026, 12, 26, 9, 0)),  # the holiday is skipped: Saturday
        (casa(2026, 12, 31, 20, 0), casa(2027, 1, 2, 9, 0)),  # New Year's Day too
    ],
)
def test_next_opening(hours: OpeningHours, at: dt.datetime, expected: dt.datetime) -> None:
    opening = hours.next_opening(at)
    assert opening is not None
    assert opening.astimezone(UTC) == expected.astimezone(UTC)
    assert opening.tzinfo == CASA and opening.hour == expected.hour


def test_next_opening_across_ramadan_clocks_going_back(hours: OpeningHours) -> None:
    # 2026-02-15 (a Sunday) at 03:00 the clocks go back to 02:00: +01 becomes +00 for Ramadan.
    saturday_afternoon = dt.datetime(2026, 2, 14, 13, 30, tzinfo=UTC)  # 14:30 at +01
    assert saturday_afternoon.astimezone(CASA).utcoffset() == dt.timedelta(hours=1)
    opening = hours.next_opening(saturday_afternoon)
    assert opening is not None
    assert (opening.hour, opening.minute, opening.utcoffset()) == (9, 0, dt.timedelta(0))
    assert opening.astimezone(UTC) == dt.datetime(2026, 2, 16, 9, 0, tzinfo=UTC)
    # ... and Monday 09:00 the next week is still 09:00 on the advisers' clocks
    assert hours.is_open(dt.datetime(2026, 2, 16, 9, 0, tzinfo=UTC))
    assert not hours.is_open(dt.datetime(2026, 2, 16, 8, 30, tzinfo=UTC))


def test_next_opening_across_the_clocks_going_forward_after_ramadan(hours: OpeningHours) -> None:
    # 2026-03-22 (a Sunday) at 02:00 the clocks jump to 03:00: back to +01.
    saturday_evening = dt.datetime(2026, 3, 21, 19, 0, tzinfo=UTC)  # 19:00 at +00
    opening = hours.next_opening(saturday_evening)
    assert opening is not None
    assert (opening.hour, opening.utcoffset()) == (9, dt.timedelta(hours=1))
    assert opening.astimezone(UTC) == dt.datetime(2026, 3, 23, 8, 0, tzinfo=UTC)


def test_an_opening_skipped_by_the_clocks_opens_when_they_jump() -> None:
    night = OpeningHours.parse("sun 02:30-04:00", "", "Africa/Casablanca")
    opening = night.next_opening(dt.datetime(2026, 3, 21, 12, 0, tzinfo=UTC))
    assert opening is not None and opening.astimezone(UTC) == dt.datetime(2026, 3, 22, 2, 0, tzinfo=UTC)  # 03:00 +01
    assert night.open_seconds_between(
        dt.datetime(2026, 3, 22, 0, 0, tzinfo=UTC), dt.datetime(2026, 3, 22, 12, 0, tzinfo=UTC)
    ) == pytest.approx(3600)


def test_an_hour_the_clocks_repeat_is_open_once() -> None:
    night = OpeningHours.parse("sun 02:30-04:00", "", "Africa/Casablanca")
    # 2026-02-15: 02:30 (+01) is 01:30 UTC; 04:00 (+00) is 04:00 UTC; open from the first reading of 02:30
    assert not night.is_open(dt.datetime(2026, 2, 15, 1, 29, tzinfo=UTC))
    assert night.is_open(dt.datetime(2026, 2, 15, 2, 15, tzinfo=UTC))
    assert night.open_seconds_between(
        dt.datetime(2026, 2, 15, 0, 0, tzinfo=UTC), dt.datetime(2026, 2, 15, 12, 0, tzinfo=UTC)
    ) == pytest.approx(2.5 * 3600)


def test_several_intervals_a_day_lists_of_days_and_french_names() -> None:
    hours = OpeningHours.parse("LUN-VEN 09:00-12:30, 14:00-18:00 ; mer,sam 9h-12h", "", "Africa/Casablanca")
    assert hours.is_open(casa(2026, 12, 1, 12, 0))
    assert not hours.is_open(casa(2026, 12, 1, 13, 0))  # lunch
    assert hours.next_opening(casa(2026, 12, 1, 13, 0)) == casa(2026, 12, 1, 14, 0)
    assert hours.is_open(casa(2026, 12, 5, 11, 0))  # samedi
    assert not hours.is_open(casa(2026, 12, 6, 11, 0))  # dimanche
    # Wednesday is named twice: both intervals, merged with the weekday ones
    assert hours.weekly[2] == ((9 * 60, 12 * 60 + 30), (14 * 60, 18 * 60))


def test_a_range_round_the_week_end_and_holiday_ranges() -> None:
    hours = OpeningHours.parse("fri-mon 10:00-14:00", "2026-12-05..2026-12-06", "Africa/Casablanca")
    assert [bool(day) for day in hours.weekly] == [True, False, False, False, True, True, True]
    assert hours.next_opening(casa(2026, 12, 4, 15, 0)) == casa(2026, 12, 7, 10, 0)  # Sat and Sun are holidays


def test_open_seconds_between_counts_opening_time_only(hours: OpeningHours) -> None:
    # Friday 17:00 to Monday 10:00: 1 h on Friday, 4 h on Saturday, 1 h on Monday.
    assert hours.open_seconds_between(casa(2026, 12, 4, 17, 0), casa(2026, 12, 7, 10, 0)) == 6 * 3600
    assert hours.open_seconds_between(casa(2026, 12, 7, 10, 0), casa(2026, 12, 4, 17, 0)) == 0


def test_closes_at(hours: OpeningHours) -> None:
    assert hours.closes_at(casa(2026, 12, 5, 10, 0)) == casa(2026, 12, 5, 13, 0)
    assert hours.closes_at(casa(2026, 12, 6, 10, 0)) is None


def test_closed_means_no_opening_at_all() -> None:
    closed = OpeningHours.parse("closed", "", "Africa/Casablanca")
    assert not closed.is_open(casa(2026, 12, 1, 10, 0))
    assert closed.next_opening(casa(2026, 12, 1, 10, 0)) is None


def test_describe_in_each_register(hours: OpeningHours) -> None:
    assert hours.describe("french") == "du lundi au vendredi de 9:00 à 18:00, le samedi de 9:00 à 13:00"
    assert hours.describe("darija_latin") == "mn tnin l jjem3a mn 9:00 l 18:00, ssebt mn 9:00 l 13:00"
    assert hours.describe("darija_arabic") == "من الاثنين حتى الجمعة من 9:00 حتى 18:00، السبت من 9:00 حتى 13:00"


@pytest.mark.parametrize(
    ("spec", "holidays", "tz", "reason"),
    [
        ("", "", "Africa/Casablanca", "empty"),
        ("mon-fri", "", "Africa/Casablanca", "'mon-fri': write days then hours"),
        ("09:00-18:00", "", "Africa/Casablanca", "write days then hours"),
        ("mon-fry 09:00-18:00", "", "Africa/Casablanca", "'fry' is not a day"),
        ("mon-fri 09:00", "", "Africa/Casablanca", "'09:00' is not an interval"),
        ("mon-fri 9-", "", "Africa/Casablanca", "'' is not a time"),
        ("mon-fri 18:00-09:00", "", "Africa/Casablanca", "ends before it starts"),
        ("mon-fri 09:00-25:00", "", "Africa/Casablanca", "'25:00' is not a time of day"),
        ("mon-fri 09:60-18:00", "", "Africa/Casablanca", "'09:60' is not a time of day"),
        ("mon-fri 09:00-18:00; sat", "", "Africa/Casablanca", "'sat': write days then hours"),
        (SPEC, "2026-13-01", "Africa/Casablanca", "holidays: '2026-13-01' is not a date"),
        (SPEC, "25/12/2026", "Africa/Casablanca", "holidays"),
        (SPEC, "2026-12-26..2026-12-24", "Africa/Casablanca", "ends before it starts"),
        (SPEC, "", "Africa/Casablance", "time zone: 'Africa/Casablance'"),
    ],
)
def test_bad_settings_say_which_part_is_wrong(spec: str, holidays: str, tz: str, reason: str) -> None:
    with pytest.raises(ValueError) as error:
        OpeningHours.parse(spec, holidays, tz)
    assert reason in str(error.value)
