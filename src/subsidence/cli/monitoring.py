"""Monitoring and early warning: ``subsidence warn``, ``sensors``, ``observations``, ``alarms``, ``outbox``,
``cards``. Thin: parsing and printing only; the rules live in ``subsidence.services.{ingest,alarms,cards,hazards}``.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any, Optional

import typer

from subsidence.cli._common import emit_json, fail

sensors_app = typer.Typer(
    help="传感器登记 / sensor registry (GNSS, crack meter, inclinometer, rain gauge, well, InSAR).",
    no_args_is_help=True,
)
obs_app = typer.Typer(help="监测数据 / observations: import with validation, chart aggregates.", no_args_is_help=True)
alarms_app = typer.Typer(help="预警 / alarms: list, acknowledge, evaluate, history.", no_args_is_help=True)
outbox_app = typer.Typer(help="通知发件箱 / notification outbox: deliver, status.", no_args_is_help=True)
hazards_app = typer.Typer(
    help="隐患点 / hazard points: danger grade, threatened households, contacts.", no_args_is_help=True
)
cards_app = typer.Typer(help="明白卡 / work and evacuation cards (PDF), receipts, missing cards.", no_args_is_help=True)


def _service_errors():
    from subsidence.errors import ServiceError
    from subsidence.monitoring.warning.methods import MethodError

    return ServiceError, MethodError


def _run(fn, *args, **kw):
    """Call ``fn``; print service/method errors as clean messages (exit 2)."""
    service_error, method_error = _service_errors()
    try:
        return fn(*args, **kw)
    except service_error as exc:
        fail(exc.message)
    except method_error as exc:
        fail(str(exc))


def _tx(actor: str, reason: str | None = None):
    from subsidence.cli._common import ready_engine
    from subsidence.db.session import transaction

    return transaction(ready_engine(), actor=actor, reason=reason)


def _now(text: str | None) -> datetime | None:
    if not text:
        return None
    from subsidence.monitoring.ingest import parse_time
    from subsidence.settings import get_settings

    try:
        return parse_time(text, get_settings().tz)
    except ValueError as exc:
        fail(f"--now: {exc}")


def _table(rows: list[dict[str, Any]], cols: list[str], title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title)
    for c in cols:
        t.add_column(c)
    for r in rows:
        t.add_row(*[("" if r.get(c) is None else str(r.get(c))) for c in cols])
    Console().print(t)


# ----------------------------------------------------------------------------------------------------------------
# warn


def warn(
    series_csv: Path = typer.Argument(..., help="CSV with columns time (ISO 8601) and displacement_mm."),
    method: str = typer.Option(..., "--method", "-m", help="inverse-velocity | tangent-angle | threshold"),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
    per_sample: bool = typer.Option(False, "--per-sample", help="Level for every sample, not only the end."),
    negate: bool = typer.Option(False, "--negate", help="Flip the sign (movement must be positive)."),
    timezone_name: Optional[str] = typer.Option(
        None, "--timezone", help="Zone for times without an offset (default: settings)."
    ),
    steady_velocity: Optional[float] = typer.Option(None, help="tangent-angle: steady-creep velocity v, mm/d."),
    steady_window: Optional[str] = typer.Option(None, help="tangent-angle: sample indices START:STOP for v."),
    span_days: Optional[float] = typer.Option(None, help="tangent-angle: chord length in days (default 1 sample)."),
    smooth: int = typer.Option(3, help="tangent-angle: median over this many samples against flicker."),
    tolerance: float = typer.Option(
        0.0, help="tangent-angle: width of a '≈45°' steady band (blue), degrees; 0 = Xu et al. (2009) as published."
    ),
    rain_csv: Optional[Path] = typer.Option(
        None, "--rain", help="tangent-angle: rain CSV time,rain_mm; caps rain-affected samples at yellow."
    ),
    short: int = typer.Option(3, help="inverse-velocity: short moving-average window (samples)."),
    long: int = typer.Option(7, help="inverse-velocity: long moving-average window (samples)."),
    confidence: float = typer.Option(0.95, help="inverse-velocity: confidence of the failure window."),
    onset: Optional[str] = typer.Option(None, help="inverse-velocity: onset of acceleration (ISO); default auto."),
    value_thresholds: Optional[str] = typer.Option(None, "--value", help="threshold: mm for blue,yellow,orange,red."),
    rate_thresholds: Optional[str] = typer.Option(None, "--rate", help="threshold: mm/d for blue,yellow,orange,red."),
    accel_thresholds: Optional[str] = typer.Option(
        None, "--acceleration", help="threshold: mm/d² for blue,yellow,orange,red."
    ),
    confirm: int = typer.Option(1, help="Samples needed to confirm a level (1 = raw method levels)."),
) -> None:
    """Evaluate one displacement series with a warning method; print the level (and the failure window).

    Example: subsidence warn gnss.csv --method inverse-velocity --json
    """
    from zoneinfo import ZoneInfo

    import numpy as np

    from subsidence.monitoring.ingest import read_series_csv
    from subsidence.monitoring.warning import methods as M
    from subsidence.monitoring.warning.analysis import warn_series
    from subsidence.settings import get_settings

    if method not in ("inverse-velocity", "tangent-angle", "threshold"):
        fail(f"--method {method!r}: use inverse-velocity, tangent-angle or threshold")
    try:
        tz = ZoneInfo(timezone_name) if timezone_name else get_settings().tz
    except Exception:  # noqa: BLE001
        fail(f"--timezone {timezone_name!r} is not an IANA zone (e.g. Asia/Shanghai)")
    t, s, _ = _run(read_series_csv, series_csv, default_tz=tz)
    if negate:
        s = -s
    kw: dict[str, Any] = {"per_sample": per_sample, "confirm_samples": confirm}
    if method == "tangent-angle":
        window = None
        if steady_window:
            try:
                a, b = (int(x) for x in steady_window.split(":"))
                window = (a, b)
            except ValueError:
                fail(f"--steady-window {steady_window!r}: give START:STOP sample indices, e.g. 0:30")
        rain = None
        if rain_csv is not None:
            rt, rmm, _ = _run(read_series_csv, rain_csv, default_tz=tz, value_column="rain_mm")
            rain = (rt, rmm)
        kw.update(
            steady_velocity=steady_velocity,
            steady_window=window,
            span_days=span_days,
            smooth=smooth,
            tolerance_deg=tolerance,
            rain=rain,
        )
    elif method == "inverse-velocity":
        kw.update(short=short, long=long, confidence=confidence)
        if onset:
            from subsidence.monitoring.ingest import parse_time

            try:
                kw["onset"] = np.datetime64(parse_time(onset, tz).replace(tzinfo=None), "ms")
            except ValueError as exc:
                fail(f"--onset: {exc}")
    else:
        try:
            kw.update(
                value=M.Thresholds.parse(value_thresholds) if value_thresholds else None,
                rate=M.Thresholds.parse(rate_thresholds) if rate_thresholds else None,
                acceleration=M.Thresholds.parse(accel_thresholds) if accel_thresholds else None,
            )
        except M.MethodError as exc:
            fail(str(exc))
        if not (value_thresholds or rate_thresholds or accel_thresholds):
            fail("threshold method: give --value, --rate and/or --acceleration (four values blue,yellow,orange,red)")
    out = _run(warn_series, t, s, method, **kw)
    out["file"] = str(series_csv)
    if json_out:
        emit_json(out)
        return
    typer.echo(f"{series_csv}: {out['samples']} samples {out['first']} → {out['last']}, method {method}")
    if method == "inverse-velocity":
        if out["forecast"]:
            w = out["failure_window"]
            typer.echo(
                f"failure time 预测失稳时间: {out['failure_time']}  window 时间窗口: {w[0]} — "
                f"{w[1] or 'open 未定'}  onset 加速起点: {out['onset']}"
            )
        else:
            typer.echo(f"no forecast 无法预报: {out['reason']}")
    if per_sample and method != "inverse-velocity":
        _table(
            out["per_sample"],
            [
                c
                for c in ("time", "value_mm", "alpha_deg", "rate_mm_d", "raw_level", "level")
                if c in out["per_sample"][0]
            ],
        )
    typer.echo(f"level 预警级别: {out['level']} {out['level_zh']}")


# ----------------------------------------------------------------------------------------------------------------
# sensors


@sensors_app.command("add")
def sensors_add(
    code: str = typer.Argument(..., help="Sensor code (unique)."),
    kind: str = typer.Option(
        ..., help="gnss, crack_meter, inclinometer, rain_gauge, groundwater_well, insar_point (or the Chinese name)."
    ),
    hazard_point: Optional[str] = typer.Option(None, "--hazard", help="Hazard point code it monitors."),
    mine: Optional[str] = typer.Option(None, help="Mine licence number it belongs to."),
    well: Optional[str] = typer.Option(None, help="Groundwater well code."),
    unit: Optional[str] = typer.Option(None, help="Unit of its values (default per kind: mm, or m for wells)."),
    interval_s: Optional[int] = typer.Option(None, "--interval-s", help="Nominal sampling interval, seconds."),
    valid_min: Optional[float] = typer.Option(None, help="Lowest physically possible value."),
    valid_max: Optional[float] = typer.Option(None, help="Highest physically possible value."),
    x: Optional[float] = typer.Option(None, help="Easting, EPSG:4546 metres."),
    y: Optional[float] = typer.Option(None, help="Northing, EPSG:4546 metres."),
    actor: str = typer.Option("cli", help="Who registers it (audit trail)."),
) -> None:
    """Register one sensor."""
    from subsidence.monitoring.hazards import add_sensor

    with _tx(actor, "sensor registration") as s:
        sensor = _run(
            add_sensor,
            s,
            code=code,
            kind=kind,
            unit=unit,
            hazard_point=hazard_point,
            mine=mine,
            well=well,
            expected_interval_s=interval_s,
            valid_min=valid_min,
            valid_max=valid_max,
            x=x,
            y=y,
        )
        typer.echo(f"registered {sensor.code} ({sensor.kind.label()}, {sensor.unit})")


@sensors_app.command("import")
def sensors_import(
    file: Path = typer.Argument(
        ...,
        help="CSV or Excel .xlsx: code,kind[,unit,hazard_point,mine,well,x,y,installed,"
        "name,expected_interval_s,valid_min,valid_max,resolution] "
        "(or 编号,类型,单位,隐患点编号,东坐标,北坐标,安装日期,...)",
    ),
    actor: str = typer.Option("cli", help="Who imports (audit trail)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Register many sensors from a CSV or .xlsx; one bad row aborts the whole import (nothing half-stored)."""
    from subsidence.monitoring.hazards import import_sensors, read_sensor_file

    rows = _run(read_sensor_file, file)  # a missing or unreadable file is refused before the DB is opened
    with _tx(actor, f"sensor import {file.name}") as s:
        sensors = _run(import_sensors, s, rows, source=str(file))
        codes = [x.code for x in sensors]
    if json_out:
        emit_json({"imported": len(codes), "sensors": codes})
    else:
        typer.echo(f"imported {len(codes)} sensors from {file}")


