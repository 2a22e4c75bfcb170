"""Business-hours arithmetic: worked examples a community manager would recognise, then properties.

No database: these are pure functions. Daylight-saving dates used below (2026):
Europe/Madrid springs forward on Sunday 29 March (02:00 -> 03:00) and falls back on Sunday 25 October
(03:00 -> 02:00); America/New_York springs forward on Sunday 8 March and falls back on Sunday 1 November.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tertulia.inbox.businesshours import (
    MINUTES_PER_DAY,
    WEEKDAYS,
    BusinessHours,
    add_business_time,
    business_time_between,
    elapsed_with_pauses,
    is_open,
    next_opening,
)

MADRID = ZoneInfo("Europe/Madrid")
NEW_YORK = ZoneInfo("America/New_York")
H = timedelta(hours=1)
MIN = timedelta(minutes=1)
US = timedelta(microseconds=1)
WORKDAYS = ("mon", "tue", "wed", "thu", "fri")


def schedule(tz: str, days=WORKDAYS, intervals=(("09:00", "19:00"),), holidays=()) -> BusinessHours:
    return BusinessHours.from_dict(
        {
            "timezone": tz,
            "week": {day: [list(interval) for interval in intervals] for day in days},
            "holidays": list(holidays),
        }
    )


def madrid(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MADRID)


def new_york(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NEW_YORK)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def assert_utc(value: datetime) -> None:
    assert value.tzinfo is UTC


OFFICE = schedule("Europe/Madrid")  # Monday to Friday, 09:00-19:00
SPLIT = schedule("Europe/Madrid", intervals=(("09:00", "14:00"), ("16:00", "19:00")))


# --- Worked examples ---------------------------------------------------------------------------------


def test_friday_evening_complaint_is_due_on_monday_morning():
    due = add_business_time(OFFICE, madrid(2026, 3, 6, 18, 30), H)  # Friday 18:30
    assert due == madrid(2026, 3, 9, 9, 30)  # Monday 09:30
    assert_utc(due)
    assert business_time_between(OFFICE, madrid(2026, 3, 6, 18, 30), due) == H


def test_split_day_skips_the_lunch_break():
    assert add_business_time(SPLIT, madrid(2026, 3, 9, 13, 30), H) == madrid(2026, 3, 9, 16, 30)
    # 30 min before lunch, 3 h in the afternoon, the last 30 min on Tuesday morning.
    assert add_business_time(SPLIT, madrid(2026, 3, 9, 13, 30), 4 * H) == madrid(2026, 3, 10, 9, 30)
    assert business_time_between(SPLIT, madrid(2026, 3, 9, 8, 0), madrid(2026, 3, 9, 20, 0)) == 8 * H
    assert not is_open(SPLIT, madrid(2026, 3, 9, 15, 0))
    assert next_opening(SPLIT, madrid(2026, 3, 9, 14, 0)) == madrid(2026, 3, 9, 16, 0)


def test_holidays_are_closed_all_day():
    hours = schedule("Europe/Madrid", holidays=["2026-03-09", "2026-03-11"])  # a Monday, a Wednesday
    assert add_business_time(hours, madrid(2026, 3, 6, 18, 30), H) == madrid(2026, 3, 10, 9, 30)
    # Arriving on a holiday counts from the next working day's opening.
    assert add_business_time(hours, madrid(2026, 3, 11, 10, 0), H) == madrid(2026, 3, 12, 10, 0)
    assert not is_open(hours, madrid(2026, 3, 11, 12, 0))
    assert is_open(OFFICE, madrid(2026, 3, 11, 12, 0))
    # A whole week with two holidays holds three working days of 10 hours.
    assert business_time_between(hours, madrid(2026, 3, 9), madrid(2026, 3, 16)) == 30 * H


def test_christmas_falling_on_a_friday_pushes_the_weekend_complaint_to_monday():
    hours = schedule("Europe/Madrid", holidays=["2026-12-25"])
    assert add_business_time(hours, madrid(2026, 12, 24, 18, 30), H) == madrid(2026, 12, 28, 9, 30)


def test_always_open_counts_elapsed_time_even_across_dst():
    always = BusinessHours.always("Europe/Madrid")
    # Saturday noon + 24 h lands at 13:00 on Sunday: that Sunday has 23 hours.
    due = add_business_time(always, madrid(2026, 3, 28, 12, 0), 24 * H)
    assert due == madrid(2026, 3, 29, 13, 0)
    assert due == utc(2026, 3, 29, 11, 0)
    assert business_time_between(always, madrid(2026, 10, 24, 12), madrid(2026, 10, 25, 12)) == 25 * H
    assert is_open(always, madrid(2026, 3, 29, 3, 0))
    assert next_opening(always, utc(2026, 3, 29, 0, 59)) == utc(2026, 3, 29, 0, 59)
    assert always.to_dict()["week"] == {day: [["00:00", "24:00"]] for day in WEEKDAYS}


@pytest.mark.parametrize(
    ("tz", "spring", "fall"),
    [
        ("Europe/Madrid", date(2026, 3, 29), date(2026, 10, 25)),
        ("America/New_York", date(2026, 3, 8), date(2026, 11, 1)),
    ],
)
def test_a_whole_day_lasts_23_hours_in_spring_and_25_in_autumn(tz, spring, fall):
    hours = schedule(tz, days=("sun",), intervals=(("00:00", "24:00"),))
    zone = ZoneInfo(tz)
    for day, length in ((spring, 23 * H), (fall, 25 * H), (spring + timedelta(days=7), 24 * H)):
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
        assert business_time_between(hours, midnight - 6 * H, midnight + 30 * H) == length
        assert add_business_time(hours, midnight, length) == midnight + timedelta(days=1)


def test_madrid_office_hours_stay_at_nine_local_across_the_clock_changes():
    # Spring: the Friday is CET (+1), the Monday CEST (+2).
    assert add_business_time(OFFICE, madrid(2026, 3, 27, 18, 30), H) == utc(2026, 3, 30, 7, 30)
    # Autumn: the Friday is CEST (+2), the Monday CET (+1).
    assert add_business_time(OFFICE, madrid(2026, 10, 23, 18, 30), H) == utc(2026, 10, 26, 8, 30)
    # A week with the change still has exactly 50 office hours.
    for monday in (madrid(2026, 3, 23), madrid(2026, 10, 19)):
        assert business_time_between(OFFICE, monday, monday + timedelta(days=7)) == 50 * H


def test_new_york_office_hours_stay_at_nine_local_across_the_clock_changes():
    office = schedule("America/New_York", intervals=(("09:00", "17:00"),))
    assert add_business_time(office, new_york(2026, 3, 6, 16, 30), H) == utc(2026, 3, 9, 13, 30)
    assert add_business_time(office, new_york(2026, 10, 30, 16, 30), H) == utc(2026, 11, 2, 14, 30)
    assert business_time_between(office, new_york(2026, 3, 2), new_york(2026, 3, 16)) == 80 * H


@pytest.mark.parametrize(
    ("interval", "opens", "closes"),
    [
        # Spring forward, 29 March 2026: 02:00-03:00 local does not exist (01:00 UTC is the jump).
        (("01:00", "04:00"), utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 2, 0)),  # 2 h
        (("02:30", "04:00"), utc(2026, 3, 29, 1, 0), utc(2026, 3, 29, 2, 0)),  # opens at the jump
        (("01:00", "02:30"), utc(2026, 3, 29, 0, 0), utc(2026, 3, 29, 1, 0)),  # closes at the jump
        # Fall back, 25 October 2026: 02:00-03:00 local happens twice; the first one counts.
        (("01:00", "04:00"), utc(2026, 10, 24, 23, 0), utc(2026, 10, 25, 3, 0)),  # 4 h
        (("02:30", "04:00"), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 3, 0)),  # 2.5 h
        (("01:00", "02:30"), utc(2026, 10, 24, 23, 0), utc(2026, 10, 25, 0, 30)),  # 1.5 h
    ],
)
def test_madrid_intervals_touching_the_changed_hour(interval, opens, closes):
    hours = schedule("Europe/Madrid", days=("sun",), intervals=(interval,))
    saturday = opens - timedelta(days=1)
    assert next_opening(hours, saturday) == opens
    assert add_business_time(hours, saturday, closes - opens) == closes
    assert business_time_between(hours, saturday, saturday + timedelta(days=2)) == closes - opens
    assert is_open(hours, closes - US)
    assert not is_open(hours, closes)


def test_the_second_occurrence_of_a_repeated_hour_is_not_open_when_the_interval_closed_in_the_first():
    hours = schedule("Europe/Madrid", days=("sun",), intervals=(("01:00", "02:30"),))
    second_0215 = datetime(2026, 10, 25, 2, 15, tzinfo=MADRID, fold=1)
    # Times in a repeated hour never compare equal across zones (PEP 495), so compare in UTC.
    assert second_0215.astimezone(UTC) == utc(2026, 10, 25, 1, 15)
    assert not is_open(hours, second_0215)
    assert is_open(hours, datetime(2026, 10, 25, 2, 15, tzinfo=MADRID, fold=0))


def test_an_interval_entirely_in_the_spring_gap_never_opens_that_day():
    hours = schedule("Europe/Madrid", days=("sun",), intervals=(("02:00", "03:00"),))
    # The next Sunday, 02:00 CEST, is the first opening after the skipped one.
    assert next_opening(hours, madrid(2026, 3, 28, 12)) == utc(2026, 4, 5, 0, 0)
    assert business_time_between(hours, madrid(2026, 3, 28), madrid(2026, 3, 30)) == timedelta(0)


def test_new_york_gap_and_fold():
    gap = schedule("America/New_York", days=("sun",), intervals=(("02:30", "05:00"),))
    assert next_opening(gap, new_york(2026, 3, 7, 12)) == utc(2026, 3, 8, 7, 0)  # 03:00 EDT
    assert business_time_between(gap, new_york(2026, 3, 7), new_york(2026, 3, 9)) == 2 * H
    fold = schedule("America/New_York", days=("sun",), intervals=(("01:30", "03:00"),))
    assert next_opening(fold, new_york(2026, 10, 31, 12)) == utc(2026, 11, 1, 5, 30)  # 01:30 EDT
    assert business_time_between(fold, new_york(2026, 10, 31), new_york(2026, 11, 2)) == 2.5 * H


def test_an_interval_may_end_at_midnight_and_run_on_into_the_next_day():
    hours = BusinessHours.from_dict(
        {"timezone": "Europe/Madrid", "week": {"mon": [["20:00", "24:00"]], "tue": [["00:00", "02:00"]]}}
    )
    assert add_business_time(hours, madrid(2026, 3, 9, 23, 30), H) == madrid(2026, 3, 10, 0, 30)
    assert is_open(hours, madrid(2026, 3, 10) - US)
    assert is_open(hours, madrid(2026, 3, 10))
    assert not is_open(hours, madrid(2026, 3, 10, 2, 0))
    assert business_time_between(hours, madrid(2026, 3, 9), madrid(2026, 3, 11)) == 6 * H
    assert hours.to_dict()["week"]["mon"] == [["20:00", "24:00"]]


def test_a_day_ending_at_midnight_before_a_closed_day_waits_a_week():
    hours = schedule("Europe/Madrid", days=("fri",), intervals=(("20:00", "24:00"),))
    assert add_business_time(hours, madrid(2026, 3, 6, 23, 30), H) == madrid(2026, 3, 13, 20, 30)


def test_start_exactly_at_opening_and_closing():
    assert add_business_time(OFFICE, madrid(2026, 3, 9, 9, 0), H) == madrid(2026, 3, 9, 10, 0)
    assert add_business_time(OFFICE, madrid(2026, 3, 6, 19, 0), H) == madrid(2026, 3, 9, 10, 0)
    # A target that uses up the day exactly is due at closing time, not at the next opening.
    assert add_business_time(OFFICE, madrid(2026, 3, 9, 9, 0), 10 * H) == madrid(2026, 3, 9, 19, 0)
    assert is_open(OFFICE, madrid(2026, 3, 9, 9, 0))
    assert not is_open(OFFICE, madrid(2026, 3, 9, 19, 0))
    assert is_open(OFFICE, madrid(2026, 3, 9, 19, 0) - US)
    assert next_opening(OFFICE, madrid(2026, 3, 6, 19, 0)) == madrid(2026, 3, 9, 9, 0)
    assert next_opening(OFFICE, madrid(2026, 3, 9, 9, 0)) == madrid(2026, 3, 9, 9, 0)
    assert next_opening(OFFICE, madrid(2026, 3, 9, 12, 34)) == madrid(2026, 3, 9, 12, 34)


def test_zero_target_is_due_at_once_and_reversed_ranges_count_nothing():
    assert add_business_time(OFFICE, madrid(2026, 3, 7, 12), timedelta(0)) == madrid(2026, 3, 7, 12)
    assert business_time_between(OFFICE, madrid(2026, 3, 9, 12), madrid(2026, 3, 9, 11)) == timedelta(0)


def test_any_time_zone_in_gives_utc_out():
    due = add_business_time(OFFICE, new_york(2026, 3, 9, 3, 0), H)  # 08:00 in Madrid
    assert due == madrid(2026, 3, 9, 10, 0)
    assert_utc(due)
    assert_utc(next_opening(OFFICE, madrid(2026, 3, 9, 12)))
    assert_utc(add_business_time(OFFICE, madrid(2026, 3, 9, 12), timedelta(0)))


def test_long_targets_walk_interval_by_interval():
    # 40 office hours a week on the split schedule: 400 hours is ten weeks later, same time.
    start = madrid(2026, 3, 9, 10, 0)
    assert add_business_time(SPLIT, start, 400 * H) == madrid(2026, 5, 18, 10, 0)


def test_a_schedule_that_never_opens_says_so_instead_of_looping():
    closed = BusinessHours("Europe/Madrid")
    with pytest.raises(ValueError, match="never open"):
        add_business_time(closed, madrid(2026, 3, 9), H)
    with pytest.raises(ValueError, match="never open"):
        next_opening(closed, madrid(2026, 3, 9))
    assert business_time_between(closed, madrid(2026, 3, 9), madrid(2026, 4, 9)) == timedelta(0)
    assert not is_open(closed, madrid(2026, 3, 9, 12))
    assert elapsed_with_pauses(closed, madrid(2026, 3, 9), madrid(2026, 4, 9), []) == timedelta(0)


def test_many_holidays_in_a_row_are_not_mistaken_for_a_closed_schedule():
    # Open on Mondays only, and every Monday of 2026 is a holiday: the next opening is in 2027.
    mondays = [date(2026, 1, 5) + timedelta(weeks=n) for n in range(52)]
    hours = schedule("Europe/Madrid", days=("mon",), holidays=[d.isoformat() for d in mondays])
    assert next_opening(hours, madrid(2026, 1, 1)) == madrid(2027, 1, 4, 9, 0)
    assert add_business_time(hours, madrid(2026, 1, 1), H) == madrid(2027, 1, 4, 10, 0)


def test_the_ends_of_the_calendar_are_a_clear_error():
    with pytest.raises(ValueError, match="too far from today"):
        add_business_time(OFFICE, utc(9999, 12, 30), 100 * H)
    with pytest.raises(ValueError, match="too far from today"):
        is_open(OFFICE, utc(1, 1, 1))


@pytest.mark.parametrize(
    "call",
    [
        lambda naive: add_business_time(OFFICE, naive, H),
        lambda naive: business_time_between(OFFICE, naive, madrid(2026, 3, 9)),
        lambda naive: business_time_between(OFFICE, madrid(2026, 3, 9), naive),
        lambda naive: is_open(OFFICE, naive),
        lambda naive: next_opening(OFFICE, naive),
        lambda naive: elapsed_with_pauses(OFFICE, naive, madrid(2026, 3, 9), []),
        lambda naive: elapsed_with_pauses(OFFICE, madrid(2026, 3, 1), madrid(2026, 3, 9), [(naive, None)]),
    ],
)
def test_naive_datetimes_are_refused(call):
    with pytest.raises(ValueError, match="must include a time zone"):
        call(datetime(2026, 3, 9, 12))  # naive on purpose


def test_negative_targets_are_refused():
    with pytest.raises(ValueError, match="negative"):
        add_business_time(OFFICE, madrid(2026, 3, 9), -MIN)


# --- Pauses ------------------------------------------------------------------------------------------


def test_overlapping_pauses_are_subtracted_once():
    start, end = madrid(2026, 3, 9, 9), madrid(2026, 3, 9, 19)  # a 10-hour Monday
    pauses = [
        (madrid(2026, 3, 9, 10), madrid(2026, 3, 9, 12)),
        (madrid(2026, 3, 9, 11), madrid(2026, 3, 9, 13)),  # overlaps the first: 10:00-13:00 paused
        (madrid(2026, 3, 9, 18), None),  # still waiting on the customer
        (madrid(2026, 3, 9, 20), None),  # began after the window: takes nothing
    ]
    assert elapsed_with_pauses(OFFICE, start, end, pauses) == 6 * H
    assert elapsed_with_pauses(OFFICE, start, end, []) == 10 * H


def test_pauses_outside_the_window_or_outside_hours_take_nothing():
    start, end = madrid(2026, 3, 9, 9), madrid(2026, 3, 10, 19)  # Monday and Tuesday: 20 h
    pauses = [
        (madrid(2026, 3, 6, 10), madrid(2026, 3, 6, 12)),  # the Friday before
        (madrid(2026, 3, 9, 20), madrid(2026, 3, 10, 8)),  # overnight, when the office is closed
        (madrid(2026, 3, 10, 18), madrid(2026, 3, 11, 12)),  # runs past the end: 1 h counts
    ]
    assert elapsed_with_pauses(OFFICE, start, end, pauses) == 19 * H


def test_a_pause_cannot_end_before_it_starts():
    with pytest.raises(ValueError, match="pause"):
        elapsed_with_pauses(
            OFFICE,
            madrid(2026, 3, 9),
            madrid(2026, 3, 10),
            [(madrid(2026, 3, 9, 12), madrid(2026, 3, 9, 11))],
        )


# --- Parsing and validation --------------------------------------------------------------------------


def test_dict_round_trip_normalises_order():
    data = {
        "timezone": "Europe/Madrid",
        "week": {"mon": [["16:00", "19:00"], ["09:00", "14:00"]], "sat": [["10:00", "24:00"]]},
        "holidays": ["2026-12-25", "2026-01-06", "2026-12-25"],
    }
    hours = BusinessHours.from_dict(data)
    assert hours.week[0] == ((540, 840), (960, 1140))
    assert hours.week[5] == ((600, MINUTES_PER_DAY),)
    assert hours.to_dict() == {
        "timezone": "Europe/Madrid",
        "week": {"mon": [["09:00", "14:00"], ["16:00", "19:00"]], "sat": [["10:00", "24:00"]]},
        "holidays": ["2026-01-06", "2026-12-25"],
    }
    assert BusinessHours.from_dict(json.loads(json.dumps(hours.to_dict()))) == hours


def test_touching_intervals_are_allowed_and_count_as_one_stretch():
    hours = BusinessHours.from_dict(
        {"timezone": "UTC", "week": {"mon": [["09:00", "12:00"], ["12:00", "15:00"]]}}
    )
    assert add_business_time(hours, utc(2026, 3, 9, 11), 2 * H) == utc(2026, 3, 9, 13)
    assert is_open(hours, utc(2026, 3, 9, 12))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "Unknown time zone"),
        ({"timezone": "europe/madrid"}, "Unknown time zone"),
        ({"timezone": "../../etc/passwd"}, "Unknown time zone"),
        ({"timezone": "/etc/localtime"}, "Unknown time zone"),
        ({"timezone": "Europe"}, "Unknown time zone"),
        ({"timezone": "localtime"}, "Unknown time zone"),
        ({"timezone": ""}, "time zone must be a name"),
        ({"timezone": 1}, "time zone must be a name"),
        ({"week": {}}, "need a time zone"),
        ("Europe/Madrid", "must be an object"),
        ({"timezone": "UTC", "weeks": {}}, "Unknown business-hours field: weeks"),
        ({"timezone": "UTC", "week": {"monday": []}}, "Unknown weekday 'monday'"),
        ({"timezone": "UTC", "week": [["09:00", "17:00"]]}, "must map weekdays"),
        ({"timezone": "UTC", "week": {"mon": "09:00-17:00"}}, "must be a list of intervals"),
        ({"timezone": "UTC", "week": {"mon": [["09:00"]]}}, "must be a pair"),
        ({"timezone": "UTC", "week": {"mon": [["9am", "17:00"]]}}, "Invalid time '9am' on Monday"),
        ({"timezone": "UTC", "week": {"mon": [["09:00", "25:00"]]}}, "Invalid time '25:00'"),
        ({"timezone": "UTC", "week": {"mon": [["09:60", "17:00"]]}}, "Invalid time '09:60'"),
        ({"timezone": "UTC", "week": {"mon": [["09:00", "24:01"]]}}, "Invalid time '24:01'"),
        ({"timezone": "UTC", "week": {"mon": [["09:00:00", "17:00"]]}}, "Invalid time"),
        ({"timezone": "UTC", "week": {"mon": [[9, 17]]}}, "Invalid time 9"),
        ({"timezone": "UTC", "week": {"mon": [["24:00", "24:00"]]}}, "24:00 can only end"),
        (
            {"timezone": "UTC", "week": {"tue": [["17:00", "09:00"]]}},
            "on Tuesday must end after it starts, not 17:00-09:00",
        ),
        ({"timezone": "UTC", "week": {"tue": [["22:00", "02:00"]]}}, "ending at 24:00"),
        (
            {"timezone": "UTC", "week": {"wed": [["09:00", "09:00"]]}},
            "must end after it starts, not 09:00-09:00",
        ),
        (
            {"timezone": "UTC", "week": {"fri": [["09:00", "14:00"], ["13:00", "19:00"]]}},
            "09:00-14:00 and 13:00-19:00 on Friday overlap",
        ),
        ({"timezone": "UTC", "week": {"fri": [["09:00", "19:00"], ["10:00", "11:00"]]}}, "overlap"),
        ({"timezone": "UTC", "holidays": "2026-12-25"}, "must be a list of dates"),
        ({"timezone": "UTC", "holidays": ["25/12/2026"]}, "Invalid holiday '25/12/2026'"),
        ({"timezone": "UTC", "holidays": ["2026-02-30"]}, "Invalid holiday"),
        ({"timezone": "UTC", "holidays": ["2026-W52-5"]}, "Invalid holiday"),
        ({"timezone": "UTC", "holidays": ["20261225"]}, "Invalid holiday"),
    ],
)
def test_bad_schedules_get_a_clear_error(data, message):
    with pytest.raises(ValueError, match=message):
        BusinessHours.from_dict(data)


def test_the_constructor_validates_too():
    with pytest.raises(ValueError, match="seven days"):
        BusinessHours("UTC", week=((),) * 6)
    with pytest.raises(ValueError, match="not 10:00-09:00"):
        BusinessHours("UTC", week=(((600, 540),),) + ((),) * 6)
    with pytest.raises(ValueError, match="outside the day"):
        BusinessHours("UTC", week=(((600, 1500),),) + ((),) * 6)
    with pytest.raises(ValueError, match="overlap"):
        BusinessHours("UTC", week=(((540, 700), (600, 800)),) + ((),) * 6)
    with pytest.raises(ValueError, match="start and an end"):
        BusinessHours("UTC", week=(((True, 800),),) + ((),) * 6)
    with pytest.raises(ValueError, match="must be a date"):
        BusinessHours("UTC", holidays=frozenset({datetime(2026, 12, 25, tzinfo=UTC)}))
    with pytest.raises(ValueError, match="Unknown time zone"):
        BusinessHours.always("Nowhere/Special")


def test_business_hours_are_immutable_values():
    first = schedule("Europe/Madrid")
    assert first == schedule("Europe/Madrid")
    assert hash(first) == hash(schedule("Europe/Madrid"))
    with pytest.raises(AttributeError):
        first.timezone = "UTC"  # type: ignore[misc]  # checking that frozen holds


# --- Properties --------------------------------------------------------------------------------------

# Zones chosen for their awkward clocks: half-hour offsets and a 30-minute DST shift (Lord Howe),
# changes at midnight (Santiago: 24:00 -> 23:00 and 24:00 -> 01:00; Havana: 00:00 -> 01:00), a whole
# skipped day (Apia, 30 December 2011), and no DST at all (UTC, Kolkata).
ZONES = (
    "Europe/Madrid",
    "America/New_York",
    "Australia/Lord_Howe",
    "America/Santiago",
    "America/Havana",
    "Pacific/Apia",
    "Asia/Kolkata",
    "UTC",
)
STEP = 5  # minutes; offsets and DST changes in these zones all fall on this grid


def _offset_changes(zone: str, year: int) -> list[datetime]:
    """Noon UTC on days whose offset differs from the next day's: starts near a DST change."""
    tz = ZoneInfo(zone)
    noons = [datetime(year, 1, 1, 12, tzinfo=UTC) + timedelta(days=n) for n in range(366)]
    return [a for a, b in pairwise(noons) if a.astimezone(tz).utcoffset() != b.astimezone(tz).utcoffset()]


