"""Advisers' opening hours (``HANDOFF_OPENING_HOURS``, ``HANDOFF_HOLIDAYS``) in one time zone.

Hours are wall-clock times in the zone (Africa/Casablanca moves its clocks around Ramadan: 09:00 stays
09:00 on the advisers' clocks). Pure: no clock is read here, every question takes the instant it is about.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Dict, FrozenSet, Iterator, List, Optional, Set, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SEARCH_DAYS = 400  # next_opening looks this far ahead, then gives up (None)
MINUTES_PER_DAY = 24 * 60
_UTC = dt.timezone.utc

_DAY_NAMES: Dict[str, int] = {}
for _index, _names in enumerate(
    (
        "mon monday lun lundi",
        "tue tues tuesday mar mardi",
        "wed wednesday mer mercredi",
        "thu thur thurs thursday jeu jeudi",
        "fri friday ven vendredi",
        "sat saturday sam samedi",
        "sun sunday dim dimanche",
    )
):
    _DAY_NAMES.update(dict.fromkeys(_names.split(), _index))

# An explicit "no opening at all" (no adviser for a while): next_opening answers None.
_CLOSED_WORDS = frozenset({"closed", "none", "ferme"})
_TIME = re.compile(r"^(\d{1,2})(?:[:h](\d{2})?)?$")
_CLAUSE = re.compile(r"^(?P<days>[^\d]+?)\s*(?P<times>\d.*)$")

Interval = Tuple[int, int]  # minutes after midnight, start included, end excluded (end may be 1440)

_FRENCH_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_DARIJA_LATIN_DAYS = ("tnin", "tlat", "larb3", "lkhmis", "jjem3a", "ssebt", "l7ed")
_DARIJA_ARABIC_DAYS = ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد")


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _parse_time(raw: str, where: str) -> int:
    match = _TIME.match(raw)
    if not match:
        raise ValueError(f"{where}: {raw!r} is not a time (write 09:00, 9:30 or 14h)")
    hours, minutes = int(match.group(1)), int(match.group(2) or 0)
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"{where}: {raw!r} is not a time of day")
    return hours * 60 + minutes


def _parse_days(raw: str, where: str) -> List[int]:
    days: List[int] = []
    for item in re.split(r"[,\s]+", re.sub(r"\s*-\s*", "-", raw.strip())):
        if not item:
            raise ValueError(f"{where}: an empty day in {raw!r}")
        first, _, last = (part.rstrip(".") for part in item.partition("-"))
        for name in (first, last) if last else (first,):
            if name not in _DAY_NAMES:
                raise ValueError(f"{where}: {name!r} is not a day (mon..sun or lun..dim)")
        start = _DAY_NAMES[first]
        stop = _DAY_NAMES[last] if last else start
        # "fri-mon" wraps round the week-end
        days.extend((start + n) % 7 for n in range((stop - start) % 7 + 1))
    return days


def _parse_intervals(raw: str, where: str) -> List[Interval]:
    intervals = []
    for item in re.split(r"[,\s]+", re.sub(r"\s*-\s*", "-", raw.strip())):
        opening, dash, closing = item.partition("-")
        if not dash:
            raise ValueError(f"{where}: {item!r} is not an interval (write 09:00-18:00)")
        start, end = _parse_time(opening, where), _parse_time(closing, where)
        if start >= end:
            raise ValueError(f"{where}: {item!r} ends before it starts (hours past midnight are not supported)")
        intervals.append((start, end))
    return intervals


def _merge(intervals: List[Interval]) -> Tuple[Interval, ...]:
    merged: List[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)


def _parse_holidays(raw: str) -> FrozenSet[dt.date]:
    days: Set[dt.date] = set()
    for item in re.split(r"[,;\s]+", raw.strip()):
        if not item:
            continue
        first, dots, last = item.partition("..")
        try:
            start = dt.date.fromisoformat(first)
            end = dt.date.fromisoformat(last) if dots else start
        except ValueError:
            raise ValueError(
                f"holidays: {item!r} is not a date written YYYY-MM-DD (or a range YYYY-MM-DD..YYYY-MM-DD)"
            ) from None
        if end < start:
            raise ValueError(f"holidays: {item!r} ends before it starts")
        if (end - start).days > 366:
            raise ValueError(f"holidays: {item!r} is longer than a year")
        days.update(start + dt.timedelta(days=n) for n in range((end - start).days + 1))
    return frozenset(days)


def _clock(minutes: int) -> str:
    return f"{minutes // 60}:{minutes % 60:02d}"


@dataclass(frozen=True)
class OpeningHours:
    """Weekly opening intervals (Monday first), whole days closed, and the zone the hours are read in."""

    weekly: Tuple[Tuple[Interval, ...], ...]
    holidays: FrozenSet[dt.date]
    tz: dt.tzinfo

    @classmethod
    def parse(cls, spec: str, holidays: str = "", tz: str = "Africa/Casablanca") -> "OpeningHours":
        """``"mon-fri 09:00-12:30,14:00-18:00; sat 09:00-13:00"``, ``"2026-12-25,2027-01-01"``, a zone name.

        Days are English or French (``lun-ven``), in ranges and lists (``mon,wed``), in any case; a day named
        twice opens in both intervals. ``closed`` means no opening at all. A ValueError says which part is wrong.
        """
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"time zone: {tz!r} is not a known zone (e.g. Africa/Casablanca)") from None
        folded = _fold(spec or "").strip()
        if not folded:
            raise ValueError("opening hours: empty (write e.g. 'mon-fri 09:00-18:00; sat 09:00-13:00', or 'closed')")
        per_day: List[List[Interval]] = [[] for _ in range(7)]
        if folded not in _CLOSED_WORDS:
            for clause in folded.split(";"):
                clause = clause.strip()
                if not clause:
                    continue
                where = f"opening hours, {clause!r}"
                match = _CLAUSE.match(clause)
                if not match:
                    raise ValueError(f"{where}: write days then hours, e.g. 'mon-fri 09:00-18:00'")
                days = _parse_days(match.group("days"), where)
                intervals = _parse_intervals(match.group("times"), where)
                for day in days:
                    per_day[day].extend(intervals)
            if not any(per_day):
                raise ValueError("opening hours: no day given (write e.g. 'mon-fri 09:00-18:00', or 'closed')")
        return cls(tuple(_merge(intervals) for intervals in per_day), _parse_holidays(holidays or ""), zone)

    # ------------------------------------------------------------------ questions

    def _local(self, at: dt.datetime) -> dt.datetime:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("a naive datetime: give the instant with its time zone (e.g. datetime.now(timezone.utc))")
        return at.astimezone(self.tz)

    def is_open(self, at: dt.datetime) -> bool:
        """Whether advisers are there at the instant ``at`` (an aware datetime).

        An interval runs from the first instant the clock reads its start to the first it reads its end, so an
        hour the clocks repeat (Ramadan's change, 03:00 back to 02:00) is open once, not twice.
        """
        local = self._local(at)
        instant = local.astimezone(_UTC)
        return any(start <= instant < end for start, end in self._periods(local.date() - dt.timedelta(days=1), 3))

    def _instant(self, day: dt.date, minutes: int) -> dt.datetime:
        """The first instant of ``day`` whose wall clock reads ``minutes`` or later (a clock change can skip it)."""
        if minutes >= MINUTES_PER_DAY:
            return self._instant(day + dt.timedelta(days=1), 0)
        wall = dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), tzinfo=self.tz)
        later = wall.replace(fold=0)  # a repeated hour: its first pass
        if later.astimezone(dt.timezone.utc).astimezone(self.tz).replace(tzinfo=None) == wall.replace(tzinfo=None):
            return later
        # Skipped by the clocks: open when they jump past it, between the two readings of the missing time
        # (tz database changes fall on whole seconds).
        low, high = sorted((int(wall.replace(fold=1).timestamp()), int(later.timestamp())))
        while high - low > 1:
            middle = (low + high) // 2
            reading = dt.datetime.fromtimestamp(middle, self.tz)
            if (reading.date(), reading.hour * 60 + reading.minute) >= (day, minutes):
                high = middle
            else:
                low = middle
        return dt.datetime.fromtimestamp(high, self.tz)

    def _periods(self, first_day: dt.date, days: int) -> Iterator[Tuple[dt.datetime, dt.datetime]]:
        """Open periods day by day from ``first_day``, holidays left out, in UTC: Python compares and subtracts
        two datetimes of one zone by their wall clocks, which is wrong across a clock change."""
        for n in range(days):
            day = first_day + dt.timedelta(days=n)
            if day in self.holidays:
                continue
            for start, end in self.weekly[day.weekday()]:
                yield self._instant(day, start).astimezone(_UTC), self._instant(day, end).astimezone(_UTC)

    def next_opening(self, at: dt.datetime) -> Optional[dt.datetime]:
        """``at`` when open; else the next instant advisers are there (in the zone), or None within 400 days."""
        local = self._local(at)
        if self.is_open(local):
            return local
        instant = local.astimezone(_UTC)
        for start, _ in self._periods(local.date(), SEARCH_DAYS + 1):
            if start > instant:
                return start.astimezone(self.tz)
        return None

    def closes_at(self, at: dt.datetime) -> Optional[dt.datetime]:
        """When the current opening ends (None when closed at ``at``)."""
        local = self._local(at)
        if not self.is_open(local):
            return None
        instant = local.astimezone(_UTC)
        for start, end in self._periods(local.date() - dt.timedelta(days=1), 3):
            if start <= instant < end:
                return end.astimezone(self.tz)
        return None  # pragma: no cover - is_open said open

    def open_seconds_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Seconds of opening time in [start, end): a wait counted the way advisers live it."""
        first_day, last_day = self._local(start).date(), self._local(end).date()
        begin, finish = start.astimezone(_UTC), end.astimezone(_UTC)
        if finish <= begin:
            return 0.0
        total = 0.0
        for opening, closing in self._periods(first_day, (last_day - first_day).days + 1):
            low, high = max(opening, begin), min(closing, finish)
            if high > low:
                total += (high - low).total_seconds()
        return total

    # ------------------------------------------------------------------ words

    def describe(self, register: str = "french") -> str:
        """The weekly hours in a register: "french", "darija_latin" or "darija_arabic" (holidays not listed)."""
        names = {"darija_latin": _DARIJA_LATIN_DAYS, "darija_arabic": _DARIJA_ARABIC_DAYS}.get(register, _FRENCH_DAYS)
        groups: List[Tuple[int, int, Tuple[Interval, ...]]] = []
        for day, intervals in enumerate(self.weekly):
            if not intervals:
                continue
            if groups and groups[-1][1] == day - 1 and groups[-1][2] == intervals:
                groups[-1] = (groups[-1][0], day, intervals)
            else:
                groups.append((day, day, intervals))
        parts = []
        for first, last, intervals in groups:
            if register == "darija_latin":
                days = f"mn {names[first]} l {names[last]}" if last > first else names[first]
                hours = " w ".join(f"mn {_clock(s)} l {_clock(e)}" for s, e in intervals)
            elif register == "darija_arabic":
                days = f"من {names[first]} حتى {names[last]}" if last > first else names[first]
                hours = " و ".join(f"من {_clock(s)} حتى {_clock(e)}" for s, e in intervals)
            else:
                days = f"du {names[first]} au {names[last]}" if last > first else f"le {names[first]}"
                hours = " et ".join(f"de {_clock(s)} à {_clock(e)}" for s, e in intervals)
            parts.append(f"{days} {hours}")
        if not parts:
            return {"darija_latin": "ma kaynch", "darija_arabic": "ما كاينش"}.get(register, "aucune permanence")
        return ("، " if register == "darija_arabic" else ", ").join(parts)
