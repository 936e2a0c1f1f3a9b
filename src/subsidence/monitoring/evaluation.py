"""Alarm evaluation, acknowledgement and escalation, persisted in the caller's transaction.

Flow: observations are stored (:mod:`subsidence.monitoring.ingest`) → :func:`evaluate` turns each sensor's new
samples into a rule value per sample (tangent angle, threshold value/rate, rainfall, groundwater depth, failure
forecast), steps the pure state machine (:mod:`subsidence.monitoring.warning.machine`) and persists what changed —
the :class:`Alarm`, an :class:`AlarmEvent` and the :class:`OutboxMessage` rows — **in the caller's transaction**.
Nothing is sent from inside a transaction: :mod:`subsidence.monitoring.outbox` delivers afterwards, so a committed
alarm is always notified, even after a crash.

Rules per sensor come from :class:`SensorRules` (defaults per sensor kind, overridden by ``Sensor.config``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Iterable

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.db.base import utcnow
from subsidence.errors import Conflict, NotFound, ValidationFailed
from subsidence.monitoring.models import (
    Alarm,
    AlarmEvent,
    AlarmTrack,
    HazardContact,
    HazardPoint,
    Observation,
    OutboxMessage,
    Sensor,
)
from subsidence.monitoring.warning import methods as M
from subsidence.monitoring.warning.levels import DATA_QUALITY_KINDS, AlarmKind, Level
from subsidence.monitoring.warning.machine import AlarmPolicy, TrackState, escalation_due, no_data, step
from subsidence.vocabulary import SensorKind

log = logging.getLogger(__name__)

DISPLACEMENT_KINDS = {SensorKind.GNSS, SensorKind.CRACK_METER, SensorKind.INCLINOMETER, SensorKind.INSAR_POINT}
STAGE_ROLES = {0: ("responsible", "monitor", "warning"), 1: ("town",), 2: ("bureau",)}
GW_BAND_MAX_MEDIAN_M = 8.0  #: wells deeper than this get no default ecological-band alarm (configure them)
FORECAST_BUCKETS = 6  #: newest accelerating buckets that get an inverse-velocity forecast per evaluation
MIN_STEADY_DAYS = 3.0
PREFETCH_DAYS = 3.0  #: at most this much history is fetched in one query for recently evaluated sensors
RELEARN_PER_EVALUATION = 50  #: sensors whose steady velocity is re-learnt (daily) per evaluation call  #: history needed before the steady-creep velocity is learnt automatically
STAGE_LABEL = {0: "群测群防责任人", 1: "镇人民政府", 2: "旗自然资源局"}


# ----------------------------------------------------------------------------------------------------------------
# rules


@dataclass
class SensorRules:
    """Alarm rules of one sensor. ``Sensor.config`` keys override the defaults:

    - ``bucket_s``: evaluation step (samples are averaged per bucket; default max(interval, 600 s))
    - ``tangent``: ``{"steady_velocity_mm_d": v | null, "span_s": 86400, "smooth": 3, "tolerance_deg": 0}`` (0: Xu et al. 2009 as published; a steady band is opt-in)
      (displacement sensors; v is detected from the last 30 days when not given)
    - ``threshold``: ``{"value": [b, y, o, r], "rate": [b, y, o, r]}`` in the sensor unit and unit/day
    - ``rainfall``: ``{"hazard": "landslide" | "collapse", "k": 0.84}`` (rain gauges)
    - ``groundwater``: ``{"depth": [b, y, o, r]}`` m below ground (default the ecological bands)
    - ``confirm_samples``, ``clear_delay_s``, ``no_data_factor``, ``flat_line_samples``
    - ``manual``: readings a person takes (群测群防 field reports, :mod:`subsidence.monitoring.field`): no
      tangent-angle rule and no data-quality alarms (a patrol is not a sampling interval)
    """

    kind: SensorKind
    bucket_s: int
    tangent: dict[str, Any] | None
    threshold: dict[str, Any] | None
    rainfall: dict[str, Any] | None
    groundwater: dict[str, Any] | None
    policy: AlarmPolicy
    no_data_factor: float = 3.0
    flat_line_samples: int = 60
    manual: bool = False

    @classmethod
    def for_sensor(cls, sensor: Sensor) -> SensorRules:
        cfg = dict(sensor.config or {})
        interval = sensor.expected_interval_s or 3600
        bucket = int(cfg.get("bucket_s", max(interval, 600)))
        kind = sensor.kind
        tangent = threshold = rainfall = groundwater = None
        manual = bool(cfg.get("manual", False))
        if kind in DISPLACEMENT_KINDS and sensor.unit == "mm" and not manual:
            tangent = {
                "steady_velocity_mm_d": None,
                "span_s": max(86400, bucket),
                "smooth": 3,
                "tolerance_deg": 0.0,
                **(cfg.get("tangent") or {}),
            }
        if cfg.get("threshold"):
            threshold = cfg["threshold"]
        if kind == SensorKind.RAIN_GAUGE:
            rainfall = {"hazard": "landslide", "k": M.EAR_DECAY, **(cfg.get("rainfall") or {})}
        if kind == SensorKind.GROUNDWATER_WELL:
            groundwater = {
                "depth": [None, *M.GW_BANDS_M[1:]],
                "explicit": bool(cfg.get("groundwater")),
                **(cfg.get("groundwater") or {}),
            }
        policy = AlarmPolicy(
            confirm_samples=int(cfg.get("confirm_samples", 3)),
            clear_delay=timedelta(seconds=float(cfg.get("clear_delay_s", 6 * 3600))),
        )
        return cls(
            kind,
            bucket,
            tangent,
            threshold,
            rainfall,
            groundwater,
            policy,
            float(cfg.get("no_data_factor", 3.0)),
            int(cfg.get("flat_line_samples", 60)),
            manual,
        )


def _thr(vals: Any, what: str) -> M.Thresholds:
    try:
        return M.Thresholds(tuple(None if v is None else float(v) for v in vals))  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(f"sensor config {what}: {exc}") from exc


# ----------------------------------------------------------------------------------------------------------------
# evaluation


@dataclass
class EvaluationReport:
    sensors: int = 0
    samples: int = 0
    transitions: list[dict[str, Any]] = field(default_factory=list)
    escalated: int = 0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sensors": self.sensors,
            "samples": self.samples,
            "transitions": self.transitions,
            "escalated": self.escalated,
            "notes": self.notes,
        }


def _bucket(t: np.ndarray, v: np.ndarray, bucket_s: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean per bucket: (mean sample time, mean value, bucket end), times in epoch seconds.

    A bucket is dated by the mean time of its samples, not by its end: dated by its end, every rate and every
    failure forecast would run up to one bucket late (the dangerous direction). The end says when it is complete.
    """
    sec = t.astype("datetime64[ms]").astype(np.int64) / 1000.0
    b = np.floor(sec / bucket_s).astype(np.int64)
    uniq, inv = np.unique(b, return_inverse=True)
    cnt = np.bincount(inv)
    return np.bincount(inv, weights=sec) / cnt, np.bincount(inv, weights=v) / cnt, (uniq + 1.0) * bucket_s


