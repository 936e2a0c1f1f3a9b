"""Predictions for pages and the API (reading side): an area's predicted profile and subsidence over time."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import numpy as np
import shapely
from sqlalchemy.orm import Session

from subsidence.census.models import SubsidenceArea
from subsidence.errors import ServiceError
from subsidence.prediction.service import load_panels_db
from subsidence.science.pim import PIMParams, predict_points

#: PIM parameters for the illustrative predicted profile (Shendong practice, docs/science.md §1): q, tanβ
PROFILE_PARAMS = {"q": 0.65, "tan_beta": 2.2}


def area_series(session: Session, area: SubsidenceArea) -> dict[str, Any] | None:
    """A predicted subsidence profile across the area (PIM from its mine's panels, mm, positive down) along the
    long axis through its peak, and the predicted subsidence at the peak over time; None when the area has no
    geometry, no mine or the mine no panels (the record shows without charts). PIM's per-panel geometry notes
    are muted here (they are reported when panels are imported, not on every map click)."""
    if area.geometry is None or area.mine_id is None:
        return None
    pim_log = logging.getLogger("subsidence.science.pim")
    quiet = pim_log.level
    pim_log.setLevel(logging.ERROR)
    try:
        try:
            pset = load_panels_db(session, mine_id=area.mine_id)
        except ServiceError:  # no panels with geometry for this mine
            return None
        rect = shapely.minimum_rotated_rectangle(area.geometry)
        xy = np.asarray(rect.exterior.coords)[:4]
        edges = [(xy[i], xy[(i + 1) % 4]) for i in range(4)]
        a, b = max(edges, key=lambda e: float(np.hypot(*(e[1] - e[0]))))
        axis = (b - a) / max(float(np.hypot(*(b - a))), 1e-9)
        peak = (getattr(area, "attributes", None) or {}).get("peak_xy_storage")
        c = np.asarray(peak if peak else area.geometry.centroid.coords[0], dtype=float)
        half = float(np.hypot(*(b - a))) * 0.75
        d = np.linspace(-half, half, 121)
        px, py = c[0] + d * axis[0], c[1] + d * axis[1]
        params = PIMParams(**PROFILE_PARAMS)
        try:
            w = predict_points(pset.panels, params, px, py, components=["subsidence_mm"]).W
        except ValueError:  # panels the model cannot take (named when they were imported)
            return None
        out: dict[str, Any] = {
            "kind": "pim_prediction",
            "unit": "mm",
            "params": PROFILE_PARAMS,
            "profile": [{"x": round(float(di + half), 1), "v": round(float(wi), 1)} for di, wi in zip(d, w)],
            "points": [],
        }
        starts = [p for p in (getattr(x, "start_date", None) for x in pset.panels) if p is not None]
        if starts:
            t0 = min(starts)
            dates = [t0 + timedelta(days=30 * k) for k in range(0, 61, 5)]
            try:
                vals = [
                    float(predict_points(pset.panels, params, c[:1], c[1:2], at=day, components=["subsidence_mm"]).W[0])
                    for day in dates
                ]
            except ValueError:  # static panels without advance data: no time series
                vals = []
            out["points"] = [{"t": day.isoformat(), "v": round(v, 1)} for day, v in zip(dates, vals)]
        return out
    finally:
        pim_log.setLevel(quiet)
