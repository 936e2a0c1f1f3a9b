"""Ingest of sensor observations (CSV files, HTTP batches) with validation, and the time-series queries.

Validation, per row (a rejected row is reported as ``(row, sensor, reason)`` and not stored):
- unknown sensor code; time missing, unparsable, without a time zone (unless ``default_tz`` is given), or in
  the future beyond ``future_tolerance``; value not a finite number; unit unknown or not convertible to the
  sensor's unit (values are stored in the sensor's unit, e.g. ``m`` → ``mm``); value outside the sensor's
  physical range (sensor fault); a second value for a time already stored or already in the batch (conflict);
  an isolated spike (robust MAD test against its neighbours; the newest sample of a sensor is never called a
  spike, because the start of real movement looks the same until the next sample arrives).
- Re-sending identical rows is harmless: they count as duplicates and are not stored twice
  (primary key (sensor_id, time), ``ON CONFLICT DO NOTHING``).
- Out-of-order rows are sorted; rows older than what is stored are back-filled; gaps longer than
  ``gap_factor`` × the sensor's interval are reported as warnings.

All accepted rows of a batch are stored in one transaction (the caller's), in Core batches, or none are:
with ``strict=True`` any rejected row aborts the whole batch with :class:`ValidationFailed`.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Integer, and_, cast, func, select
from sqlalchemy.orm import Session

from subsidence.db.base import utcnow
from subsidence.errors import ValidationFailed
from subsidence.monitoring.models import IngestBatch, Observation, Sensor

if TYPE_CHECKING:
    from subsidence.access.policy import Actor

log = logging.getLogger(__name__)

OBSERVE_ACTION = "observe"  #: authz action (sensor policy) for submitting observations

# ----------------------------------------------------------------------------------------------------------------
# units

#: unit families: factor to the family's base unit (mm, deg, m/… handled as length)
_LENGTH_MM = {
    "mm": 1.0,
    "毫米": 1.0,
    "cm": 10.0,
    "厘米": 10.0,
    "m": 1000.0,
    "米": 1000.0,
    "um": 1e-3,
    "µm": 1e-3,
    "μm": 1e-3,
}
_ANGLE_DEG = {
    "deg": 1.0,
    "°": 1.0,
    "degree": 1.0,
    "rad": 180.0 / math.pi,
    "mrad": 0.18 / math.pi,
    "arcsec": 1.0 / 3600.0,
    '"': 1.0 / 3600.0,
}
_TILT_MM_PER_M = {"mm/m": 1.0, "‰": 1.0, "permille": 1.0, "m/m": 1000.0}
_FAMILIES = (_LENGTH_MM, _ANGLE_DEG, _TILT_MM_PER_M)


def normalise_unit(unit: str) -> str:
    return unit.strip().replace("（", "(").replace("）", ")")


def conversion_factor(from_unit: str, to_unit: str) -> float:
    """Factor f with value_in_to = value_in_from × f; raises ValueError for unknown or incompatible units."""
    a, b = normalise_unit(from_unit), normalise_unit(to_unit)
    if a == b:
        return 1.0
    for fam in _FAMILIES:
        if a in fam and b in fam:
            return fam[a] / fam[b]
    known = sorted(set().union(*_FAMILIES))
    if not any(a in fam for fam in _FAMILIES):
        raise ValueError(f"unknown unit {from_unit!r} (known: {', '.join(known)})")
    raise ValueError(f"unit {from_unit!r} cannot be converted to the sensor's unit {to_unit!r}")


# ----------------------------------------------------------------------------------------------------------------
# time parsing


def parse_time(text: Any, default_tz: ZoneInfo | None = None) -> datetime:
    """ISO 8601 text or datetime → aware UTC datetime. Naive times need ``default_tz`` (else ValueError)."""
    if isinstance(text, datetime):
        dt = text
    else:
        s = str(text).strip()
        if not s:
            raise ValueError("time is empty")
        try:
            dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"time {s!r} is not ISO 8601 (e.g. 2025-07-01T08:00:00+08:00)") from exc
    if dt.tzinfo is None or dt.utcoffset() is None:
        if default_tz is None:
            raise ValueError(f"time {text!s} has no time zone; add +08:00 or Z, or pass a default time zone")
        dt = dt.replace(tzinfo=default_tz)
    return dt.astimezone(UTC)


# ----------------------------------------------------------------------------------------------------------------
# report


@dataclass
class IngestPolicy:
    future_tolerance: timedelta = timedelta(minutes=5)  #: allowed clock skew of loggers
    gap_factor: float = 3.0  #: gap warning when a step exceeds this × the sensor's interval
    spike_k: float = 8.0  #: spike when |x − median| > k · 1.4826 · MAD (and neighbours agree)
    spike_context: int = 30  #: stored samples before the batch used as context
    chunk: int = 5000  #: rows per INSERT executemany
    max_reported: int = 1000  #: rejected rows kept in the batch record


@dataclass
class IngestReport:
    batch_id: int | None
    source: str
    n_rows: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sensor_ids: list[int] = field(default_factory=list)
    reordered: int = 0
    faults: dict[int, int] = field(default_factory=dict)  #: sensor id → values outside its physical range

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "source": self.source,
            "rows": self.n_rows,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": len(self.rejected),
            "rejected_rows": [{"row": r, "sensor": s, "reason": why} for r, s, why in self.rejected],
            "warnings": self.warnings,
            "reordered": self.reordered,
            "sensor_faults": {str(k): v for k, v in self.faults.items()},
        }


# ----------------------------------------------------------------------------------------------------------------
# ingest


_FIELD_ALIASES = {
    "sensor": ("sensor", "sensor_code", "code", "传感器", "测点", "测点编号"),
    "time": ("time", "timestamp", "datetime", "时间", "观测时间"),
    "value": ("value", "val", "观测值", "数值", "displacement_mm"),
    "unit": ("unit", "单位"),
}


def _get(row: Mapping[str, Any], name: str) -> Any:
    for key in _FIELD_ALIASES[name]:
        if key in row and row[key] not in (None, ""):
            return row[key]
    return None


def ingest_batch(
    session: Session,
    rows: Iterable[Mapping[str, Any]],
    source: str,
    *,
    now: datetime | None = None,
    default_tz: ZoneInfo | str | None = None,
    strict: bool = False,
    policy: IngestPolicy | None = None,
    first_row_number: int = 1,
    actor: Actor | None = None,
) -> IngestReport:
    """Validate and store observation rows ``{"sensor": code, "time": ISO, "value": x, "unit": "mm"?}``.

    Rows are numbered from ``first_row_number`` (2 for a CSV with a header line, so numbers match the file).
    Returns the report; writes an :class:`IngestBatch` record. Does not commit (the caller's transaction).

    ``actor`` (an :class:`subsidence.access.policy.Actor`; ``None`` = trusted caller such as the CLI run by
    the operator) is checked against the sensor policy's ``observe`` action: a role that may not submit
    observations at all, or a batch naming any existing sensor outside the actor's scope (e.g. a monitor's
    rows for another hazard point), raises :class:`Forbidden` and stores nothing. Unknown sensor codes are
    rejected rows as for every caller.
    """
    policy = policy or IngestPolicy()
    now = now or utcnow()
    tz = ZoneInfo(default_tz) if isinstance(default_tz, str) else default_tz
    rows = list(rows)
    report = IngestReport(batch_id=None, source=source, n_rows=len(rows))
    codes = {str(c).strip() for c in (_get(r, "sensor") for r in rows) if c is not None}
    sensors = {s.code: s for s in session.scalars(select(Sensor).where(Sensor.code.in_(codes)))} if codes else {}
    if actor is not None:
        _authorize_observe(session, actor, sensors)

    def reject(rowno: int, code: str, why: str) -> None:
        report.rejected.append((rowno, code, why))

    # 1. per-row parsing
    per_sensor: dict[int, list[tuple[datetime, float, int]]] = {}
    for i, r in enumerate(rows):
        rowno = int(r.get(ROW_KEY) or first_row_number + i)
        code = _get(r, "sensor")
        code = str(code).strip() if code is not None else ""
        if not code:
            reject(rowno, "", "sensor code is missing")
            continue
        sensor = sensors.get(code)
        if sensor is None:
            reject(rowno, code, f"unknown sensor {code!r}: register it first (`subsidence sensors add` / import)")
            continue
        try:
            t = parse_time(_get(r, "time"), tz) if _get(r, "time") is not None else None
        except ValueError as exc:
            reject(rowno, code, str(exc))
            continue
        if t is None:
            reject(rowno, code, "time is missing")
            continue
        if t > now + policy.future_tolerance:
            reject(rowno, code, f"time {t.isoformat()} is in the future (clock of the logger wrong?)")
            continue
        raw = _get(r, "value")
        try:
            value = float(raw)
        except (TypeError, ValueError):
            reject(rowno, code, f"value {raw!r} is not a number")
            continue
        if not math.isfinite(value):
            reject(rowno, code, f"value {raw!r} is not a finite number")
            continue
        unit = _get(r, "unit")
        if unit is not None:
            try:
                value *= conversion_factor(str(unit), sensor.unit)
            except ValueError as exc:
                reject(rowno, code, str(exc))
                continue
        if (sensor.valid_min is not None and value < sensor.valid_min) or (
            sensor.valid_max is not None and value > sensor.valid_max
        ):
            reject(
                rowno,
                code,
                f"value {value:g} {sensor.unit} outside the sensor's range "
                f"[{sensor.valid_min}, {sensor.valid_max}] (sensor fault?)",
            )
            report.faults[sensor.id] = report.faults.get(sensor.id, 0) + 1
            continue
        per_sensor.setdefault(sensor.id, []).append((t, value, rowno))

    # 2. per-sensor checks against the batch itself and what is stored
    to_store: list[dict[str, Any]] = []
    by_id = {s.id: s for s in sensors.values()}
    bulk = _bulk_context(session, per_sensor, by_id, policy)
    for sid, items in per_sensor.items():
        sensor = by_id[sid]
        if any(b[0] < a[0] for a, b in zip(items, items[1:])):
            report.reordered += len(items)
            items.sort(key=lambda x: (x[0], x[2]))
        # duplicates inside the batch
        uniq: list[tuple[datetime, float, int]] = []
        for item in items:
            if uniq and uniq[-1][0] == item[0]:
                if uniq[-1][1] == item[1]:
                    report.duplicates += 1
                else:
                    reject(
                        item[2],
                        sensor.code,
                        f"second, different value for {item[0].isoformat()} in this "
                        f"batch (row {uniq[-1][2]} has {uniq[-1][1]:g})",
                    )
                continue
            uniq.append(item)
        t0, t1 = uniq[0][0], uniq[-1][0]
        if bulk is not None:
            stored = {t: v for t, v in bulk["stored"].get(sid, []) if t0 <= t <= t1}
        else:
            stored = dict(
                session.execute(
                    select(Observation.time, Observation.value).where(
                        Observation.sensor_id == sid, Observation.time >= t0, Observation.time <= t1
                    )
                ).all()
            )
        fresh: list[tuple[datetime, float, int]] = []
        for item in uniq:
            old = stored.get(item[0])
            if old is None:
                fresh.append(item)
            elif abs(old - item[1]) <= 1e-9 * max(1.0, abs(old)):
                report.duplicates += 1
            else:
                reject(
                    item[2],
                    sensor.code,
                    f"{item[0].isoformat()} is already stored with value {old:g}; "
                    f"a stored observation is never overwritten",
                )
        if not fresh:
            continue
        # context before the batch (spikes, gaps, back-fill)
        if bulk is not None:
            ctx = [r for r in bulk["ctx"].get(sid, []) if r[0] < fresh[0][0]][-policy.spike_context :]
            last_stored = bulk["last"].get(sid)
        else:
            ctx = session.execute(
                select(Observation.time, Observation.value)
                .where(Observation.sensor_id == sid, Observation.time < fresh[0][0])
                .order_by(Observation.time.desc())
                .limit(policy.spike_context)
            ).all()[::-1]
            last_stored = session.scalar(select(func.max(Observation.time)).where(Observation.sensor_id == sid))
        if last_stored is not None and fresh[0][0] < last_stored:
            report.warnings.append(
                f"{sensor.code}: {sum(1 for f in fresh if f[0] < last_stored)} rows older "
                f"than the newest stored sample were back-filled"
            )
        fresh = _drop_spikes(sensor, ctx, fresh, policy, reject)
        _gap_warnings(sensor, ctx, fresh, policy, report)
        for t, v, _ in fresh:
            to_store.append({"sensor_id": sid, "time": t, "value": v})
        report.sensor_ids.append(sid)

    report.rejected.sort()
    if strict and report.rejected:
        first = report.rejected[0]
        raise ValidationFailed(
            f"{source}: {len(report.rejected)} of {report.n_rows} rows rejected, nothing stored "
            f"(strict); first: row {first[0]} sensor {first[1]!r}: {first[2]}"
        )
    batch = IngestBatch(
        source=source[:300],
        received_at=now,
        actor=session.info.get("actor"),
        n_rows=report.n_rows,
        n_duplicate=report.duplicates,
        n_rejected=len(report.rejected),
        rejected=[list(x) for x in report.rejected[: policy.max_reported]],
        warnings=report.warnings[: policy.max_reported] or None,
    )
    session.add(batch)
    session.flush()
    report.batch_id = batch.id
    report.accepted = store_observations(session, to_store, batch_id=batch.id, chunk=policy.chunk)
    batch.n_accepted = report.accepted
    log.info(
        "ingest %s: %d rows, %d accepted, %d duplicates, %d rejected",
        source,
        report.n_rows,
        report.accepted,
        report.duplicates,
        len(report.rejected),
    )
    return report


def _authorize_observe(session: Session, actor: Actor, sensors: Mapping[str, Sensor]) -> None:
    """Raise :class:`Forbidden` unless ``actor`` may submit observations for every sensor in ``sensors``."""
    from subsidence.access import policy as authz
    from subsidence.errors import Forbidden

    authz.authorize_action(actor, OBSERVE_ACTION, "sensor")
    if not sensors:
        return
    ids = sorted(s.id for s in sensors.values())
    allowed = set(
        session.scalars(
            select(Sensor.id).where(Sensor.id.in_(ids), authz.scope_clause(actor, "sensor", OBSERVE_ACTION))
        )
    )
    denied = sorted(code for code, s in sensors.items() if s.id not in allowed)
    if denied:
        more = f" (+{len(denied) - 20})" if len(denied) > 20 else ""
        raise Forbidden(
            f"无权上传以下设备的数据 / {actor.role.value} {actor.username} may not submit data for "
            f"sensors: {', '.join(denied[:20])}{more}; nothing stored"
        )


def _bulk_context(
    session: Session, per_sensor: dict[int, list], by_id: dict[int, Sensor], policy: IngestPolicy
) -> dict[str, dict] | None:
    """For a batch touching many sensors over a short span (the live case: one new sample each), fetch what
    the checks need with three queries instead of three per sensor: stored rows in the batch span, the
    newest stored time per sensor, and the recent samples before the batch (spike/gap context)."""
    if len(per_sensor) < 20:
        return None
    times = [x[0] for items in per_sensor.values() for x in items]
    gmin, gmax = min(times), max(times)
    if gmax - gmin > timedelta(days=1):
        return None
    ids = list(per_sensor)
    interval = max((by_id[i].expected_interval_s or 3600) for i in ids)
    ctx_from = gmin - min(timedelta(seconds=interval * (policy.spike_context + 1)), timedelta(days=3))
    out: dict[str, dict] = {"stored": {}, "ctx": {}, "last": {}}
    for k in range(0, len(ids), 500):
        part = ids[k : k + 500]
        for sid, t, v in session.execute(
            select(Observation.sensor_id, Observation.time, Observation.value)
            .where(Observation.sensor_id.in_(part), Observation.time >= ctx_from, Observation.time <= gmax)
            .order_by(Observation.sensor_id, Observation.time)
        ):
            if t >= gmin:
                out["stored"].setdefault(sid, []).append((t, v))
            out["ctx"].setdefault(sid, []).append((t, v))
        out["last"].update(latest_times(session, part))
    return out


def _drop_spikes(sensor: Sensor, ctx: Sequence, fresh: list, policy: IngestPolicy, reject) -> list:
    """Remove isolated spikes (second-difference MAD test, :func:`methods.isolated_spikes`); the newest sample
    of the sensor is never removed because it has no later neighbour yet."""
    from subsidence.monitoring.warning.methods import isolated_spikes

    if len(fresh) < 2:
        return fresh
    vals = np.array([v for _, v in ctx] + [v for _, v, _ in fresh], dtype=float)
    if vals.size < 7:
        return fresh
    flags = isolated_spikes(vals, k=policy.spike_k, min_scale=sensor.resolution or 0.0)[len(ctx) :]
    keep = []
    for item, bad in zip(fresh, flags):
        if bad:
            reject(
                item[2],
                sensor.code,
                f"spike: {item[1]:g} {sensor.unit} jumps away from both neighbours by more "
                f"than {policy.spike_k:g}× the robust noise (MAD of 2nd differences)",
            )
        else:
            keep.append(item)
    return keep


def _gap_warnings(sensor: Sensor, ctx: Sequence, fresh: list, policy: IngestPolicy, report: IngestReport) -> None:
    if not sensor.expected_interval_s:
        return
    limit = timedelta(seconds=sensor.expected_interval_s * policy.gap_factor)
    times = ([ctx[-1][0]] if ctx else []) + [t for t, _, _ in fresh]
    gaps = [(a, b) for a, b in zip(times, times[1:]) if b - a > limit]
    if gaps:
        a, b = max(gaps, key=lambda g: g[1] - g[0])
        report.warnings.append(
            f"{sensor.code}: {len(gaps)} gap(s) longer than {limit}; longest {a.isoformat()} → {b.isoformat()}"
        )


def store_observations(
    session: Session, rows: list[dict[str, Any]], *, batch_id: int | None = None, chunk: int = 5000
) -> int:
    """Bulk insert (Core executemany / multi-values) with ON CONFLICT DO NOTHING; returns rows inserted."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    stmt = dialect_insert(Observation.__table__).on_conflict_do_nothing(index_elements=["sensor_id", "time"])
    n = 0
    for k in range(0, len(rows), chunk):
        part = rows[k : k + chunk]
        if batch_id is not None:
            for r in part:
                r["batch_id"] = batch_id
        res = session.execute(stmt, part)
        n += res.rowcount if res.rowcount is not None and res.rowcount >= 0 else len(part)
    return n