def _epoch(dt: datetime) -> float:
    return dt.timestamp()


def _dt(sec: float) -> datetime:
    return datetime.fromtimestamp(float(sec), tz=UTC)


def _epoch_expr(session: Session):
    """Observation time as float epoch seconds, computed in SQL (no per-row datetime objects in Python)."""
    from sqlalchemy import Float, cast, func

    if session.get_bind().dialect.name == "postgresql":
        return cast(func.extract("epoch", Observation.time), Float)
    return (func.julianday(Observation.time) - 2440587.5) * 86400.0


def _load(session: Session, sensor_id: int, start: datetime) -> tuple[np.ndarray, np.ndarray]:
    """(times datetime64[ms] UTC, values) of one sensor from ``start`` on, oldest first."""
    rows = session.execute(
        select(_epoch_expr(session), Observation.value)
        .where(Observation.sensor_id == sensor_id, Observation.time >= start)
        .order_by(Observation.time)
    ).all()
    if not rows:
        return np.array([], dtype="datetime64[ms]"), np.array([])
    ep = np.fromiter((r[0] for r in rows), dtype=float, count=len(rows))
    val = np.fromiter((r[1] for r in rows), dtype=float, count=len(rows))
    return np.round(ep * 1000.0).astype("int64").astype("datetime64[ms]"), val


