"""HTTP batch ingest of sensor observations (data loggers, gateways) and chart aggregates.

``POST /api/observations/batch`` takes ``{"source": "...", "rows": [{"sensor", "time", "value", "unit"?}, ...]}``
(at most :data:`MAX_ROWS` rows), validates and stores them with ``services.ingest.ingest_batch`` and evaluates the
alarms of the sensors touched — in one transaction, so the alarm and its outbox notifications exist exactly
when the data do. Rejected rows come back as ``(row, sensor, reason)``; re-sending a batch is harmless.
Wire-up: add ``observations.router`` to ``subsidence.api.routes.ROUTERS``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from subsidence.access import policy as authz
from subsidence.api.deps import CurrentUser, IdPath, SessionDep
from subsidence.errors import NotFound, ValidationFailed

router = APIRouter(tags=["monitoring"])

MAX_ROWS = 20_000


class ObservationRow(BaseModel):
    sensor: str = Field(min_length=1, max_length=60, description="sensor code")
    time: str = Field(min_length=1, max_length=40, description="ISO 8601 with offset, e.g. 2025-07-01T08:00:00+08:00")
    value: float | str = Field(description="value in `unit` (default: the sensor's unit)")
    unit: str | None = Field(default=None, max_length=20)


class ObservationBatch(BaseModel):
    source: str = Field(default="http", max_length=200, description="logger / gateway name")
    rows: list[ObservationRow] = Field(max_length=MAX_ROWS)
    strict: bool = Field(default=False, description="store nothing if any row is rejected")


@router.post("/api/observations/batch", summary="批量上传监测数据 / ingest a batch of observations")
def post_batch(batch: ObservationBatch, session: SessionDep, actor: CurrentUser) -> dict[str, Any]:
    from subsidence.monitoring.evaluation import evaluate
    from subsidence.monitoring.ingest import ingest_batch

    session.info["actor"] = actor.audit_name
    # the service decides what the actor may write (sensor policy, "observe"): Forbidden → 403, nothing stored
    rep = ingest_batch(
        session,
        [r.model_dump() for r in batch.rows],
        f"http:{batch.source}:{actor.username}",
        strict=batch.strict,
        actor=actor,
    )
    out = rep.to_dict()
    if rep.sensor_ids or rep.faults:
        out["alarms"] = evaluate(
            session, sensor_ids=sorted(set(rep.sensor_ids) | set(rep.faults)), actor=actor.audit_name, faults=rep.faults
        ).to_dict()
    return out


@router.get("/api/sensors/{sensor_id}/buckets", summary="监测曲线聚合 / time-bucket aggregates for charts")
def get_buckets(
    sensor_id: IdPath,
    session: SessionDep,
    actor: CurrentUser,
    start: datetime | None = None,
    end: datetime | None = None,
    bucket_s: Annotated[int, Query(ge=60, le=31 * 86400)] = 3600,
) -> dict[str, Any]:
    from subsidence.db.base import utcnow
    from subsidence.monitoring.ingest import bucketed

    for name, t in (("start", start), ("end", end)):
        if t is not None and t.utcoffset() is None:
            raise ValidationFailed(f"{name}={t.isoformat()} has no time zone; give e.g. 2024-11-01T00:00:00+08:00")
    sensor = authz.get_visible(session, actor, "sensor", sensor_id)
    if sensor is None:
        raise NotFound(f"sensor {sensor_id} does not exist")
    end = end or utcnow()
    start = start or end - timedelta(days=30)
    return {
        "sensor": sensor.code,
        "unit": sensor.unit,
        "bucket_s": bucket_s,
        "buckets": bucketed(session, sensor.id, start, end, bucket_s),
    }
