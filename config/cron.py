"""Strict 5-field cron expressions (minute hour day month weekday) and their APScheduler 3 trigger arguments."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from apscheduler.triggers.cron import CronTrigger

EXAMPLE = '"0 9 * * mon-fri"'
_NUMBER = re.compile(r"[0-9]+")
_MONTHS = {
    n: i
    for i, n in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_WEEKDAYS = {n: i for i, n in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
# APScheduler 3 numbers weekdays from Monday = 0 where cron has Sunday = 0, so the trigger gets names.
_APS_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    kinds: str  # how its values are written, for messages
    names: dict[str, int] = field(default_factory=dict)


_MINUTE = _Field("minute", 0, 59, "a number 0-59")
_HOUR = _Field("hour", 0, 23, "a number 0-23")
_DAY = _Field("day", 1, 31, "a number 1-31")
_MONTH = _Field("month", 1, 12, "a number 1-12 or a name jan-dec", _MONTHS)
_WEEKDAY = _Field("weekday", 0, 7, "a number 0-7 (0 and 7 are Sunday) or a name mon-sun", _WEEKDAYS)
_FIELDS = (_MINUTE, _HOUR, _DAY, _MONTH, _WEEKDAY)
_TRIGGER_KEYS = ("minute", "hour", "day", "month", "day_of_week")


@dataclass(frozen=True)
class Cron:
    """A checked cron expression. `Cron(expr)` validates like parse_cron, so no instance is ever invalid."""

    expr: str
    _trigger: tuple[tuple[str, str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_trigger", _parse(self.expr))

    def __str__(self) -> str:
        return self.expr

    def trigger_kwargs(self) -> dict[str, str]:
        """Arguments for APScheduler 3: `CronTrigger(**cron.trigger_kwargs(), timezone=tz)`."""
        return dict(self._trigger)

    def trigger(self, tz: tzinfo) -> CronTrigger:
        """The APScheduler 3 trigger firing at these local times in `tz`, once per wall-clock time across
        daylight-saving changes."""
        return WallClockCronTrigger(**self.trigger_kwargs(), timezone=tz)

    def next_fire(self, tz: tzinfo, after: datetime) -> datetime:
        """The first fire strictly after `after` (aware), in UTC."""
        fire = self.trigger(tz).get_next_fire_time(None, after + timedelta(microseconds=1))
        assert fire is not None  # _parse refuses expressions that never fire
        return fire.astimezone(UTC)

    def previous_fire(self, tz: tzinfo, before: datetime) -> datetime:
        """The last fire at or before `before` (aware), in UTC: where a huddle's period starts."""
        trigger = self.trigger(tz)
        # Look back over growing spans, so an every-minute cron is not walked over a year of fires.
        for span in (
            timedelta(hours=2),
            timedelta(days=2),
            timedelta(days=9),
            timedelta(days=63),
            timedelta(days=800),
        ):
            fire, last = trigger.get_next_fire_time(None, before - span), None
            while fire is not None and fire <= before:
                last = fire
                fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
            if last is not None:
                return last.astimezone(UTC)
        raise ValueError(f'"{self.expr}" has not fired in the two years before {before:%Y-%m-%d}')


class WallClockCronTrigger(CronTrigger):
    """CronTrigger that fires once per local time. APScheduler 3 works in wall time, so a fire in the hour
    skipped in spring moves to the next valid time, but in the hour repeated in autumn (01:30 happens twice)
    it fires twice; a team expects one huddle, so the repeat is skipped."""

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        fire = super().get_next_fire_time(previous_fire_time, now)
        while fire is not None and _second_of_repeated_hour(fire):
            # Ask again from after the repeated hour: from within it APScheduler lands on the same fire.
            fire = super().get_next_fire_time(
                fire, fire + (fire.replace(fold=0).utcoffset() - fire.utcoffset())
            )
        return fire


def _second_of_repeated_hour(at: datetime) -> bool:
    # Only there do the two readings of the same wall time (fold 0 and 1) differ, and this is the later one.
    return at.fold == 1 and at.replace(fold=0).utcoffset() != at.utcoffset()


def parse_cron(expr: str) -> Cron:
    """Parse `minute hour day month weekday`; ValueError names the field and the problem."""
    if not isinstance(expr, str):
        raise ValueError(f"a cron expression is text in quotes, e.g. {EXAMPLE}")
    return Cron(expr.strip())


