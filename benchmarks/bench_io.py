"""Import speed: a 2000-panel GeoPackage and Excel sheet through ``subsidence import`` (validate, reproject,
upsert, audit) against a named baseline in the same run: *naive load* = read the file with pyogrio/openpyxl and
bulk-insert the rows with SQLAlchemy Core, no validation, no reprojection, no audit.

Usage: ./dev bench io     (or python benchmarks/bench_io.py [N])
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np


def main(n: int = 2000) -> None:
    import pyogrio.raw
    import shapely
    from openpyxl import Workbook
    from shapely.geometry import box
    from sqlalchemy import insert, select

    from subsidence.core.models import Mine, Panel
    from subsidence.db.migrate import upgrade
    from subsidence.db.session import make_engine, make_sessionmaker
    from subsidence.interchange.imports import import_file
    from subsidence.io.excel import read_sheet

    tmp = Path(tempfile.mkdtemp(prefix="bench-io-"))
    rng = np.random.default_rng(7)
    licence = "C1500002009011120034567"
    x0, y0 = 455_000.0, 4_366_000.0
    geoms, codes = [], []
    for i in range(n):
        x, y = x0 + (i % 50) * 400, y0 + (i // 50) * 150
        geoms.append(box(x, y, x + 350, y + 140))
        codes.append(f"{licence}-{i:05d}")
    thick = rng.uniform(2, 7, n)
    depth = rng.uniform(100, 350, n)
    start = [date(2019, 1, 1) + timedelta(days=int(d)) for d in rng.integers(0, 2000, n)]
    gpkg = tmp / "panels.gpkg"
    pyogrio.raw.write(
        str(gpkg),
        np.array([shapely.to_wkb(g) for g in geoms], dtype=object),
        [
            np.array(codes, dtype=object),
            np.array([licence] * n, dtype=object),
            thick,
            depth,
            depth - 10,
            np.array(start, dtype="datetime64[D]"),
        ],
        ["code", "licence", "thickness_m", "depth_dip_m", "depth_rise_m", "start_date"],
        driver="GPKG",
        geometry_type="Polygon",
        crs="EPSG:4546",
        layer="panels",
    )
    xlsx = tmp / "panels.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.append(["工作面编号", "采矿许可证号", "采厚(m)", "下山采深(m)", "上山采深(m)", "开采开始日期"])
    for i in range(n):
        ws.append([codes[i], licence, float(thick[i]), float(depth[i]), float(depth[i] - 10), start[i]])
    wb.save(xlsx)

    def fresh(name: str):
        eng = make_engine(f"sqlite:///{tmp / name}")
        upgrade(eng)
        with make_sessionmaker(eng)() as s:
            s.add(Mine(licence_no=licence, name_zh="示例矿"))
            s.commit()
        return eng

    def naive(eng, path: Path) -> float:
        t = time.perf_counter()
        with make_sessionmaker(eng)() as s:
            mine_id = s.scalar(select(Mine.id))
        if path.suffix == ".gpkg":
            _, _, wkb, cols = pyogrio.raw.read(str(path))
            rows = [
                dict(
                    code=cols[0][i],
                    mine_id=mine_id,
                    thickness_m=float(cols[2][i]),
                    depth_dip_m=float(cols[3][i]),
                    depth_rise_m=float(cols[4][i]),
                    geometry=shapely.from_wkb(wkb[i]),
                )
                for i in range(len(wkb))
            ]
        else:
            table = read_sheet(path)
            rows = [
                dict(code=v[0], mine_id=mine_id, thickness_m=v[2], depth_dip_m=v[3], depth_rise_m=v[4])
                for _, v in table.rows
            ]
        with eng.begin() as c:
            c.execute(insert(Panel), rows)
        return time.perf_counter() - t

    for path in (gpkg, xlsx):
        base = naive(fresh(f"naive-{path.suffix[1:]}.sqlite"), path)
        eng = fresh(f"ours-{path.suffix[1:]}.sqlite")
        t = time.perf_counter()
        rep = import_file(eng, "panels", path)
        first = time.perf_counter() - t
        t = time.perf_counter()
        rep2 = import_file(eng, "panels", path)
        again = time.perf_counter() - t
        assert rep.created == n and rep2.unchanged == n
        print(
            f"{path.name:14s} n={n}: naive load {base:6.2f} s | subsidence import {first:6.2f} s "
            f"({first / base:4.1f}x naive) | re-import unchanged {again:6.2f} s ({again / base:4.1f}x naive)",
            flush=True,
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