def _prefetch(session: Session, sensor_ids: list[int], start: datetime) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Observations of many sensors from ``start`` on in one query, split per sensor (oldest first)."""
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for k in range(0, len(sensor_ids), 500):
        part = sensor_ids[k : k + 500]
        rows = session.execute(
            select(Observation.sensor_id, _epoch_expr(session), Observation.value)
            .where(Observation.sensor_id.in_(part), Observation.time >= start)
            .order_by(Observation.sensor_id, Observation.time)
        ).all()
        if not rows:
            continue
        sid = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        ep = np.fromiter((r[1] for r in rows), dtype=float, count=len(rows))
        val = np.fromiter((r[2] for r in rows), dtype=float, count=len(rows))
        t = np.round(ep * 1000.0).astype("int64").astype("datetime64[ms]")
        bounds = np.flatnonzero(np.diff(sid)) + 1
        for a, b in zip(np.r_[0, bounds], np.r_[bounds, sid.size]):
            out[int(sid[a])] = (t[a:b], val[a:b])
    return out


def _track(session: Session, cache: dict, sensor_id: int, kind: AlarmKind | str) -> AlarmTrack:
    k = kind.value if isinstance(kind, AlarmKind) else kind
    key = (sensor_id, k)
    tr = cache.get(key)
    if tr is None:
        tr = AlarmTrack(sensor_id=sensor_id, kind=k, state=TrackState().to_json(), raw_level=0)
        session.add(tr)
        cache[key] = tr
    return tr


def _rule_values(
    session: Session,
    sensor: Sensor,
    rules: SensorRules,
    track_state: dict[str, Any],
    since: datetime | None,
    now: datetime,
) -> list[tuple[AlarmKind, M.Thresholds, list[tuple[datetime, float, Level]], dict]]:
    """For each rule of the sensor: thresholds and the new (time, value, cap) samples after ``since``."""
    out = []
    day = _epoch(now) / 86400.0
    budget = session.info.get("_relearn_budget")
    relearn = (
        bool(rules.tangent)
        and rules.tangent.get("steady_velocity_mm_d") is None
        and (
            "steady_v" not in track_state
            or (
                day - float(track_state.get("steady_day", 0)) >= 1.0
                and track_state.get("calm", True)
                and (budget is None or budget[0] > 0)
            )
        )
    )
    if relearn and "steady_v" in track_state and budget is not None:
        budget[0] -= 1  # daily re-learning is spread over evaluations so that no tick is slow
    if relearn:
        back = 30.0
    elif rules.rainfall:
        back = 20.0  # effective antecedent rainfall looks 15 days back
    elif rules.tangent and not track_state.get("calm", True):
        back = 10.0  # accelerating: enough history for the inverse-velocity forecast
    elif rules.tangent:
        back = float(track_state.get("span_days", 1.0)) + 0.5  # one chord + smoothing before the new samples
    else:
        back = 1.0
    # enough samples before the new ones for confirmation and rates, whatever the sampling interval
    back = max(back, (sensor.expected_interval_s or 3600) * (rules.policy.confirm_samples + 2) / 86400.0)
    start = min(since or now, now) - timedelta(days=back)
    pre = session.info.get("_prefetched") or {}
    if pre and pre["start"] <= start and sensor.id in pre["ids"]:
        t, v = pre["data"].get(sensor.id, (np.array([], dtype="datetime64[ms]"), np.array([])))
        keep = t >= np.datetime64(start.replace(tzinfo=None), "ms")
        t, v = t[keep], v[keep]
    else:
        t, v = _load(session, sensor.id, start)
    track_state["_loaded"] = (t, v)
    if t.size == 0:
        return out
    since_s = _epoch(since) if since else -np.inf
    if rules.tangent:
        tb, vb, te = _bucket(t, v, rules.bucket_s)
        complete = te <= _epoch(now) + 1e-6
        tb, vb = tb[complete], vb[complete]
        info: dict[str, Any] = {}
        td = (tb - tb[0]) / 86400.0 if tb.size else tb
        fixed_v = rules.tangent.get("steady_velocity_mm_d")
        if relearn:
            if tb.size >= 16 and td[-1] >= MIN_STEADY_DAYS:
                try:
                    w = M.detect_steady_window(td, vb)
                    res_std = float(
                        np.std(
                            vb[w.start : w.stop]
                            - np.polyval(
                                np.polyfit(td[w.start : w.stop], vb[w.start : w.stop], 1), td[w.start : w.stop]
                            )
                        )
                    )
                    track_state.update(steady_v=w.velocity, steady_sigma=res_std, steady_day=round(day, 4))
                except M.MethodError as exc:
                    info["note"] = str(exc)
            else:
                info["note"] = f"steady-creep velocity needs {MIN_STEADY_DAYS:g} days of data"
        vel = fixed_v or track_state.get("steady_v")
        if vel:
            sigma = float(track_state.get("steady_sigma", 0.0)) if not fixed_v else 0.0
            # velocity noise of a chord over `span` days is √2·σ/span: keep it ≤ 20 % of v (cap 7 days)
            span_days = min(7.0, max(rules.tangent["span_s"] / 86400.0, 7.0 * sigma / float(vel)))
            track_state["span_days"] = span_days
            ratio_noise = 1.4142 * sigma / (float(vel) * span_days)
            tol = min(
                30.0,
                max(
                    float(rules.tangent.get("tolerance_deg", 0.0)),
                    float(np.degrees(np.arctan(1.0 + 3.0 * ratio_noise))) - 45.0,
                ),
            )
            smooth = int(rules.tangent.get("smooth", 3))
            new = tb > since_s
            if td.size > smooth and td[-1] - td[0] >= span_days and new.any():
                res = M.tangent_angle(
                    td, vb, steady_velocity=float(vel), span_days=span_days, smooth=smooth, steady_tolerance_deg=tol
                )
                caps = _rain_caps(session, sensor, tb)
                samples = [
                    (_dt(tb[i]), float(res.alpha_deg[i]), caps[i])
                    for i in np.flatnonzero(new)
                    if np.isfinite(res.alpha_deg[i])
                ]
                info.update(
                    {
                        "steady_velocity_mm_d": round(float(vel), 4),
                        "span_days": round(span_days, 3),
                        "tolerance_deg": round(tol, 2),
                        "bucket_s": rules.bucket_s,
                    }
                )
                out.append(
                    (AlarmKind.TANGENT_ANGLE, M.tangent_thresholds(tol), samples, {**info, "series": (td, vb, tb)})
                )
                # inverse-velocity forecast on the newest accelerating buckets (its own alarm: lead time → level)
                acc = [i for i in np.flatnonzero(new) if res.level[i] >= Level.YELLOW][-FORECAST_BUCKETS:]
                fsamples = []
                for i in acc:
                    fc = _forecast((td, vb, tb), _dt(tb[i]))
                    fsamples.append((_dt(tb[i]), float(fc.get("level", 0)), Level.RED, {"forecast": fc}))
                if fsamples:
                    out.append(
                        (AlarmKind.INVERSE_VELOCITY, M.Thresholds((1, 2, 3, 4), reset=(1, 2, 3, 4)), fsamples, {})
                    )
    if rules.threshold:
        new = _epoch_ms_arr(t) > since_s
        if "value" in rules.threshold:
            out.append(
                (
                    AlarmKind.THRESHOLD,
                    _thr(rules.threshold["value"], "threshold.value"),
                    [(_dt64(t[i]), float(v[i]), Level.RED) for i in np.flatnonzero(new)],
                    {"what": "value"},
                )
            )
        if "rate" in rules.threshold and t.size >= 2:
            td = (t - t[0]).astype("timedelta64[ms]").astype(float) / 86_400_000.0
            rate = np.full(t.size, np.nan)
            w = max(1, int(rules.threshold.get("rate_window", 1)))
            if t.size > w:
                idx, _, vv = M.chord_velocity(td, v, w)
                rate[idx] = vv
            out.append(
                (
                    AlarmKind.RATE,
                    _thr(rules.threshold["rate"], "threshold.rate"),
                    [(_dt64(t[i]), float(rate[i]), Level.RED) for i in np.flatnonzero(new) if np.isfinite(rate[i])],
                    {"what": "rate"},
                )
            )
    if rules.rainfall:
        tz = 8.0 / 24.0  # day boundary in Beijing time
        td = t.astype("datetime64[s]").astype(np.int64) / 86400.0
        days, daily = M.daily_totals(td, v, day_offset=tz)
        lev, ear = M.rainfall_levels(
            daily, hazard=rules.rainfall.get("hazard", "landslide"), k=float(rules.rainfall.get("k", M.EAR_DECAY))
        )
        # value fed to the state machine: the level itself on a 1..4 scale (already thresholded)
        last_t = td[-1]
        samples = []
        for i, d in enumerate(days):
            t_end = min(d + 1.0, last_t + 1e-9)
            if t_end * 86400.0 > since_s and (d <= last_t):
                samples.append((_dt(t_end * 86400.0), float(lev[i]), Level.RED))
        thr = rules.rainfall.get("hazard", "landslide")
        out.append(
            (
                AlarmKind.RAINFALL,
                M.Thresholds((1, 2, 3, 4), reset=(1, 2, 3, 4)),
                samples,
                {"hazard": thr, "daily_mm": float(daily[-1]), "ear_mm": float(ear[-1])},
            )
        )
    # the ecological depth bands are for the phreatic water table of the sandy land (docs/science.md §4); a deep
    # well (median depth > 8 m) would sit in "red" for ever, so it needs its own thresholds in Sensor.config
    if rules.groundwater and (rules.groundwater.get("explicit") or float(np.median(v)) <= GW_BAND_MAX_MEDIAN_M):
        new = _epoch_ms_arr(t) > since_s
        out.append(
            (
                AlarmKind.GROUNDWATER,
                _thr(rules.groundwater["depth"], "groundwater.depth"),
                [(_dt64(t[i]), float(v[i]), Level.RED) for i in np.flatnonzero(new)],
                {"what": "depth_m"},
            )
        )
    return out


def _epoch_ms(x: np.datetime64) -> float:
    return x.astype("datetime64[ms]").astype(np.int64) / 1000.0


def _epoch_ms_arr(t: np.ndarray) -> np.ndarray:
    return t.astype("datetime64[ms]").astype(np.int64) / 1000.0


def _dt64(x: np.datetime64) -> datetime:
    return _dt(_epoch_ms(x))


def _rain_caps(session: Session, sensor: Sensor, tb: np.ndarray) -> list[Level]:
    """Cap at YELLOW the buckets of a displacement sensor that are rain-affected (heavy rain at a gauge of the
    same hazard point that day or the two days before): a rain step is not failure acceleration."""
    caps = [Level.RED] * tb.size
    if sensor.hazard_point_id is None or tb.size == 0:
        return caps
    memo = session.info.setdefault("_gauges", {})
    if sensor.hazard_point_id not in memo:
        memo[sensor.hazard_point_id] = session.scalars(
            select(Sensor.id).where(
                Sensor.hazard_point_id == sensor.hazard_point_id, Sensor.kind == SensorKind.RAIN_GAUGE
            )
        ).all()
    gauges = memo[sensor.hazard_point_id]
    if not gauges:
        return caps
    start = _dt(tb[0] - 4 * 86400)
    for g in gauges:
        t, v = _load(session, g, start)
        if t.size == 0:
            continue
        td = t.astype("datetime64[s]").astype(np.int64) / 86400.0
        days, daily = M.daily_totals(td, v, day_offset=8.0 / 24.0)
        mask = M.rain_affected_mask(tb / 86400.0, days, daily)
        caps = [Level.YELLOW if m else c for m, c in zip(mask, caps)]
    return caps


def evaluate(
    session: Session,
    *,
    now: datetime | None = None,
    sensor_ids: Iterable[int] | None = None,
    actor: str = "system",
    faults: dict[int, int] | None = None,
) -> EvaluationReport:
    """Evaluate the new samples of the given (default: all active) sensors, then data quality and escalation.

    ``faults`` (from :attr:`IngestReport.faults`) raises a sensor-fault alarm for sensors that sent values
    outside their physical range; the alarm clears when the sensor next sends valid data without faults.

    Writes alarms, events and outbox rows in the caller's transaction (commit it, then :func:`dispatch`)."""
    now = now or utcnow()
    q = select(Sensor).where(Sensor.active.is_(True))
    if sensor_ids is not None:
        ids = list(sensor_ids)
        q = q.where(Sensor.id.in_(ids))
    sensors = list(session.scalars(q))
    report = EvaluationReport(sensors=len(sensors))
    ids = [s.id for s in sensors]
    # tracks of these sensors and of their neighbours at the same hazard points (for corroboration)
    hp_ids = {s.hazard_point_id for s in sensors if s.hazard_point_id is not None}
    peers: dict[int, list[int]] = {}
    if hp_ids:
        for sid, hp in session.execute(
            select(Sensor.id, Sensor.hazard_point_id).where(Sensor.hazard_point_id.in_(hp_ids))
        ):
            peers.setdefault(hp, []).append(sid)
    track_ids = set(ids) | {sid for lst in peers.values() for sid in lst}
    cache = (
        {
            (tr.sensor_id, tr.kind): tr
            for tr in session.scalars(select(AlarmTrack).where(AlarmTrack.sensor_id.in_(track_ids)))
        }
        if track_ids
        else {}
    )
    session.info["_peers"] = peers
    session.info["_relearn_budget"] = [RELEARN_PER_EVALUATION]
    session.info["_faults"] = dict(faults or {})
    # one query for the recent data of every sensor that was evaluated lately (the steady, frequent case)
    need: dict[int, datetime] = {}
    for s in sensors:
        tr = cache.get((s.id, "_sensor"))
        st = (tr.state or {}) if tr is not None else {}
        if tr is None or tr.evaluated_until is None or not st.get("calm", True) or "steady_v" not in st:
            continue
        start = tr.evaluated_until - timedelta(days=float(st.get("span_days", 1.0)) + 0.5)
        if start >= now - timedelta(days=PREFETCH_DAYS):
            need[s.id] = start
    if len(need) > 1:
        start = min(need.values())
        session.info["_prefetched"] = {"start": start, "ids": set(need), "data": _prefetch(session, list(need), start)}
    session.info["_open_alarms"] = (
        {
            a.open_key: a
            for a in session.scalars(select(Alarm).where(Alarm.open_key.is_not(None), Alarm.sensor_id.in_(ids)))
        }
        if ids
        else {}
    )
    try:
        with session.no_autoflush:
            _evaluate_sensors(session, sensors, cache, now, actor, report)
    finally:
        session.info.pop("_open_alarms", None)
        session.info.pop("_peers", None)
        session.info.pop("_gauges", None)
        session.info.pop("_relearn_budget", None)
        session.info.pop("_prefetched", None)
        session.info.pop("_faults", None)
    session.flush()
    report.escalated = escalate_due(session, now=now)
    return report