def _error(expr: str, problem: str) -> ValueError:
    return ValueError(f'"{expr}": {problem}')


def _parse(expr: str) -> tuple[tuple[str, str], ...]:
    parts = expr.split()
    if len(parts) == 1 and parts[0].startswith("@"):
        raise _error(
            expr,
            f"shortcuts such as {parts[0]} are not supported; write the 5 fields, e.g. {EXAMPLE}",
        )
    if len(parts) != 5:
        noun = "field" if len(parts) == 1 else "fields"
        raise ValueError(
            f'"{expr}" has {len(parts)} {noun}; a cron needs 5 (minute hour day month weekday), '
            f"e.g. {EXAMPLE}"
        )
    parsed = [_parse_field(spec, text, expr) for spec, text in zip(_FIELDS, parts)]
    day_text, month_text, weekday_text = parts[2], parts[3], parts[4]
    # Cron fires when EITHER day or weekday matches if both are restricted, APScheduler only when both do;
    # refusing the combination keeps the two meanings identical (a field starting with * counts as unrestricted).
    if not day_text.startswith("*") and not weekday_text.startswith("*"):
        raise _error(
            expr,
            f"day {day_text} and weekday {weekday_text} are both set, and cron then fires on either "
            "of them, which is rarely meant; use * for one of the two",
        )
    days, months = parsed[2][0], parsed[3][0]
    if not any(d <= _DAYS_IN_MONTH[m - 1] for d in days for m in months):
        raise _error(expr, f"never fires: day {day_text} does not occur in month {month_text}")
    weekdays = parsed[4][0]
    kwargs = [",".join(items) for _, items in parsed[:4]]
    if weekday_text == "*":
        kwargs.append("*")
    else:
        aps_numbers = sorted(
            {(d - 1) % 7 for d in weekdays}
        )  # cron 1 (Monday) -> 0, cron 0 and 7 -> 6
        kwargs.append(",".join(_APS_WEEKDAYS[n] for n in aps_numbers))
    return tuple(zip(_TRIGGER_KEYS, kwargs))


def _parse_field(spec: _Field, text: str, expr: str) -> tuple[set[int], list[str]]:
    """The values a field matches, and its items rewritten with numbers only."""
    values: set[int] = set()
    items: list[str] = []
    for item in text.split(","):
        if not item:
            raise _error(expr, f'{spec.name} "{text}" has an empty entry in its comma list')
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            span = spec.high - spec.low
            if not _NUMBER.fullmatch(step_text) or not 1 <= int(step_text) <= span:
                raise _error(
                    expr, f'{spec.name} step "{step_text}" must be a whole number from 1 to {span}'
                )
            step = int(step_text)
        if base == "*":
            # Sunday is matched once, as 0; 7 is only its other spelling.
            start, end = spec.low, 6 if spec is _WEEKDAY else spec.high
            items.append("*" if step == 1 else f"*/{step}")
        elif "-" in base:
            first, _, last = base.partition("-")
            start, end = _value(spec, first, expr), _value(spec, last, expr, range_end=True)
            if start > end:
                raise _error(
                    expr,
                    f"{spec.name} range {base} runs backwards; a range goes from the smaller "
                    "value to the larger, so split a wrap-around into two, joined by a comma",
                )
            items.append(f"{start}-{end}" + (f"/{step}" if step > 1 else ""))
        elif slash:
            raise _error(
                expr,
                f'{spec.name} "{item}": a step needs a range; '
                f"write {base}-{spec.high}/{step_text} or */{step_text}",
            )
        else:
            start = end = _value(spec, base, expr)
            items.append(str(start))
        values.update(range(start, end + 1, step))
    return values, items


def _value(spec: _Field, token: str, expr: str, range_end: bool = False) -> int:
    if _NUMBER.fullmatch(token):
        value = int(token)
    elif token.lower() in spec.names:
        value = spec.names[token.lower()]
        if range_end and spec is _WEEKDAY and value == 0:
            value = 7  # "mon-sun" means Monday through Sunday, not a backwards range
    else:
        raise _error(expr, f'{spec.name} "{token}" is not {spec.kinds}')
    if not spec.low <= value <= spec.high:
        raise _error(expr, f"{spec.name} {value} is out of range {spec.low}-{spec.high}")
    return value