@sensors_app.command("list")
def sensors_list(
    hazard_point: Optional[str] = typer.Option(None, "--hazard"), json_out: bool = typer.Option(False, "--json")
) -> None:
    """List sensors with their latest observation time."""
    from subsidence.monitoring.hazards import list_sensors

    with _tx("cli") as s:
        rows = _run(list_sensors, s, hazard_point)
    if json_out:
        emit_json(rows)
    else:
        _table(rows, ["code", "kind_zh", "unit", "hazard_point", "active", "last_observation"], "传感器 / sensors")


# ----------------------------------------------------------------------------------------------------------------
# observations


@obs_app.command("import")
def observations_import(
    file: Path = typer.Argument(..., help="CSV or Excel .xlsx: sensor,time,value[,unit] (or 测点,时间,观测值,单位)."),
    strict: bool = typer.Option(False, help="Store nothing if any row is rejected."),
    timezone_name: Optional[str] = typer.Option(
        None, "--timezone", help="Zone for times without an offset (.xlsx: default the configured time zone)."
    ),
    evaluate: bool = typer.Option(True, help="Evaluate alarms for the sensors touched, in the same transaction."),
    actor: str = typer.Option("cli", help="Who imports (audit trail)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Validate and store observations; rejected rows are listed with row number and reason."""
    from subsidence.monitoring.evaluation import evaluate as evaluate_alarms
    from subsidence.monitoring.ingest import ingest_csv

    with _tx(actor, f"observations {file.name}") as s:
        rep = _run(ingest_csv, s, file, strict=strict, default_tz=timezone_name)
        out = rep.to_dict()
        if evaluate and (rep.sensor_ids or rep.faults):
            out["alarms"] = evaluate_alarms(
                s, sensor_ids=sorted(set(rep.sensor_ids) | set(rep.faults)), actor=actor, faults=rep.faults
            ).to_dict()
    if json_out:
        emit_json(out)
        return
    typer.echo(
        f"{file}: {out['rows']} rows, {out['accepted']} stored, {out['duplicates']} duplicates, "
        f"{out['rejected']} rejected"
    )
    for r in out["rejected_rows"][:50]:
        typer.echo(f"  row {r['row']} {r['sensor']}: {r['reason']}")
    for w in out["warnings"]:
        typer.echo(f"  warning: {w}")
    for t in (out.get("alarms") or {}).get("transitions", []):
        typer.echo(f"  alarm: {t['sensor']} {t['kind']} {t['event']} → {t.get('to')}")


@obs_app.command("chart")
def observations_chart(
    sensor: str = typer.Argument(...),
    days: float = typer.Option(30.0),
    bucket_s: int = typer.Option(3600, help="Bucket size, seconds."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Time-bucket aggregates (count, min, max, mean) of a sensor for charts."""
    from datetime import timedelta

    from sqlalchemy import select

    from subsidence.db.base import utcnow
    from subsidence.monitoring.ingest import bucketed
    from subsidence.monitoring.models import Sensor

    with _tx("cli") as s:
        sid = s.scalar(select(Sensor.id).where(Sensor.code == sensor))
        if sid is None:
            fail(f"sensor {sensor!r} does not exist")
        now = utcnow()
        rows = _run(bucketed, s, sid, now - timedelta(days=days), now, bucket_s)
    if json_out:
        emit_json(rows)
    else:
        _table(rows, ["time", "n", "min", "max", "mean"], f"{sensor}")


# ----------------------------------------------------------------------------------------------------------------
# alarms and outbox


@alarms_app.command("list")
def alarms_list(
    state: str = typer.Option("active", help="active | open | acknowledged | cleared | all"),
    hazard_point: Optional[str] = typer.Option(None, "--hazard"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """List alarms, highest level first."""
    from subsidence.monitoring.queries import list_alarms

    with _tx("cli") as s:
        rows = list_alarms(s, state=None if state == "all" else state, hazard_point=hazard_point)
    if json_out:
        emit_json(rows)
    else:
        _table(
            rows,
            [
                "id",
                "level_zh",
                "kind_zh",
                "hazard_point",
                "sensor",
                "state",
                "opened_at",
                "escalation_stage",
                "acknowledged_by",
            ],
            "预警 / alarms",
        )


@alarms_app.command("ack")
def alarms_ack(
    alarm_id: int = typer.Argument(...),
    actor: str = typer.Option(..., help="Who acknowledges (role/account); recorded with the time."),
    note: Optional[str] = typer.Option(None, help="What was done, e.g. 已通知撤离."),
) -> None:
    """Acknowledge an alarm (stops escalation)."""
    from subsidence.monitoring.evaluation import acknowledge

    with _tx(actor, "acknowledge alarm") as s:
        a = _run(acknowledge, s, alarm_id, actor=actor, note=note)
        typer.echo(f"alarm {a.id} acknowledged by {a.acknowledged_by} at {a.acknowledged_at.isoformat()}")


@alarms_app.command("evaluate")
def alarms_evaluate(
    now: Optional[str] = typer.Option(None, help="Evaluation time (ISO; default now)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Evaluate new samples of all active sensors, data quality and escalation (run it every minute)."""
    from subsidence.monitoring.evaluation import evaluate
    from subsidence.ops.heartbeat import beat

    with _tx("alarm-engine", "evaluation") as s:
        rep = _run(evaluate, s, now=_now(now), actor="alarm-engine")
        out = rep.to_dict()
        beat(s, "sweep", detail={k: (len(v) if isinstance(v, list) else v) for k, v in out.items()})
    if json_out:
        emit_json(out)
    else:
        typer.echo(
            f"evaluated {out['sensors']} sensors, {out['samples']} samples, "
            f"{len(out['transitions'])} transitions, {out['escalated']} escalated"
        )
        for t in out["transitions"]:
            typer.echo(f"  {t['sensor']} {t['kind']} {t['event']} → {t.get('to')} at {t['at']}")


@alarms_app.command("history")
def alarms_history(alarm_id: int = typer.Argument(...), json_out: bool = typer.Option(False, "--json")) -> None:
    """Full history of one alarm."""
    from subsidence.monitoring.queries import alarm_history

    with _tx("cli") as s:
        rows = _run(alarm_history, s, alarm_id)
    if json_out:
        emit_json(rows)
    else:
        _table(rows, ["at", "event", "level", "actor", "details"], f"alarm {alarm_id}")


@outbox_app.command("dispatch")
def outbox_dispatch(
    loop: float = typer.Option(0.0, help="Repeat every N seconds (0 = once)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Deliver pending notifications (log always; e-mail/SMS when SUBSIDENCE_SMTP_HOST /
    SUBSIDENCE_SMS_WEBHOOK_URL are set). Safe to run concurrently and after a crash."""
    import time

    from subsidence.cli._common import ready_engine
    from subsidence.monitoring.channels import channels_from_settings
    from subsidence.monitoring.outbox import dispatch
    from subsidence.ops.heartbeat import beat_now

    eng = ready_engine()
    channels = channels_from_settings()
    while True:
        rep = dispatch(eng, channels)
        beat_now(
            eng,
            "dispatch",
            every_s=max(1, round(loop)) if loop > 0 else None,  # heartbeat
            detail=rep.to_dict() | {"errors": rep.errors[:5]},
        )
        if json_out:
            emit_json(rep.to_dict())
        else:
            typer.echo(
                f"sent {rep.sent}, failed {rep.failed} (retried later), no channel → log {rep.skipped_no_channel}"
            )
        if loop <= 0:
            break
        time.sleep(loop)


@outbox_app.command("status")
def outbox_status_cmd(json_out: bool = typer.Option(False, "--json")) -> None:
    """Count outbox messages per state."""
    from subsidence.monitoring.queries import outbox_status

    with _tx("cli") as s:
        out = outbox_status(s)
    emit_json(out) if json_out else typer.echo(", ".join(f"{k}: {v}" for k, v in out.items()) or "empty")


# ----------------------------------------------------------------------------------------------------------------
# cards


def _out_dir(out: Optional[Path]) -> Path:
    from subsidence.settings import get_settings

    return out or get_settings().data_dir / "cards"


@cards_app.command("hazard")
def cards_hazard(
    code: str = typer.Argument(..., help="Hazard point code."),
    issuing_unit: str = typer.Option("伊金霍洛旗自然资源局", help="发卡单位."),
    out: Optional[Path] = typer.Option(None, help="Output folder (default DATA_DIR/cards)."),
    issued: Optional[str] = typer.Option(None, help="Issue date (ISO, default today)."),
    actor: str = typer.Option("cli"),
) -> None:
    """Issue the 工作明白卡 of a hazard point (PDF)."""
    from subsidence.monitoring.cards import issue_work_card

    with _tx(actor, "issue work card") as s:
        card = _run(
            issue_work_card,
            s,
            code,
            issuing_unit=issuing_unit,
            out_dir=_out_dir(out),
            issued=date.fromisoformat(issued) if issued else None,
        )
        typer.echo(f"{card.code}: {card.pdf_path}")


@cards_app.command("household")
def cards_household(
    code: Optional[str] = typer.Argument(None, help="Household code (omit with --hazard)."),
    hazard_point: Optional[str] = typer.Option(
        None, "--hazard", help="Issue to every household of it still without one."
    ),
    issuing_unit: str = typer.Option("伊金霍洛旗自然资源局", help="发卡单位."),
    out: Optional[Path] = typer.Option(None, help="Output folder (default DATA_DIR/cards)."),
    actor: str = typer.Option("cli"),
) -> None:
    """Issue 避险明白卡 (three copies per household, one PDF each household)."""
    from subsidence.monitoring.cards import issue_household_card, issue_missing_household_cards

    if not code and not hazard_point:
        fail("give a household code or --hazard CODE")
    with _tx(actor, "issue household card") as s:
        if code:
            cards = [_run(issue_household_card, s, code, issuing_unit=issuing_unit, out_dir=_out_dir(out))]
        else:
            cards = _run(
                issue_missing_household_cards, s, hazard_point, issuing_unit=issuing_unit, out_dir=_out_dir(out)
            )
        for c in cards:
            typer.echo(f"{c.code}: {c.pdf_path}")


@cards_app.command("receipt")
def cards_receipt(
    card: str = typer.Argument(...),
    holder: str = typer.Argument(..., help="household | village | issuer"),
    signed_by: str = typer.Option(..., help="Signer by role (户主, 村委会文书 ...)."),
    reference: Optional[str] = typer.Option(None, help="Scan/photo of the signed receipt."),
    actor: str = typer.Option("cli"),
) -> None:
    """Record the signed receipt of one copy of a card."""
    from subsidence.monitoring.cards import record_receipt

    with _tx(actor, "card receipt") as s:
        c = _run(record_receipt, s, card, holder, signed_by=signed_by, reference=reference)
        typer.echo(f"{card} {holder}: signed by {c.receipt_signed_by} at {c.receipt_signed_at.isoformat()}")


@cards_app.command("missing")
def cards_missing(
    hazard_point: Optional[str] = typer.Option(None, "--hazard"), json_out: bool = typer.Option(False, "--json")
) -> None:
    """Households that still lack a signed, current 避险明白卡."""
    from subsidence.monitoring.cards import households_missing_cards

    with _tx("cli") as s:
        rows = households_missing_cards(s, hazard_code=hazard_point)
    if json_out:
        emit_json(rows)
    else:
        _table(
            rows,
            ["household", "village", "people", "hazard_point", "card", "status", "copies_signed"],
            "未持卡住户 / households without a signed card",
        )


@hazards_app.command("list")
def hazards_list(
    code: Optional[str] = typer.Argument(None, help="One hazard point (default: all)."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Hazard points with threatened households/people, danger grade (I–IV, computed) and warning level."""
    from subsidence.monitoring.hazards import hazard_summary

    with _tx("cli", "refresh danger grades") as s:
        rows = _run(hazard_summary, s, code)
    if json_out:
        emit_json(rows)
    else:
        _table(
            rows,
            ["code", "name", "type", "households", "people", "property_10k_yuan", "danger_grade", "warning_level"],
            "隐患点 / hazard points",
        )


@hazards_app.command("households")
def hazards_households(
    file: Path = typer.Argument(
        ...,
        help="CSV code,hazard_point,people[,village,address,head_role,house_type,phone,property_10k_yuan,to_relocate]",
    ),
    actor: str = typer.Option("cli"),
) -> None:
    """Import threatened households (all rows or none); danger grades are recomputed."""
    from subsidence.monitoring.hazards import import_households

    with _tx(actor, f"households {file.name}") as s:
        n = _run(import_households, s, file)
    typer.echo(f"imported {n} households from {file}")


@hazards_app.command("contacts")
def hazards_contacts(
    file: Path = typer.Argument(..., help="CSV hazard_point,role,title[,phone,email]"), actor: str = typer.Option("cli")
) -> None:
    """Import contacts by role (responsible, monitor, warning, town, bureau, rescue): cards and escalation."""
    from subsidence.monitoring.hazards import import_contacts

    with _tx(actor, f"contacts {file.name}") as s:
        n = _run(import_contacts, s, file)
    typer.echo(f"imported {n} contacts from {file}")


def register(app: typer.Typer) -> None:
    app.add_typer(hazards_app, name="hazards")
    app.command("warn")(warn)
    app.add_typer(sensors_app, name="sensors")
    app.add_typer(obs_app, name="observations")
    app.add_typer(alarms_app, name="alarms")
    app.add_typer(outbox_app, name="outbox")
    app.add_typer(cards_app, name="cards")
