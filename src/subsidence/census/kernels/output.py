"""Writing census layers: GeoJSON (RFC 7946, WGS84 lon/lat) and CSV tables, atomically (no partial files)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from subsidence.geo import STORAGE_CRS, to_lonlat
from subsidence.io.files import atomic_write_text


def feature_collection(
    items: Iterable[tuple[BaseGeometry, dict[str, Any]]],
    *,
    src_crs: str = STORAGE_CRS,
    name: str = "",
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    feats = []
    for geom, props in items:
        g = shapely.set_precision(to_lonlat(geom, src_crs), 1e-9) if geom is not None else None
        if g is not None:
            g = shapely.orient_polygons(g) if hasattr(shapely, "orient_polygons") else g
        feats.append({"type": "Feature", "geometry": mapping(g) if g is not None else None, "properties": props})
    fc: dict[str, Any] = {"type": "FeatureCollection", "name": name, "features": feats}
    if metadata:
        fc["metadata"] = metadata
    return fc


def write_geojson(
    path: str | Path,
    items: Iterable[tuple[BaseGeometry, dict[str, Any]]],
    *,
    src_crs: str = STORAGE_CRS,
    name: str = "",
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write features (geometries in ``src_crs``) as RFC 7946 GeoJSON in lon/lat; replaces ``path`` atomically."""
    fc = feature_collection(items, src_crs=src_crs, name=name, metadata=metadata)
    return atomic_write_text(Path(path), lambda fh: json.dump(fc, fh, ensure_ascii=False, default=str))


def write_csv(path: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    """A UTF-8 CSV with BOM (opens correctly in Chinese Excel); replaces ``path`` atomically."""

    def w(fh):
        fh.write("\ufeff")
        cw = csv.writer(fh)
        cw.writerow(header)
        cw.writerows(rows)

    return atomic_write_text(Path(path), w)