# ----------------------------------------------------------------------------------------------------------------
# CSV


#: file types the table importers read (CSV text; Excel workbooks through ``subsidence.io.excel``)
CSV_SUFFIXES = (".csv", ".txt")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
ROW_KEY = "__row__"  #: key of a row's number as the user sees it (CSV line / Excel row) in table rows


def _cell(v: Any) -> Any:
    """An Excel cell as the CSV path would give it: text stripped, whole numbers without ``.0`` (codes,
    counts), other numbers as text, dates kept as ``datetime`` (the services parse them)."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, float)):
        return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))
    return v  # datetime / date / time


def read_table(
    path: Path | str, *, what: str, known_headers: Iterable[str] = (), header_map: Mapping[str, str] | None = None
) -> tuple[list[str], list[dict[str, Any]]]:
    """Rows of a table file: CSV (UTF-8 with or without BOM, or GB18030/GBK as saved by Chinese Excel/WPS)
    or an Excel workbook (.xlsx, the data sheet; the header row is found among the first rows).

    ``header_map`` maps normalised header text (:func:`subsidence.io.excel.normalize_header`, e.g. Chinese
    labels) to field names; unmapped headers are kept as written. Each row carries its row number as the
    user sees it under :data:`ROW_KEY`. Returns (headers after mapping, rows).

    Raises :class:`ValidationFailed` naming the file when it is missing, a directory, not a CSV or
    workbook (e.g. an old .xls, a PDF, a ZIP), or unreadable. ``what`` describes the expected content for
    the message (e.g. "sensor list").
    """
    from subsidence.io.excel import normalize_header

    p = Path(path)
    hint = f"give the {what} as a CSV (.csv, UTF-8 or GBK) or an Excel workbook (.xlsx)"
    if not p.exists():
        raise ValidationFailed(f"{p}: file not found; check the path ({hint})")
    if p.is_dir():
        raise ValidationFailed(f"{p}: is a directory; {hint}")
    hmap = {normalize_header(k): v for k, v in (header_map or {}).items()}

    def field_name(h: Any) -> str:
        text = "" if h is None else str(h).strip()
        return hmap.get(normalize_header(text), text)

    suffix = p.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        from subsidence.io.excel import read_sheet
        from subsidence.io.sniff import FormatError

        try:
            table = read_sheet(p, known_headers=[*known_headers, *(header_map or {})])
        except FormatError as exc:
            raise ValidationFailed(f"{exc}; {hint}") from exc
        headers = [field_name(h) for h in table.headers]
        rows = [{**{h: _cell(v) for h, v in zip(headers, vals) if h}, ROW_KEY: rowno} for rowno, vals in table.rows]
        return headers, rows
    if suffix == ".xls":
        raise ValidationFailed(
            f"{p}: old Excel .xls is not supported; open it in Excel/WPS and save it as .xlsx or CSV"
        )
    if suffix not in CSV_SUFFIXES:
        raise ValidationFailed(f"{p}: unsupported file type {suffix or '(no extension)'}; {hint}")
    data = p.read_bytes()
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF")) or b"\x00" in data[:4096]:
        raise ValidationFailed(
            f"{p}: is binary (a workbook, archive or document renamed {suffix}), not CSV text; {hint}"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise ValidationFailed(f"{p}: not readable as UTF-8 or GBK text (byte {exc.start}); {hint}") from exc
    reader = csv.DictReader(io.StringIO(text))
    headers = [field_name(h) for h in (reader.fieldnames or [])]
    reader.fieldnames = headers
    rows = []
    for r in reader:
        row = {k: (v.strip() if isinstance(v, str) else v) for k, v in r.items() if k}
        row[ROW_KEY] = reader.line_num
        rows.append(row)
    return headers, rows


OBSERVATION_HEADERS = {alias: alias for aliases in _FIELD_ALIASES.values() for alias in aliases}


def read_observation_file(path: Path | str) -> list[dict[str, Any]]:
    """Read an observation table (.csv or .xlsx): header with sensor, time, value[, unit]
    (Chinese headers 测点/时间/观测值/单位 accepted). Rows carry their file row number under :data:`ROW_KEY`."""
    headers, rows = read_table(path, what="observations (sensor,time,value[,unit])", known_headers=OBSERVATION_HEADERS)
    for need in ("sensor", "time", "value"):
        if not any(a in headers for a in _FIELD_ALIASES[need]):
            raise ValidationFailed(
                f"{path}: no {need!r} column (found {[h for h in headers if h]}); expected "
                f"columns sensor,time,value[,unit] (or 测点,时间,观测值,单位)"
            )
    return rows


def ingest_csv(session: Session, path: Path | str, **kw) -> IngestReport:
    """Validate and store an observation file (.csv or .xlsx; see :func:`read_observation_file`).

    Excel cells carry no time zone: for a workbook, naive times are read in ``default_tz`` or, when that is
    not given, in the configured time zone (settings ``timezone``), and the report says so."""
    p = Path(path)
    rows = read_observation_file(p)
    note = None
    if p.suffix.lower() in EXCEL_SUFFIXES and kw.get("default_tz") is None:
        from subsidence.settings import get_settings

        kw["default_tz"] = get_settings().timezone
        note = f"times without an offset read in {kw['default_tz']} (Excel cells carry no time zone)"
    report = ingest_batch(session, rows, source=str(p.name), first_row_number=2, **kw)
    if note:
        report.warnings.append(note)
    return report


# ----------------------------------------------------------------------------------------------------------------
# queries


def series(
    session: Session,
    sensor_id: int,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(times as datetime64[ms] UTC, values) of one sensor, oldest first; ``limit`` keeps the newest N."""
    q = select(Observation.time, Observation.value).where(Observation.sensor_id == sensor_id)
    if start is not None:
        q = q.where(Observation.time >= start)
    if end is not None:
        q = q.where(Observation.time <= end)
    if limit is not None:
        rows = session.execute(q.order_by(Observation.time.desc()).limit(limit)).all()[::-1]
    else:
        rows = session.execute(q.order_by(Observation.time)).all()
    if not rows:
        return np.array([], dtype="datetime64[ms]"), np.array([], dtype=float)
    t = np.array([r[0].replace(tzinfo=None) for r in rows], dtype="datetime64[ms]")
    return t, np.array([r[1] for r in rows], dtype=float)


