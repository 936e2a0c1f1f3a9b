"""Adapter for the web layer: chart series of a sensor (the queries live in ``services.ingest``).

``subsidence.api.routes.monitoring`` looks this module up by name; keep the signature.
"""

from __future__ import annotations

from typing import Any

from subsidence.models import Sensor


def series(session, sensor: Sensor, limit: int = 2000) -> dict[str, Any]:
    """The newest ``limit`` samples, or time-bucket means when the sensor has more (so charts stay light)."""
    from datetime import timedelta

    from subsidence.services.ingest import bucketed, latest_times
    from subsidence.services.ingest import series as raw_series

    last = latest_times(session, [sensor.id]).get(sensor.id)
    if last is None:
        return {"points": []}
    t, v = raw_series(session, sensor.id, start=last - timedelta(days=30))
    if t.size <= limit:
        return {"points": [{"t": f"{x.astype('datetime64[s]')}Z", "v": float(y)} for x, y in zip(t, v)]}
    span = (t[-1] - t[0]).astype("timedelta64[s]").astype(int)
    bucket = max(60, int(span // limit) + 1)
    rows = bucketed(session, sensor.id, last - timedelta(days=30), last + timedelta(seconds=1), bucket)
    return {"points": [{"t": r["time"].isoformat(), "v": r["mean"], "min": r["min"], "max": r["max"]} for r in rows],
            "bucket_s": bucket}
