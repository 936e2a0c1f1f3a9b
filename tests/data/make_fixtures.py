"""Regenerate the tiny committed import fixtures in this folder: ``python tests/data/make_fixtures.py``.

- ``towns_gbk_cpg.shp``   towns with Chinese names, attributes in GBK, ``.cpg`` says GBK, ``.prj`` EPSG:4546
- ``towns_gbk_nocpg.shp`` the same without ``.cpg`` (as many Chinese desktop GIS write them): GBK must be detected
- ``mines_cgcs2000.geojson`` two mines in CGCS2000 lon/lat (EPSG:4490, old-style ``crs`` member)

Geometry is illustrative: squares around the approximate town seats of docs/domain.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import Polygon, box

HERE = Path(__file__).resolve().parent

TOWNS = [  # code, name, lon, lat
    ("150627101", "乌兰木伦镇", 110.05, 39.45),
    ("150627102", "纳林陶亥镇", 110.24, 39.57),
    ("150627103", "札萨克镇", 109.58, 39.12),
]


def lonlat_square(lon: float, lat: float, half_deg: float) -> Polygon:
    return box(lon - half_deg, lat - half_deg, lon + half_deg, lat + half_deg)


def to_4546(g):
    tr = Transformer.from_crs("EPSG:4490", "EPSG:4546", always_xy=True)
    return shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def write_towns_shapefile(path: Path, *, cpg: bool) -> Path:
    import pyogrio.raw

    for old in path.parent.glob(path.stem + ".*"):
        old.unlink()
    geoms = [to_4546(lonlat_square(lon, lat, 0.05)) for _, _, lon, lat in TOWNS]
    wkb = np.array([shapely.to_wkb(g) for g in geoms], dtype=object)
    fields = [
        np.array([t[0] for t in TOWNS], dtype=object),
        np.array([t[1] for t in TOWNS], dtype=object),
        np.array(["镇"] * len(TOWNS), dtype=object),
    ]
    pyogrio.raw.write(
        str(path),
        wkb,
        fields,
        ["code", "name_zh", "level"],
        driver="ESRI Shapefile",
        geometry_type="Polygon",
        crs="EPSG:4546",
        encoding="GBK",
    )
    if not cpg:
        path.with_suffix(".cpg").unlink()
    return path


def write_mines_geojson(path: Path) -> Path:
    features = []
    for i, (licence, name, lon, lat) in enumerate(
        [
            ("C1500002009011120034567", "示例补连塔煤矿", 110.04, 39.44),
            ("C1500002010021120045678", "示例上湾煤矿", 110.08, 39.47),
        ]
    ):
        ring = list(lonlat_square(lon, lat, 0.01).exterior.coords)
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "采矿许可证号": licence,
                    "矿山名称": name,
                    "核定生产能力(Mt/a)": 20.0 + i,
                    "有效期起": "2019-01-01",
                    "有效期止": "2039-12-31",
                    "所在镇": "乌兰木伦镇",
                },
                "geometry": {"type": "Polygon", "coordinates": [[list(c) for c in ring]]},
            }
        )
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}},
        "features": features,
    }
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def main() -> None:
    write_towns_shapefile(HERE / "towns_gbk_cpg.shp", cpg=True)
    write_towns_shapefile(HERE / "towns_gbk_nocpg.shp", cpg=False)
    write_mines_geojson(HERE / "mines_cgcs2000.geojson")


if __name__ == "__main__":
    main()