def _evaluate_sensors(
    session: Session, sensors: list[Sensor], cache: dict, now: datetime, actor: str, report: EvaluationReport
) -> None:
    for sensor in sensors:
        rules = SensorRules.for_sensor(sensor)
        meta = _track(session, cache, sensor.id, "_sensor")  # evaluated_until and cached steady velocity
        since = meta.evaluated_until
        meta_state = dict(meta.state or {})
        try:
            rule_values = _rule_values(session, sensor, rules, meta_state, since, now)
        except M.MethodError as exc:
            report.notes.append(f"{sensor.code}: {exc}")
            rule_values = []
        latest: datetime | None = since
        for kind, thr, samples, info in rule_values:
            tr = _track(session, cache, sensor.id, kind)
            st = TrackState.from_json(tr.state)
            for at, value, cap, *extra in samples:
                corro = _corroborating(session, cache, sensor, kind) if thr.level(value) > st.level else Level.NONE
                st, tran = step(
                    st, at=at, value=value, thresholds=thr, policy=rules.policy, corroborating=corro, cap=cap
                )
                tr.raw_level = int(min(thr.level(value), cap))
                report.samples += 1
                if tran is not None:
                    details = {k: v for k, v in info.items() if k != "series"}
                    if extra:
                        details.update(extra[0])
                    if kind == AlarmKind.TANGENT_ANGLE and tran.new >= Level.ORANGE and "series" in info:
                        details["forecast"] = _forecast(info["series"], at)
                    _apply(session, sensor, kind, tran, details, actor, rules.policy, now)
                    report.transitions.append(
                        {
                            "sensor": sensor.code,
                            "kind": kind.value,
                            "event": tran.event,
                            "from": tran.old.code,
                            "to": tran.new.code,
                            "at": tran.at.isoformat(),
                            "value": round(tran.value, 3),
                        }
                    )
                elif extra and extra[0].get("forecast", {}).get("ok"):
                    _update_forecast(session, sensor, kind, extra[0]["forecast"])  # refit on every sample
                latest = at if latest is None or at > latest else latest
            tr.state = st.to_json()
            if kind == AlarmKind.TANGENT_ANGLE:
                meta_state["calm"] = st.level <= Level.BLUE  # never re-learn v while the slope accelerates
        # data quality (from the samples already loaded when there are enough)
        loaded_t, loaded_v = meta_state.pop("_loaded", (np.array([], dtype="datetime64[ms]"), np.array([])))
        if rules.manual:  # a person's readings: no sampling interval, no stuck sensor
            meta.state = meta_state
            if loaded_t.size or latest is not None:
                meta.evaluated_until = max(
                    x for x in (_dt64(loaded_t[-1]) if loaded_t.size else None, latest, since) if x is not None
                )
            continue
        last_obs = (
            _dt64(loaded_t[-1])
            if loaded_t.size
            else session.scalar(
                select(Observation.time)
                .where(Observation.sensor_id == sensor.id)
                .order_by(Observation.time.desc())
                .limit(1)
            )
        )
        interval = timedelta(seconds=sensor.expected_interval_s or 3600)
        _dq(
            session,
            sensor,
            AlarmKind.NO_DATA,
            no_data(last_obs, now, interval, rules.no_data_factor),
            f"超过 {interval * rules.no_data_factor} 未收到数据 / no data for {interval * rules.no_data_factor}",
            actor,
            rules.policy,
            now,
            report,
        )
        # a rain gauge reads 0 for weeks in the dry season: a flat line is normal there
        if sensor.kind != SensorKind.RAIN_GAUGE and last_obs is not None and (since is None or last_obs > since):
            vals = (
                loaded_v[-rules.flat_line_samples :]
                if loaded_v.size >= rules.flat_line_samples
                else session.scalars(
                    select(Observation.value)
                    .where(Observation.sensor_id == sensor.id)
                    .order_by(Observation.time.desc())
                    .limit(rules.flat_line_samples)
                ).all()
            )
            flat = M.is_flat_line(np.array(vals), n=rules.flat_line_samples, eps=0.0)
            _dq(
                session,
                sensor,
                AlarmKind.FLAT_LINE,
                flat,
                f"最近 {rules.flat_line_samples} 个数据完全相同（疑似传感器卡死）/ last "
                f"{rules.flat_line_samples} values identical (stuck sensor?)",
                actor,
                rules.policy,
                now,
                report,
            )
        n_faults = session.info.get("_faults", {}).get(sensor.id, 0)
        if n_faults:
            _dq(
                session,
                sensor,
                AlarmKind.SENSOR_FAULT,
                True,
                f"{n_faults} 个数据超出量程（疑似传感器故障）/ {n_faults} values outside the sensor's range",
                actor,
                rules.policy,
                now,
                report,
            )
        elif last_obs is not None and (since is None or last_obs > since):
            _dq(session, sensor, AlarmKind.SENSOR_FAULT, False, "", actor, rules.policy, now, report)
        meta.state = meta_state
        if last_obs is not None:
            meta.evaluated_until = max(x for x in (last_obs, latest, since) if x is not None)


