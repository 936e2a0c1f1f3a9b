"""The public map: where the published results are (mine locations, CRS84), nothing that is not published.

Input is what the public may already read — the published praise/exposure lists of the assessment and the
published inspection results — keyed by licence number; only the location of those mines is added (the
centroid of the mining-right area, never its outline).
"""

from __future__ import annotations

import json
from typing import Any

import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.core.models import Mine
from subsidence.mapping.layers import to_lonlat_geoms


def public_features(session: Session, lists: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, Any]:
    """A GeoJSON FeatureCollection, one point per mine that appears in ``lists`` or ``results``, with the
    assessment year, its listing (praise or exposure), score and rank, and its published inspections."""
    by_mine: dict[str, dict[str, Any]] = {}
    for listing in ("praise", "exposure"):
        for r in lists.get(listing) or []:
            key = r.get("mine")
            if key:
                by_mine.setdefault(key, {"mine": key, "mine_name": r.get("mine_name"), "inspections": []}).update(
                    listing=listing, year=lists.get("year"), score=r.get("score"), rank=r.get("rank")
                )
    for r in results:
        key = r.get("mine")
        if key:
            by_mine.setdefault(key, {"mine": key, "mine_name": r.get("mine_name"), "inspections": []})[
                "inspections"
            ].append(
                {
                    "item": r.get("item"),
                    "date": r.get("inspected_date"),
                    "outcome": r.get("outcome_zh"),
                    "summary": r.get("summary"),
                }
            )
    if not by_mine:
        return {"type": "FeatureCollection", "features": []}
    mines = {
        m.licence_no: m
        for m in session.scalars(select(Mine).where(Mine.licence_no.in_(list(by_mine))))
        if m.geometry is not None
    }
    keys = [k for k in by_mine if k in mines]
    points = to_lonlat_geoms([shapely.centroid(mines[k].geometry) for k in keys])
    features = [
        {"type": "Feature", "geometry": json.loads(shapely.to_geojson(pt)), "properties": by_mine[k]}
        for k, pt in zip(keys, points)
    ]
    return {"type": "FeatureCollection", "features": features}