def _bucket_expr(dialect: str, seconds: int):
    if dialect == "postgresql":
        return func.floor(func.extract("epoch", Observation.time) / seconds)
    return cast(func.strftime("%s", Observation.time), Integer) // seconds


def bucketed(session: Session, sensor_id: int, start: datetime, end: datetime, bucket_s: int) -> list[dict[str, Any]]:
    """Time-bucket aggregates for charts: one row per bucket with start time, count, min, max and mean.

    Done in SQL on the (sensor_id, time) key, so a year of 1-minute data returns a few hundred rows."""
    if bucket_s <= 0:
        raise ValidationFailed("bucket size must be > 0 seconds")
    b = _bucket_expr(session.get_bind().dialect.name, bucket_s).label("b")
    q = (
        select(b, func.count(), func.min(Observation.value), func.max(Observation.value), func.avg(Observation.value))
        .where(and_(Observation.sensor_id == sensor_id, Observation.time >= start, Observation.time < end))
        .group_by(b)
        .order_by(b)
    )
    out = []
    for bk, n, lo, hi, avg in session.execute(q):
        out.append(
            {
                "time": datetime.fromtimestamp(int(bk) * bucket_s, tz=UTC),
                "n": int(n),
                "min": float(lo),
                "max": float(hi),
                "mean": float(avg),
            }
        )
    return out