def _update_forecast(session: Session, sensor: Sensor, kind: AlarmKind, fc: dict[str, Any]) -> None:
    alarm = _open_alarm(session, f"{sensor.id}:{kind.value}")
    if alarm is not None:
        alarm.details = {**(alarm.details or {}), "forecast": fc}


def _corroborating(session: Session, cache: dict, sensor: Sensor, kind: AlarmKind) -> Level:
    """Highest raw level of the same rule at another sensor of the same hazard point (two sensors agreeing),
    from the in-memory tracks of this evaluation (so sensors evaluated earlier in the batch count)."""
    if sensor.hazard_point_id is None:
        return Level.NONE
    peers = (session.info.get("_peers") or {}).get(sensor.hazard_point_id, [])
    best = 0
    for sid in peers:
        if sid != sensor.id:
            tr = cache.get((sid, kind.value))
            if tr is not None:
                best = max(best, int(tr.raw_level or 0))
    return Level(best)


def _forecast(series: tuple[np.ndarray, np.ndarray, np.ndarray], at: datetime) -> dict[str, Any]:
    td, vb, tb = series
    upto = tb <= _epoch(at) + 1e-6
    try:
        fc = M.inverse_velocity_forecast(td[upto], vb[upto])
    except M.MethodError as exc:
        return {"ok": False, "reason": str(exc)}
    if not fc.ok:
        return {"ok": False, "reason": fc.reason}
    t0 = tb[0] - (td[0] * 86400.0)
    f = lambda d: None if d is None else _dt(t0 + d * 86400.0).isoformat()  # noqa: E731
    return {
        "ok": True,
        "failure_time": f(fc.failure_time),
        "failure_window": [f(fc.failure_window[0]), f(fc.failure_window[1])],
        "onset": f(fc.onset_time),
        "level": int(M.forecast_level(fc)),
        "lead_days": round(fc.failure_window[0] - fc.last_time, 3),
        "alpha": None if fc.alpha is None else round(fc.alpha, 3),
        "alpha_window": None if fc.alpha_window is None else [round(a, 3) for a in fc.alpha_window],
    }


