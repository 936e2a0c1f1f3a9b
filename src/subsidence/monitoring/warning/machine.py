"""The alarm state machine, pure: given the state of one (sensor, rule) track and a new sample, return the new
state and the transitions (raise, upgrade, downgrade, clear). Persistence is in ``services.alarms``.

Rules (docs/science.md §4, what monitoring professionals expect):
- **Confirmation**: a level is confirmed after ``confirm_samples`` consecutive samples at or above it, or at
  once when another sensor of the same hazard point is at or above it too (two sensors agreeing). A single
  outlier never raises an alarm; a real exceedance is confirmed within N samples.
- **Upgrades** apply as soon as the higher level is confirmed; there is no delay on the way up.
- **Hysteresis**: a level is left only when the value falls below that level's *reset* value (lower than the
  raise value) and stays below it for ``clear_delay``; then the level drops to what the value still holds.
- **Escalation**: an unacknowledged alarm escalates from the responsible person (stage 0) to the town (1)
  and the bureau (2) after level-dependent delays; acknowledgement stops escalation, a later upgrade
  restarts it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from subsidence.monitoring.warning.levels import Level
from subsidence.monitoring.warning.methods import Thresholds


@dataclass(frozen=True)
class AlarmPolicy:
    confirm_samples: int = 3
    clear_delay: timedelta = timedelta(hours=6)
    #: escalation delays per level (to town, to bureau) when not acknowledged; None: no escalation
    escalation: dict[Level, tuple[timedelta, timedelta] | None] = field(
        default_factory=lambda: {
            Level.RED: (timedelta(minutes=10), timedelta(minutes=30)),
            Level.ORANGE: (timedelta(minutes=30), timedelta(hours=2)),
            Level.YELLOW: (timedelta(hours=2), timedelta(hours=12)),
            Level.BLUE: None,
        }
    )

    def __post_init__(self) -> None:
        if self.confirm_samples < 1:
            raise ValueError("confirm_samples must be ≥ 1")


@dataclass
class TrackState:
    """State of one track; JSON-serialisable via :meth:`to_json` / :meth:`from_json`."""

    level: Level = Level.NONE  #: confirmed (active) level
    counts: list[int] = field(default_factory=lambda: [0, 0, 0, 0])  #: consecutive samples ≥ blue..red
    below_since: datetime | None = None  #: first sample time below the active level's reset value
    last_time: datetime | None = None
    last_value: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "level": int(self.level),
            "counts": list(self.counts),
            "below_since": self.below_since.isoformat() if self.below_since else None,
            "last_time": self.last_time.isoformat() if self.last_time else None,
            "last_value": self.last_value,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any] | None) -> TrackState:
        if not d:
            return cls()
        return cls(
            level=Level(int(d.get("level", 0))),
            counts=list(d.get("counts", [0, 0, 0, 0])),
            below_since=datetime.fromisoformat(d["below_since"]) if d.get("below_since") else None,
            last_time=datetime.fromisoformat(d["last_time"]) if d.get("last_time") else None,
            last_value=d.get("last_value"),
        )


@dataclass(frozen=True)
class Transition:
    event: str  #: raised | upgraded | downgraded | cleared
    old: Level
    new: Level
    at: datetime
    value: float
    confirmed_by: str  #: "N consecutive samples" / "corroborating sensor" / "reset for <delay>"


def step(
    state: TrackState,
    *,
    at: datetime,
    value: float,
    thresholds: Thresholds,
    policy: AlarmPolicy,
    corroborating: Level = Level.NONE,
    cap: Level = Level.RED,
) -> tuple[TrackState, Transition | None]:
    """Advance one track by one sample (``value`` at time ``at``). Samples must arrive in time order; an
    older or equal time is ignored (returns the state unchanged). ``cap`` limits the level this sample can
    raise (e.g. rain-affected samples)."""
    if state.last_time is not None and at <= state.last_time:
        return state, None
    raw = min(thresholds.level(value), cap)
    counts = [(c + 1) if raw >= lvl else 0 for c, lvl in zip(state.counts, (1, 2, 3, 4))]
    confirmed, how = Level.NONE, ""
    for lvl in (Level.RED, Level.ORANGE, Level.YELLOW, Level.BLUE):
        if counts[lvl - 1] >= policy.confirm_samples:
            confirmed, how = lvl, f"{policy.confirm_samples} consecutive samples"
            break
        if raw >= lvl and corroborating >= lvl:
            confirmed, how = lvl, "corroborating sensor"
            break
    new = TrackState(
        level=state.level, counts=counts, below_since=state.below_since, last_time=at, last_value=float(value)
    )
    if confirmed > state.level:
        new.level, new.below_since = confirmed, None
        return new, Transition(
            "raised" if state.level == Level.NONE else "upgraded", state.level, confirmed, at, float(value), how
        )
    held = thresholds.held(value)
    if held >= state.level or state.level == Level.NONE:
        new.below_since = None
        return new, None
    if new.below_since is None:
        new.below_since = at
    if at - new.below_since >= policy.clear_delay:
        target = max(held, confirmed)
        new.level = target
        new.below_since = None if target == Level.NONE else at
        return new, Transition(
            "cleared" if target == Level.NONE else "downgraded",
            state.level,
            target,
            at,
            float(value),
            f"below reset for {policy.clear_delay}",
        )
    return new, None


def run(
    values: list[tuple[datetime, float]], thresholds: Thresholds, policy: AlarmPolicy, state: TrackState | None = None
) -> tuple[TrackState, list[Transition]]:
    """Feed a sequence of samples through :func:`step`; returns the final state and all transitions."""
    st = state or TrackState()
    out = []
    for at, v in values:
        st, tr = step(st, at=at, value=v, thresholds=thresholds, policy=policy)
        if tr is not None:
            out.append(tr)
    return st, out


def escalation_due(level: Level, stage: int, since: datetime, policy: AlarmPolicy) -> datetime | None:
    """When an unacknowledged alarm at ``level``, now at ``stage`` since ``since``, escalates next (None: never)."""
    delays = policy.escalation.get(level)
    if delays is None or stage >= 2:
        return None
    return since + delays[stage] - (delays[stage - 1] if stage > 0 else timedelta(0))


# ----------------------------------------------------------------------------------------------------------------
# data-quality checks (separate alarms: they say nothing about the ground)


def no_data(
    last_time: datetime | None,
    now: datetime,
    expected_interval: timedelta,
    factor: float = 3.0,
    minimum: timedelta = timedelta(minutes=30),
) -> bool:
    """True when nothing arrived for ``max(factor × interval, minimum)`` (or never)."""
    if last_time is None:
        return True
    return now - last_time > max(expected_interval * factor, minimum)