CHANGES = {
    zone: [c for year in (2011, 2020, 2026, 2038) for c in _offset_changes(zone, year)] for zone in ZONES
}


@st.composite
def day_intervals(draw: st.DrawFn) -> list[list[str]]:
    """Non-overlapping intervals on a STEP grid; consecutive ones may touch, the last may end at 24:00."""
    points = sorted(draw(st.sets(st.integers(0, MINUTES_PER_DAY // STEP), max_size=6)))
    return [[clock(low * STEP), clock(high * STEP)] for low, high in pairwise(points) if draw(st.booleans())]


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def scenarios(draw: st.DrawFn, ever_open: bool = True) -> tuple[BusinessHours, datetime]:
    """A schedule and a start instant (often within days of a DST change), with holidays near it."""
    zone = draw(st.sampled_from(ZONES))
    near_a_change: bool = draw(st.booleans())
    if near_a_change and CHANGES[zone]:
        start = draw(st.sampled_from(CHANGES[zone])) + timedelta(
            minutes=draw(st.integers(-4 * 1440, 2 * 1440))
        )
    else:
        start = draw(st.datetimes(datetime(2009, 1, 1), datetime(2040, 1, 1), timezones=st.just(UTC)))
    start += timedelta(microseconds=draw(st.one_of(st.just(0), st.integers(0, 59_999_999))))
    week: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        if draw(st.booleans()):
            week[day] = draw(day_intervals())
    if ever_open:
        assume(any(week.values()))
    holidays = draw(st.sets(st.integers(-3, 30), max_size=5))
    local_day = start.astimezone(ZoneInfo(zone)).date()
    hours = BusinessHours.from_dict(
        {
            "timezone": zone,
            "week": week,
            "holidays": [(local_day + timedelta(days=n)).isoformat() for n in holidays],
        }
    )
    return hours, start


durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30))
PROPERTY = settings(max_examples=150, deadline=None)


@PROPERTY
@given(scenarios(), durations)
def test_business_time_until_the_due_time_is_the_target(scenario, duration):
    hours, start = scenario
    due = add_business_time(hours, start, duration)
    assert_utc(due)
    assert due >= start
    assert business_time_between(hours, start, due) == duration
    if duration:
        # Earliest: a microsecond before, the target had not been reached, and the clock was running.
        assert business_time_between(hours, start, due - US) == duration - US
        assert is_open(hours, due - US)


@PROPERTY
@given(scenarios(), durations, durations)
def test_due_time_grows_with_the_target_and_the_start(scenario, first, second):
    hours, start = scenario
    short, long = sorted((first, second))
    assert add_business_time(hours, start, short) <= add_business_time(hours, start, long)
    later = start + (long - short)
    assert add_business_time(hours, start, short) <= add_business_time(hours, later, short)
    # Going on from a due time is the same as asking for the sum at once.
    assert add_business_time(hours, add_business_time(hours, start, short), long) == add_business_time(
        hours, start, short + long
    )


@PROPERTY
@given(scenarios(ever_open=False), durations, durations)
def test_business_time_adds_up_and_never_exceeds_elapsed_time(scenario, first, second):
    hours, start = scenario
    middle, end = start + first, start + first + second
    whole = business_time_between(hours, start, end)
    assert whole == business_time_between(hours, start, middle) + business_time_between(hours, middle, end)
    assert timedelta(0) <= whole <= end - start
    assert business_time_between(hours, end, start) == timedelta(0)


@PROPERTY
@given(scenarios(ever_open=False), st.integers(0, 60 * 24 * 14))
def test_open_means_the_wall_clock_reads_inside_an_interval(scenario, minutes):
    """An oracle independent of the UTC spans: read the local clock and the calendar directly.

    Skips the second pass through a repeated hour, where the module's rule (first occurrence) and the
    bare wall clock differ by design.
    """
    hours, start = scenario
    at = start + timedelta(minutes=minutes)
    local = at.astimezone(hours.tzinfo)
    assume(local.fold == 0)
    since_midnight = local - local.replace(hour=0, minute=0, second=0, microsecond=0)
    expected = local.date() not in hours.holidays and any(
        timedelta(minutes=low) <= since_midnight < timedelta(minutes=high)
        for low, high in hours.week[local.weekday()]
    )
    assert is_open(hours, at) == expected


@settings(max_examples=40, deadline=None)
@given(scenarios(ever_open=False), st.integers(1, 3 * 24 * 60 // STEP), st.data())
def test_business_time_is_the_sum_of_open_moments(scenario, cells, data):
    """Count STEP-minute cells one by one (by their midpoints), with and without pauses on the grid."""
    hours, start = scenario
    start = start.replace(second=0, microsecond=0) - timedelta(minutes=start.minute % STEP)
    cell = timedelta(minutes=STEP)
    end = start + cells * cell
    grid = st.integers(-5, cells + 5).map(lambda n: start + n * cell)
    pauses = data.draw(
        st.lists(
            st.tuples(grid, st.one_of(st.none(), grid)).filter(lambda p: p[1] is None or p[1] >= p[0]),
            max_size=4,
        )
    )

    def paused(moment: datetime) -> bool:
        return any(low <= moment < (end if high is None else high) for low, high in pauses)

    middles = [start + n * cell + cell / 2 for n in range(cells)]
    assert business_time_between(hours, start, end) == cell * sum(is_open(hours, m) for m in middles)
    assert elapsed_with_pauses(hours, start, end, pauses) == cell * sum(
        is_open(hours, m) and not paused(m) for m in middles
    )


@PROPERTY
@given(scenarios(), st.integers(0, 60 * 24 * 14))
def test_next_opening_is_the_first_open_moment(scenario, minutes):
    hours, start = scenario
    at = start + timedelta(minutes=minutes)
    opening = next_opening(hours, at)
    assert_utc(opening)
    assert opening >= at
    assert is_open(hours, opening)
    assert business_time_between(hours, at, opening) == timedelta(0)
    assert is_open(hours, at) == (opening == at)
    assert add_business_time(hours, at, US) == opening + US


pause_lists = st.lists(
    st.tuples(st.integers(-2 * 1440, 10 * 1440), st.one_of(st.none(), st.integers(0, 3 * 1440))),
    max_size=5,
)


@PROPERTY
@given(scenarios(ever_open=False), st.integers(0, 10 * 1440), pause_lists)
def test_pauses_only_ever_take_time_away(scenario, minutes, raw_pauses):
    hours, start = scenario
    end = start + timedelta(minutes=minutes)
    pauses = [
        (start + timedelta(minutes=at), None if length is None else start + timedelta(minutes=at + length))
        for at, length in raw_pauses
    ]
    total = business_time_between(hours, start, end)
    running = elapsed_with_pauses(hours, start, end, pauses)
    assert timedelta(0) <= running <= total
    assert elapsed_with_pauses(hours, start, end, []) == total
    # The same pauses recorded twice (or a pause repeated) take nothing more.
    assert elapsed_with_pauses(hours, start, end, pauses + pauses) == running
    # Never less than subtracting each pause separately: overlaps are counted once.
    separately = total - sum(
        (
            business_time_between(hours, max(low, start), min(end, end if high is None else high))
            for low, high in pauses
        ),
        timedelta(0),
    )
    assert running >= separately
    # A pause over the whole window stops the clock completely.
    assert elapsed_with_pauses(hours, start, end, [*pauses, (start, None)]) == timedelta(0)


@PROPERTY
@given(scenarios(ever_open=False), st.integers(0, 5 * 1440), st.integers(0, 5 * 1440))
def test_one_pause_splits_the_window_in_two(scenario, pause_at, pause_length):
    hours, start = scenario
    end = start + timedelta(days=10)
    low = start + timedelta(minutes=pause_at)
    high = low + timedelta(minutes=pause_length)
    assert elapsed_with_pauses(hours, start, end, [(low, high)]) == business_time_between(
        hours, start, low
    ) + business_time_between(hours, high, end)


@PROPERTY
@given(scenarios(ever_open=False))
def test_dict_form_round_trips_through_json(scenario):
    hours, _ = scenario
    assert BusinessHours.from_dict(json.loads(json.dumps(hours.to_dict()))) == hours