def _open_alarm(session: Session, key: str) -> Alarm | None:
    """The open alarm with this key (from the evaluation's prefetched map when there is one)."""
    cache = session.info.get("_open_alarms")
    if cache is not None:
        return cache.get(key)
    return session.scalar(select(Alarm).where(Alarm.open_key == key))


def _dq(
    session: Session,
    sensor: Sensor,
    kind: AlarmKind,
    bad: bool,
    text: str,
    actor: str,
    policy: AlarmPolicy,
    now: datetime,
    report: EvaluationReport,
) -> None:
    """Data-quality alarms: raised at once when the condition holds, cleared at once when it ends."""
    key = f"{sensor.id}:{kind.value}"
    alarm = _open_alarm(session, key)
    if bad and alarm is None:
        _open(session, sensor, kind, Level.BLUE, now, text, {"data_quality": True}, actor, policy, "condition")
        report.transitions.append(
            {"sensor": sensor.code, "kind": kind.value, "event": "raised", "to": "blue", "at": now.isoformat()}
        )
    elif not bad and alarm is not None:
        _close(session, alarm, now, actor, "condition ended")
        report.transitions.append(
            {"sensor": sensor.code, "kind": kind.value, "event": "cleared", "at": now.isoformat()}
        )


# ----------------------------------------------------------------------------------------------------------------
# persistence of transitions