def latest_times(session: Session, sensor_ids: Sequence[int] | None = None) -> dict[int, datetime]:
    """Newest observation time per sensor: one index probe per sensor on the (sensor_id, time) key
    (a GROUP BY would scan every row of every sensor)."""
    newest = (
        select(func.max(Observation.time)).where(Observation.sensor_id == Sensor.id).correlate(Sensor).scalar_subquery()
    )
    q = select(Sensor.id, newest)
    if sensor_ids is not None:
        q = q.where(Sensor.id.in_(list(sensor_ids)))
    return {sid: t for sid, t in session.execute(q) if t is not None}


# ----------------------------------------------------------------------------------------------------------------
# a single displacement series (``subsidence warn``)


def read_series_csv(
    path: Path | str,
    *,
    default_tz: ZoneInfo | None = None,
    value_column: str | None = None,
) -> tuple[np.ndarray, np.ndarray, str]:
    """Read ``time,displacement_mm`` (or ``time,displacement,unit``, or ``time,<value_column>``) into
    (datetime64[ms] UTC, values in mm, note). Refuses mixed units, duplicate and decreasing times, naming rows."""
    path = Path(path)
    if not path.exists():
        raise ValidationFailed(f"{path}: no such file")
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    if "time" not in header:
        raise ValidationFailed(f"{path}: no 'time' column (found {header}); expected time,displacement_mm")
    col = value_column or next((c for c in ("displacement_mm", "displacement", "value") if c in header), None)
    if col is None or col not in header:
        raise ValidationFailed(f"{path}: no displacement column (found {header}); expected displacement_mm")
    unit_col = "unit" if "unit" in header else None
    times: list[datetime] = []
    vals: list[float] = []
    units: dict[str, int] = {}
    for i, r in enumerate(reader, start=2):
        try:
            t = parse_time(r.get("time"), default_tz)
        except ValueError as exc:
            raise ValidationFailed(f"{path} row {i}, column time: {exc}") from None
        raw = (r.get(col) or "").strip()
        try:
            v = float(raw)
        except ValueError:
            raise ValidationFailed(f"{path} row {i}, column {col}: {raw!r} is not a number") from None
        if not math.isfinite(v):
            raise ValidationFailed(f"{path} row {i}, column {col}: {raw!r} is not a finite number")
        u = ((r.get(unit_col) or "").strip() if unit_col else "") or "mm"
        units.setdefault(u, i)
        if u != "mm":
            try:
                v *= conversion_factor(u, "mm")
            except ValueError as exc:
                raise ValidationFailed(f"{path} row {i}, column unit: {exc}") from None
        times.append(t)
        vals.append(v)
    if len(units) > 1:
        desc = ", ".join(f"{u!r} first at row {row}" for u, row in units.items())
        raise ValidationFailed(f"{path}: mixed units ({desc}); give every row in one unit (mm)")
    if not times:
        raise ValidationFailed(f"{path}: no data rows")
    for k in range(1, len(times)):
        if times[k] == times[k - 1]:
            raise ValidationFailed(
                f"{path} rows {k + 1} and {k + 2}: duplicate time {times[k].isoformat()}; keep one value per time"
            )
        if times[k] < times[k - 1]:
            raise ValidationFailed(
                f"{path} row {k + 2}: time {times[k].isoformat()} is before the previous row; sort the file by time"
            )
    t64 = np.array([t.replace(tzinfo=None) for t in times], dtype="datetime64[ms]")
    return t64, np.array(vals, dtype=float), f"units: {next(iter(units))}"
