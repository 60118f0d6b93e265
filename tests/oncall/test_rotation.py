"""Shift arithmetic of ``oncall.rotation`` with exact values (no database)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from opsassure.oncall.rotation import LayerSpec, OverrideSpec, Rota, Segment

UTC = dt.UTC
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def at(zone: zoneinfo.ZoneInfo, *parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=zone)  # type: ignore[misc]


def daily(**kwargs: object) -> LayerSpec:
    values: dict[str, object] = {
        "layer_id": 1,
        "order": 0,
        "zone": "Asia/Shanghai",
        "start_date": dt.date(2026, 3, 2),
        "handoff_time": dt.time(9, 0),
        "participants": (11, 12, 13),
        "shift_days": 1,
    }
    values.update(kwargs)
    return LayerSpec(**values)  # type: ignore[arg-type]


def test_daily_hand_off_boundaries() -> None:
    layer = daily()
    assert layer.index_at(at(SHANGHAI, 2026, 3, 2, 8, 59, 59)) is None
    assert layer.index_at(at(SHANGHAI, 2026, 3, 2, 9, 0)) == 0
    assert layer.participant(0) == 11
    assert layer.index_at(at(SHANGHAI, 2026, 3, 3, 8, 59, 59)) == 0
    assert layer.index_at(at(SHANGHAI, 2026, 3, 3, 9, 0)) == 1
    assert layer.participant(1) == 12
    assert layer.index_at(at(SHANGHAI, 2026, 3, 5, 9, 0)) == 3
    assert layer.participant(3) == 11
    assert layer.shift_bounds(3) == (
        dt.datetime(2026, 3, 5, 1, 0, tzinfo=UTC),
        dt.datetime(2026, 3, 6, 1, 0, tzinfo=UTC),
    )


def test_end_date_stops_at_its_hand_off() -> None:
    layer = daily(end_date=dt.date(2026, 3, 4))
    assert layer.index_at(at(SHANGHAI, 2026, 3, 4, 8, 59)) == 1
    assert layer.index_at(at(SHANGHAI, 2026, 3, 4, 9, 0)) is None


def test_weekly_across_berlin_spring_forward_keeps_wall_clock_hand_off() -> None:
    layer = daily(
        zone="Europe/Berlin",
        start_date=dt.date(2026, 3, 23),
        participants=(1, 2),
        shift_days=7,
    )
    first, second = layer.shift_bounds(0)
    assert first == dt.datetime(2026, 3, 23, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert second == dt.datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # 09:00 CEST
    assert second - first == dt.timedelta(hours=167)
    assert layer.index_at(at(BERLIN, 2026, 3, 30, 8, 59)) == 0
    assert layer.index_at(at(BERLIN, 2026, 3, 30, 9, 0)) == 1
    assert layer.participant(1) == 2


def test_daily_across_berlin_fall_back_is_25_hours() -> None:
    layer = daily(zone="Europe/Berlin", start_date=dt.date(2026, 10, 24))
    start, end = layer.shift_bounds(0)
    assert (start, end) == (
        dt.datetime(2026, 10, 24, 7, 0, tzinfo=UTC),
        dt.datetime(2026, 10, 25, 8, 0, tzinfo=UTC),
    )


def test_hand_off_in_the_spring_gap_happens_after_the_gap() -> None:
    layer = daily(
        zone="Europe/Berlin", start_date=dt.date(2026, 3, 28), handoff_time=dt.time(2, 30)
    )
    assert layer.shift_start(1) == dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # = 03:30 CEST
    assert layer.shift_start(2) == dt.datetime(2026, 3, 30, 0, 30, tzinfo=UTC)  # 02:30 CEST


def test_custom_hours_count_elapsed_time_across_dst() -> None:
    layer = daily(
        zone="Europe/Berlin",
        start_date=dt.date(2026, 3, 28),
        handoff_time=dt.time(20, 0),
        participants=(1, 2),
        shift_days=None,
        shift_hours=12,
    )
    assert layer.shift_start(0) == dt.datetime(2026, 3, 28, 19, 0, tzinfo=UTC)
    assert layer.shift_start(1) == dt.datetime(2026, 3, 29, 7, 0, tzinfo=UTC)  # 09:00 CEST
    assert layer.index_at(dt.datetime(2026, 3, 29, 6, 59, tzinfo=UTC)) == 0
    assert layer.index_at(dt.datetime(2026, 3, 29, 7, 0, tzinfo=UTC)) == 1
    assert layer.participant(1) == 2
    assert layer.index_at(dt.datetime(2026, 3, 29, 19, 0, tzinfo=UTC)) == 2


NATIONAL_DAY = tuple(dt.date(2026, 10, day) for day in range(1, 8))


def test_holiday_shift_goes_to_the_next_participant_and_the_rotation_continues() -> None:
    layer = daily(start_date=dt.date(2026, 9, 28), holidays=NATIONAL_DAY)
    people = [layer.participant(k) for k in range(12)]
    # 9/28 9/29 9/30 | 10/1 … 10/7 (each holiday skips the next in turn) | 10/8 10/9
    assert people[:3] == [11, 12, 13]
    # 10/1: 11's turn falls on a holiday: 12 takes it; 10/2: 13's turn is skipped: 11 …
    assert people[3:10] == [12, 11, 13, 12, 11, 13, 12]
    # 10/8 (no holiday): the rotation simply continues after 12 (who worked 10/7).
    assert people[10:12] == [13, 11]


def test_holiday_on_a_weekly_layer_counts_only_the_hand_off_day() -> None:
    layer = daily(
        start_date=dt.date(2026, 9, 24), shift_days=7, participants=(1, 2), holidays=NATIONAL_DAY
    )
    # Shifts start 9/24, 10/1 (holiday), 10/8: the 10/1 shift goes to the next participant.
    assert [layer.participant(k) for k in range(3)] == [1, 1, 2]


def test_holiday_with_hour_shifts_counts_every_shift_starting_that_day() -> None:
    layer = daily(
        start_date=dt.date(2026, 9, 30),
        handoff_time=dt.time(8, 0),
        participants=(1, 2, 3),
        shift_days=None,
        shift_hours=12,
        holidays=(dt.date(2026, 10, 1),),
    )
    # 9/30 08:00 → 1, 9/30 20:00 → 2,
    # 10/1 08:00 (holiday) → 1 (3 skipped), 10/1 20:00 → 3 (1 skipped)
    # 10/2 08:00 → 1 (no holiday: the turn after 3)
    assert [layer.participant(k) for k in range(5)] == [1, 2, 1, 3, 1]


def test_upper_layer_wins_and_lower_layer_fills_its_gaps() -> None:
    business = daily(layer_id=2, order=0, participants=(7,), end_date=dt.date(2026, 3, 3))
    round_the_clock = daily(layer_id=1, order=5, handoff_time=dt.time(0, 0), participants=(5,))
    rota = Rota(layers=[round_the_clock, business])
    assert rota.who_at(at(SHANGHAI, 2026, 3, 2, 8, 0)) == Segment(
        at(SHANGHAI, 2026, 3, 2, 0, 0), at(SHANGHAI, 2026, 3, 3, 0, 0), 5, layer_id=1, shift_index=0
    )
    found = rota.who_at(at(SHANGHAI, 2026, 3, 2, 10, 0))
    assert found is not None
    assert (found.user_id, found.layer_id) == (7, 2)
    found = rota.who_at(at(SHANGHAI, 2026, 3, 3, 10, 0))  # business layer ended at 3/3 09:00
    assert found is not None
    assert (found.user_id, found.layer_id) == (5, 1)


def test_newest_override_wins_and_segments_split_at_every_boundary() -> None:
    layer = daily(participants=(1, 2))
    rota = Rota(
        layers=[layer],
        overrides=[
            OverrideSpec(10, 8, at(SHANGHAI, 2026, 3, 2, 12, 0), at(SHANGHAI, 2026, 3, 2, 18, 0)),
            OverrideSpec(11, 9, at(SHANGHAI, 2026, 3, 2, 14, 0), at(SHANGHAI, 2026, 3, 2, 15, 0)),
        ],
    )
    segments = list(rota.segments(at(SHANGHAI, 2026, 3, 2, 0, 0), at(SHANGHAI, 2026, 3, 3, 12, 0)))
    assert [
        (
            s.start.astimezone(SHANGHAI).strftime("%d %H:%M"),
            s.end.astimezone(SHANGHAI).strftime("%d %H:%M"),
            s.user_id,
        )
        for s in segments
    ] == [
        ("02 09:00", "02 12:00", 1),
        ("02 12:00", "02 14:00", 8),
        ("02 14:00", "02 15:00", 9),
        ("02 15:00", "02 18:00", 8),
        ("02 18:00", "03 09:00", 1),
        ("03 09:00", "03 12:00", 2),
    ]


def test_a_layer_needs_exactly_one_length() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        daily(shift_hours=12)