def _event(session: Session, alarm: Alarm, event: str, at: datetime, actor: str, details: dict | None = None) -> None:
    session.add(AlarmEvent(alarm_id=alarm.id, at=at, event=event, level=alarm.level, actor=actor, details=details))


def _message(
    sensor: Sensor, kind: AlarmKind, level: Level, event: str, details: dict[str, Any], hp: HazardPoint | None
) -> tuple[str, str]:
    where = f"{hp.name}（{hp.code}）" if hp is not None else sensor.code
    ev = {
        "raised": "发布",
        "upgraded": "升级为",
        "downgraded": "降级为",
        "cleared": "解除",
        "escalated": "未确认，升级通知",
        "condition": "数据质量告警",
    }.get(event, event)
    subject = f"【{level.label()}】{where} {kind.label()} {ev}"
    lines = [
        f"{where} 监测点 {sensor.code}（{sensor.kind.label()}）：{kind.label()}，{level.label()}，{ev}。",
        f"{kind.label('en')}: {level.label('en')} — {event}.",
    ]
    fc = details.get("forecast")
    if fc and fc.get("ok"):
        w = fc["failure_window"]
        lines.append(f"速度倒数法预测失稳时间窗口 / forecast failure window: {w[0]} — {w[1] or '未定 (open)'}")
    if hp is not None and hp.evacuation_route_text:
        lines.append(f"撤离路线：{hp.evacuation_route_text}；避险场所：{hp.shelter_name or '—'}")
    return subject, "\n".join(lines)


def _recipients(
    session: Session, hp_id: int | None, stage: int, data_quality: bool, level: Level = Level.RED
) -> list[tuple[str, str, str]]:
    """(channel, address, role title) for an escalation stage; always at least one (log) entry.

    Data-quality alarms and blue (注意级: watch more closely) go to the monitor only; yellow and above to the
    responsible person, the monitor and the warning giver, then up the escalation stages."""
    roles = ("monitor",) if (data_quality or level <= Level.BLUE) else STAGE_ROLES[stage]
    out: list[tuple[str, str, str]] = []
    if hp_id is not None:
        for c in session.scalars(
            select(HazardContact)
            .where(HazardContact.hazard_point_id == hp_id, HazardContact.role.in_(roles))
            .order_by(HazardContact.id)
        ):
            if c.phone:
                out.append(("sms", c.phone, c.title))
            if c.email:
                out.append(("email", c.email, c.title))
    out.append(("log", f"stage{stage}:{'/'.join(roles)}", STAGE_LABEL.get(stage, "")))
    return out


def _notify(
    session: Session,
    alarm: Alarm,
    sensor: Sensor,
    event: str,
    stages: Iterable[int],
    details: dict,
    seq: int,
    now: datetime | None = None,
) -> None:
    """Queue one outbox row per recipient and channel (same transaction as the alarm change)."""
    now = now or utcnow()
    hp = session.get(HazardPoint, sensor.hazard_point_id) if sensor.hazard_point_id else None
    subject, body = _message(sensor, AlarmKind(alarm.kind), Level(alarm.level), event, details, hp)
    level = Level(alarm.level)
    priority = 0 if alarm.data_quality else (int(level) * 2 + (0 if event in ("cleared", "downgraded") else 1))
    for stage in stages:
        for channel, addr, role in _recipients(session, sensor.hazard_point_id, stage, alarm.data_quality, level):
            key = f"alarm{alarm.id}:{seq}:{event}:s{stage}:{channel}:{addr}"[:120]
            session.add(
                OutboxMessage(
                    idempotency_key=key,
                    alarm_id=alarm.id,
                    channel=channel,
                    recipient=addr,
                    recipient_role=role,
                    subject=subject[:300],
                    body=body,
                    priority=priority,
                    created_at=now,
                    next_attempt_at=now,
                )
            )


def _event_seq(session: Session, alarm: Alarm) -> int:
    session.flush()
    return len(session.scalars(select(AlarmEvent.id).where(AlarmEvent.alarm_id == alarm.id)).all())


def _open(
    session: Session,
    sensor: Sensor,
    kind: AlarmKind,
    level: Level,
    at: datetime,
    text: str,
    details: dict,
    actor: str,
    policy: AlarmPolicy,
    how: str,
    notified_at: datetime | None = None,
) -> Alarm:
    """Open an alarm at sample time ``at``; escalation counts from ``notified_at`` (when people are told)."""
    dq = kind in DATA_QUALITY_KINDS
    alarm = Alarm(
        open_key=f"{sensor.id}:{kind.value}",
        sensor_id=sensor.id,
        hazard_point_id=sensor.hazard_point_id,
        kind=kind.value,
        data_quality=dq,
        level=int(level),
        max_level=int(level),
        state="open",
        opened_at=at,
        level_since=at,
        escalation_stage=0,
        message=text,
        details=details,
        next_escalation_at=None if dq else escalation_due(level, 0, max(at, notified_at or at), policy),
    )
    session.add(alarm)
    session.flush()
    if session.info.get("_open_alarms") is not None:
        session.info["_open_alarms"][alarm.open_key] = alarm
    _event(session, alarm, "raised", at, actor, {"confirmed_by": how, **details})
    _notify(session, alarm, sensor, "raised" if not dq else "condition", [0], details, 0, max(at, notified_at or at))
    _refresh_hazard_level(session, sensor.hazard_point_id)
    return alarm


def _close(session: Session, alarm: Alarm, at: datetime, actor: str, why: str) -> None:
    sensor = session.get(Sensor, alarm.sensor_id)
    seq = _event_seq(session, alarm)
    if session.info.get("_open_alarms") is not None:
        session.info["_open_alarms"].pop(alarm.open_key, None)
    alarm.state, alarm.open_key, alarm.cleared_at, alarm.next_escalation_at = "cleared", None, at, None
    _event(session, alarm, "cleared", at, actor, {"why": why})
    if sensor is not None:
        _notify(session, alarm, sensor, "cleared", range(0, alarm.escalation_stage + 1), {}, seq, at)
    _refresh_hazard_level(session, alarm.hazard_point_id)


def _apply(
    session: Session, sensor: Sensor, kind: AlarmKind, tr, details: dict, actor: str, policy: AlarmPolicy, now: datetime
) -> None:
    key = f"{sensor.id}:{kind.value}"
    alarm = _open_alarm(session, key)
    text = f"{kind.label()}：{tr.new.label()}（{tr.value:.3g}）"
    if alarm is None:
        if tr.new > Level.NONE:
            _open(session, sensor, kind, tr.new, tr.at, text, details, actor, policy, tr.confirmed_by, now)
        return
    if tr.new == Level.NONE:
        _close(session, alarm, tr.at, actor, tr.confirmed_by)
        return
    seq = _event_seq(session, alarm)
    up = tr.new > alarm.level
    alarm.level, alarm.level_since, alarm.message = int(tr.new), tr.at, text
    alarm.max_level = max(alarm.max_level, int(tr.new))
    alarm.details = {**(alarm.details or {}), **details}
    if up:
        # a higher level needs a new acknowledgement and restarts escalation from the current stage
        alarm.state, alarm.acknowledged_by, alarm.acknowledged_at = "open", None, None
        alarm.next_escalation_at = escalation_due(tr.new, alarm.escalation_stage, max(tr.at, now), policy)
    _event(session, alarm, tr.event, tr.at, actor, {"from": tr.old.code, "to": tr.new.code, **details})
    _notify(session, alarm, sensor, tr.event, range(0, alarm.escalation_stage + 1), details, seq, max(tr.at, now))
    _refresh_hazard_level(session, alarm.hazard_point_id)


def _refresh_hazard_level(session: Session, hp_id: int | None) -> None:
    if hp_id is None:
        return
    session.flush()
    lvl = session.scalar(
        select(Alarm.level)
        .where(Alarm.hazard_point_id == hp_id, Alarm.open_key.is_not(None), Alarm.data_quality.is_(False))
        .order_by(Alarm.level.desc())
        .limit(1)
    )
    hp = session.get(HazardPoint, hp_id)
    code = Level(int(lvl)).code if lvl else None
    if hp is not None and hp.warning_level != code:
        hp.warning_level = code


# ----------------------------------------------------------------------------------------------------------------
# acknowledgement, escalation, listing


def get_alarm(session: Session, alarm_id: int) -> Alarm:
    alarm = session.get(Alarm, alarm_id)
    if alarm is None:
        raise NotFound(f"alarm {alarm_id} does not exist")
    return alarm


def acknowledge(
    session: Session, alarm: int | Alarm, *, actor: str, note: str | None = None, now: datetime | None = None
) -> Alarm:
    """Acknowledge an open alarm (who and when are recorded); stops its escalation."""
    now = now or utcnow()
    if not actor or not actor.strip():
        raise ValidationFailed("acknowledgement needs the acting person's role/account")
    alarm = alarm if isinstance(alarm, Alarm) else get_alarm(session, alarm)
    alarm_id = alarm.id
    if alarm.state == "cleared":
        raise Conflict(f"alarm {alarm_id} is already cleared")
    if alarm.state == "acknowledged":
        raise Conflict(
            f"alarm {alarm_id} was already acknowledged by {alarm.acknowledged_by} at "
            f"{alarm.acknowledged_at.isoformat()}"
        )
    alarm.state, alarm.acknowledged_by, alarm.acknowledged_at, alarm.next_escalation_at = (
        "acknowledged",
        actor,
        now,
        None,
    )
    _event(session, alarm, "acknowledged", now, actor, {"note": note} if note else None)
    session.flush()
    return alarm


def escalate_due(
    session: Session, *, now: datetime | None = None, policy: AlarmPolicy | None = None, actor: str = "system"
) -> int:
    """Escalate every open, unacknowledged alarm whose escalation time has passed. Returns how many."""
    now = now or utcnow()
    policy = policy or AlarmPolicy()
    n = 0
    due = session.scalars(
        select(Alarm).where(
            Alarm.state == "open", Alarm.next_escalation_at.is_not(None), Alarm.next_escalation_at <= now
        )
    ).all()
    for alarm in due:
        sensor = session.get(Sensor, alarm.sensor_id)
        seq = _event_seq(session, alarm)
        alarm.escalation_stage += 1
        alarm.next_escalation_at = escalation_due(Level(alarm.level), alarm.escalation_stage, now, policy)
        _event(
            session,
            alarm,
            "escalated",
            now,
            actor,
            {"stage": alarm.escalation_stage, "to": STAGE_LABEL[alarm.escalation_stage]},
        )
        if sensor is not None:
            _notify(session, alarm, sensor, "escalated", [alarm.escalation_stage], {}, seq, now)
        n += 1
    session.flush()
    return n
