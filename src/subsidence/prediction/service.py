"""Prediction service: the I/O edges of the science core (panels, parameters, observations, outputs).

Shared by the CLI (``subsidence predict|invert|stability|damage``) and the API. Every reader
validates before any computation and raises :class:`~subsidence.errors.ValidationFailed` naming the
file, row and field and the fix; every writer writes atomically, so a failed run changes nothing.

Panel attributes (vector file): ``thickness_m``; ``depth_m`` or ``depth_dip_m`` (+ ``depth_rise_m``);
optional ``dip_deg``, ``dip_azimuth_deg``, ``start_date``, ``end_date``, ``advance_m_per_day``,
``advance_azimuth_deg``; a name from ``code``, ``name`` or ``id``.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from subsidence.errors import ValidationFailed

log = logging.getLogger(__name__)

PANEL_LAYER_HINTS = ("panels", "panel", "working_faces", "工作面")
#: Extra band / column of a dynamic prediction (``--at``).
RATE_BAND = "subsidence_rate_mm_per_day"


# --------------------------------------------------------------------------------------------------
# panels
# --------------------------------------------------------------------------------------------------
@dataclass
class PanelSet:
    """Panels (science objects) in one projected CRS, with the source they came from."""

    panels: list[Any]
    crs: Any
    source: str


def _num(rec: dict, key: str, where: str, *, required: bool = False, default: float | None = None) -> float | None:
    v = rec.get(key)
    if v is None or (isinstance(v, str) and not v.strip()):
        if required:
            raise ValidationFailed(f"{where}: field {key!r} is missing; give it in metres/degrees")
        return default
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{where}: field {key!r}={v!r} is not a number") from None
    if not math.isfinite(f):
        raise ValidationFailed(f"{where}: field {key!r}={v!r} is not finite")
    return f


def _date(rec: dict, key: str, where: str) -> date | None:
    v = rec.get(key)
    if v is None or v == "":
        return None
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    try:
        return date.fromisoformat(str(v)[:10])
    except ValueError:
        raise ValidationFailed(f"{where}: field {key!r}={v!r} is not an ISO date (YYYY-MM-DD)") from None


def panel_from_record(rec: dict, geom: Any, where: str) -> list[Any]:
    """Science panels from one feature (a MultiPolygon gives one panel per part)."""
    from shapely.geometry import MultiPolygon, Polygon

    from subsidence.science.pim import PanelGeometry, ScienceInputError

    if geom is None or geom.is_empty:
        raise ValidationFailed(f"{where}: no geometry; every panel needs its plan-view polygon")
    parts = list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]
    if not all(isinstance(p, Polygon) for p in parts):
        raise ValidationFailed(f"{where}: geometry is {geom.geom_type}, a panel must be a polygon")
    thickness = _num(rec, "thickness_m", where, required=True)
    depth = _num(rec, "depth_m", where)
    dip_depth = _num(rec, "depth_dip_m", where, default=depth)
    # no depth_rise_m: PanelGeometry derives H2 = H1 - D1 sin(alpha) from the geometry (and logs it)
    rise_depth = _num(rec, "depth_rise_m", where)
    if dip_depth is None:
        raise ValidationFailed(f"{where}: give depth_m, or depth_dip_m and depth_rise_m (metres below surface)")
    name = str(rec.get("code") or rec.get("name") or rec.get("id") or where)
    dip = _num(rec, "dip_deg", where, default=0.0)
    dip_azimuth = _num(rec, "dip_azimuth_deg", where)
    if dip_azimuth is None:
        if dip and abs(dip) > 0:
            # a dipping seam without a dip direction would silently dip to grid north
            raise ValidationFailed(
                f"{where}: dip_deg = {dip} but dip_azimuth_deg is missing; give the dip "
                "direction in degrees clockwise from grid north"
            )
        dip_azimuth = 0.0
    out = []
    for k, part in enumerate(parts):
        try:
            out.append(
                PanelGeometry(
                    outline=part,
                    thickness_m=thickness,
                    depth_dip_m=dip_depth,
                    depth_rise_m=rise_depth,
                    dip_deg=dip,
                    dip_azimuth_deg=dip_azimuth,
                    start_date=_date(rec, "start_date", where),
                    end_date=_date(rec, "end_date", where),
                    advance_m_per_day=_num(rec, "advance_m_per_day", where),
                    advance_azimuth_deg=_num(rec, "advance_azimuth_deg", where),
                    name=name if len(parts) == 1 else f"{name}#{k + 1}",
                )
            )
        except ScienceInputError as exc:
            raise ValidationFailed(f"{where}: {exc}") from None
    return out


def load_panels_file(path: str | Path, *, layer: str | None = None, to_crs: Any = None) -> PanelSet:
    """Panels from a vector file (GeoPackage, Shapefile, GeoJSON) in a projected CRS (metres).

    ``to_crs`` reprojects first (e.g. "EPSG:4546" for a lon/lat file); a geographic CRS is refused otherwise.
    """
    from subsidence.geo import transform_geometry
    from subsidence.io.sniff import FormatError
    from subsidence.io.vector import read_vector

    try:
        table = read_vector(path, layer=layer, layer_hints=PANEL_LAYER_HINTS)
    except FormatError as exc:
        raise ValidationFailed(str(exc)) from None
    crs = table.crs
    if crs is None:
        raise ValidationFailed(f"{path}: no CRS (missing .prj?); assign one, e.g. EPSG:4546")
    if to_crs is not None:
        from pyproj import CRS

        target = CRS.from_user_input(to_crs)
        geoms = [None if g is None else transform_geometry(g, crs, target) for g in table.geometries]
        crs = target
    else:
        geoms = table.geometries
    if not crs.is_projected:
        raise ValidationFailed(
            f"{path}: CRS {crs.name!r} is geographic (degrees); a prediction grid needs metres: "
            "reproject the file or pass --to-crs EPSG:4546"
        )
    panels = []
    for i, (rec, g) in enumerate(zip(table.records, geoms)):
        panels.extend(panel_from_record(rec, g, f"{path} row {i + 1}"))
    if not panels:
        raise ValidationFailed(f"{path}: holds no panels")
    return PanelSet(panels, crs, str(path))


def load_panels_db(session: Any, *, mine_id: int | None = None, codes: Sequence[str] | None = None) -> PanelSet:
    """Panels (with geometry) from the database, in the storage CRS (EPSG:4546)."""
    from pyproj import CRS
    from sqlalchemy import select

    from subsidence.core.models import Panel
    from subsidence.geo import STORAGE_CRS

    q = select(Panel).where(Panel.geometry.is_not(None)).order_by(Panel.code)
    if mine_id is not None:
        q = q.where(Panel.mine_id == mine_id)
    if codes:
        q = q.where(Panel.code.in_(list(codes)))
    panels = []
    for pn in session.scalars(q):
        rec = {
            "code": pn.code,
            "thickness_m": pn.thickness_m,
            "depth_dip_m": pn.depth_dip_m,
            "depth_rise_m": pn.depth_rise_m,
            "dip_deg": pn.dip_deg or 0.0,
            "dip_azimuth_deg": pn.dip_azimuth_deg or 0.0,
            "start_date": pn.start_date,
            "end_date": pn.end_date,
            "advance_m_per_day": pn.advance_m_per_day,
        }
        panels.extend(panel_from_record(rec, pn.geometry, f"database panel {pn.code}"))
    if not panels:
        raise ValidationFailed(
            "the database holds no panels with geometry" + (f" for mine {mine_id}" if mine_id is not None else "")
        )
    return PanelSet(panels, CRS.from_user_input(STORAGE_CRS), "db")


def load_params(path: str | Path) -> tuple[Any, Any]:
    """(PIMParams, TimeFunction) from PARAMS.json (keys: q, tan_beta, b, theta0_deg, s_m, optional s1_m..s4_m,
    tan_beta_dip, tan_beta_rise, ``time_function``: {"kind", "c_per_day", "duration_days", "k"})."""
    from subsidence.science.dynamics import TimeFunction
    from subsidence.science.pim import PIMParams, ScienceInputError

    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValidationFailed(f"{p}: no such file") from None
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"{p}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValidationFailed(f"{p}: expected a JSON object with q, tan_beta, b, theta0_deg, s_m")
    try:
        params = PIMParams.from_dict(data)
        tf = TimeFunction.from_dict(data.get("time_function"))
    except (ScienceInputError, ValueError) as exc:
        raise ValidationFailed(f"{p}: {exc}") from None
    return params, tf


# --------------------------------------------------------------------------------------------------
# prediction
# --------------------------------------------------------------------------------------------------
def prediction_grid(
    pset: PanelSet, params: Any, spacing: float, bounds: tuple[float, float, float, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    from subsidence.science.pim import grid_axes, influence_bounds

    if not spacing > 0:
        raise ValidationFailed(f"--spacing {spacing} must be > 0 m")
    return grid_axes(bounds or influence_bounds(pset.panels, params), spacing)


def predict_to_geotiff(
    pset: PanelSet,
    params: Any,
    out: str | Path,
    *,
    spacing: float = 10.0,
    at: date | None = None,
    time_function: Any = None,
    components: Sequence[str] | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    memory_budget_mb: float | None = None,
    azimuths: Sequence[float] = (),
) -> dict[str, Any]:
    """Predict on a north-up grid covering the panels' influence and write a multi-band GeoTIFF.

    ``azimuths`` (degrees clockwise from north) add directional tilt, curvature, displacement and strain bands.

    Returns a summary (grid size, maxima per component). Refuses a geographic CRS and a grid over the memory
    budget before any computation.
    """
    from subsidence.io.raster import RasterError, require_projected, transform_from_axes, write_geotiff
    from subsidence.science import pim

    try:
        require_projected(pset.crs, pset.source)
    except RasterError as exc:
        raise ValidationFailed(str(exc)) from None
    comps = tuple(components or pim.DEFAULT_COMPONENTS)
    x, y = prediction_grid(pset, params, spacing, bounds)
    for msg in pim.dip_axis_warnings(pset.panels):
        log.warning("%s: %s", pset.source, msg)
    budget = memory_budget_mb or pim.DEFAULT_MEMORY_BUDGET_MB
    try:
        field = pim.predict_grid(
            pset.panels, params, x, y, at=at, time_function=time_function, components=comps, memory_budget_mb=budget
        )
    except pim.ScienceInputError as exc:
        raise ValidationFailed(str(exc)) from None
    bands = field.components(comps)
    units = {k: pim.COMPONENTS[k][1] for k in comps}
    descr = {k: pim.COMPONENTS[k][0] for k in comps}
    for az in azimuths:
        for name, arr in field.along(float(az)).items():
            bands[name] = arr
            units[name] = (
                name.rsplit("_", 1)[-1]
                if name.endswith("_mm")
                else {"tilt": "mm/m", "curvature": "1e-3/m", "strain": "mm/m"}[name.split("_", 1)[0]]
            )
            descr[name] = f"{name.split('_', 1)[0]} along azimuth {az:g} deg (clockwise from north)"
    if at is not None:
        from subsidence.science.dynamics import TimeFunction, rate_at

        bands[RATE_BAND] = rate_at(pset.panels, params, x, y, at, time_function or TimeFunction(), grid=True)
        units[RATE_BAND] = "mm/d"
        descr[RATE_BAND] = "下沉速度 subsidence rate on the date (positive = sinking)"
    tags = {
        "model": "probability integral method (概率积分法)",
        "params": json.dumps(params.to_dict()),
        "at": at.isoformat() if at else "final (static)",
        "panels": len(pset.panels),
        "sign_convention": "subsidence positive down; displacement +x east, +y north; strain + extension",
    }
    if time_function is not None and at is not None:
        tags["time_function"] = json.dumps(time_function.to_dict())
    write_geotiff(
        out, bands, transform=transform_from_axes(x, y), crs=pset.crs, units=units, descriptions=descr, tags=tags
    )
    return {
        "out": str(out),
        "width": len(x),
        "height": len(y),
        "spacing_m": spacing,
        "panels": len(pset.panels),
        "at": at.isoformat() if at else None,
        "max": {k: float(np.nanmax(np.abs(v))) for k, v in bands.items()},
    }


def read_points_csv(path: str | Path) -> tuple[list[str], list[dict[str, str]], np.ndarray, np.ndarray]:
    """(columns, rows, x, y) of a CSV with ``x`` and ``y`` columns (metres, the panels' CRS)."""
    p = Path(path)
    try:
        with p.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            cols = [c.strip() for c in (reader.fieldnames or [])]
            rows = [{(k or "").strip(): (v or "").strip() for k, v in r.items()} for r in reader]
    except FileNotFoundError:
        raise ValidationFailed(f"{p}: no such file") from None
    except UnicodeDecodeError:
        raise ValidationFailed(f"{p}: not UTF-8 text; save the CSV as UTF-8") from None
    low = {c.lower(): c for c in cols}
    if "x" not in low or "y" not in low:
        raise ValidationFailed(f"{p}: needs columns x and y (metres in the panels' projected CRS); found {cols}")
    xs, ys = [], []
    for i, r in enumerate(rows, start=2):
        try:
            xs.append(float(r[low["x"]]))
            ys.append(float(r[low["y"]]))
        except ValueError:
            raise ValidationFailed(f"{p} line {i}: x={r[low['x']]!r}, y={r[low['y']]!r} must be numbers") from None
    if not rows:
        raise ValidationFailed(f"{p}: no rows")
    return cols, rows, np.array(xs), np.array(ys)


def _write_csv_atomic(path: str | Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Path:
    from subsidence.io.files import atomic_write_text

    def write(fh) -> None:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)

    return atomic_write_text(path, write)


def predict_points_csv(
    pset: PanelSet,
    params: Any,
    points_csv: str | Path,
    out_csv: str | Path,
    *,
    at: date | None = None,
    time_function: Any = None,
    components: Sequence[str] | None = None,
    azimuths: Sequence[float] = (),
) -> int:
    """Predict at the CSV's points; write their columns plus one column per component (unit in the name).

    Column order: the input's columns (``x``, ``y`` first when present), then ``subsidence_mm`` and the
    other components, then directional components for each azimuth in ``azimuths``.
    """
    from subsidence.science import pim

    cols, rows, x, y = read_points_csv(points_csv)
    comps = tuple(components or pim.DEFAULT_COMPONENTS)
    try:
        field = pim.predict_points(
            pset.panels,
            params,
            x,
            y,
            at=at,
            time_function=time_function,
            components=comps if not azimuths else pim.DEFAULT_COMPONENTS,
        )
    except pim.ScienceInputError as exc:
        raise ValidationFailed(str(exc)) from None
    values = field.components(comps)
    if at is not None:
        from subsidence.science.dynamics import TimeFunction, rate_at

        values[RATE_BAND] = rate_at(pset.panels, params, x, y, at, time_function or TimeFunction())
    for az in azimuths:
        values.update(field.along(az))
    keep = [c for c in cols if c.lower() not in ("x", "y")]
    low = {c.lower(): c for c in cols}
    header = ["x", "y", *keep, *values.keys()]
    out_rows = (
        [r[low["x"]], r[low["y"]], *[r[c] for c in keep], *[f"{float(v[i]):.6g}" for v in values.values()]]
        for i, r in enumerate(rows)
    )
    _write_csv_atomic(out_csv, header, out_rows)
    return len(rows)


# --------------------------------------------------------------------------------------------------
# inversion
# --------------------------------------------------------------------------------------------------
def observations_from_csv(
    path: str | Path,
    *,
    sigma_vertical_mm: float = 5.0,
    sigma_horizontal_mm: float = 10.0,
    sigma_los_mm: float = 5.0,
    incidence_deg: float | None = None,
    heading_deg: float | None = None,
) -> list[Any]:
    """Observations from a points CSV: ``x``, ``y`` and any of ``subsidence_mm`` (positive down), ``east_mm``,
    ``north_mm`` (levelling/GNSS) and ``los_mm`` (positive toward the satellite) with ``los_e``, ``los_n``,
    ``los_u`` unit-vector columns or ``incidence_deg``/``heading_deg`` (columns or arguments); optional
    ``sigma_mm`` per row. Empty cells are skipped per component."""
    from subsidence.science import inversion

    cols, rows, x, y = read_points_csv(path)
    low = {c.lower(): c for c in cols}

    def col(name: str) -> np.ndarray | None:
        if name not in low:
            return None
        out = np.full(len(rows), np.nan)
        for i, r in enumerate(rows):
            v = r[low[name]]
            if v != "":
                try:
                    out[i] = float(v)
                except ValueError:
                    raise ValidationFailed(f"{path} line {i + 2}: {name}={v!r} is not a number") from None
        return out

    sig = col("sigma_mm")
    obs: list[Any] = []
    w, e, n = col("subsidence_mm"), col("east_mm"), col("north_mm")
    if w is not None or e is not None or n is not None:
        present = np.zeros(len(rows), dtype=bool)
        for a in (w, e, n):
            if a is not None:
                present |= np.isfinite(a)
        if w is not None and e is None and n is None:
            m = np.isfinite(w)
            obs.append(
                inversion.PointObservations(
                    x[m], y[m], subsidence_mm=w[m], sigma_vertical_mm=sig[m] if sig is not None else sigma_vertical_mm
                )
            )
        else:
            for name, a in (("subsidence_mm", w), ("east_mm", e), ("north_mm", n)):
                if a is None:
                    continue
                m = np.isfinite(a)
                if not m.any():
                    continue
                kw = {name: a[m]}
                sv = sig[m] if sig is not None else None
                obs.append(
                    inversion.PointObservations(
                        x[m],
                        y[m],
                        **kw,
                        name=f"points:{name}",
                        sigma_vertical_mm=sv if sv is not None and name == "subsidence_mm" else sigma_vertical_mm,
                        sigma_horizontal_mm=sv if sv is not None and name != "subsidence_mm" else sigma_horizontal_mm,
                    )
                )
    los = col("los_mm")
    if los is not None:
        m = np.isfinite(los)
        le, ln, lu = col("los_e"), col("los_n"), col("los_u")
        if le is not None and ln is not None and lu is not None:
            unit = np.column_stack([le, ln, lu])[m]
        else:
            inc = col("incidence_deg")
            head = col("heading_deg")
            inc = inc[m] if inc is not None else incidence_deg
            head = head[m] if head is not None else heading_deg
            if inc is None or head is None:
                raise ValidationFailed(
                    f"{path}: los_mm needs los_e/los_n/los_u columns or incidence and heading "
                    "(columns incidence_deg, heading_deg or --incidence-deg/--heading-deg)"
                )
            unit = inversion.los_unit_vector(inc, head)
        try:
            obs.append(
                inversion.LOSObservations(
                    x[m], y[m], los[m], unit, sigma_mm=sig[m] if sig is not None else sigma_los_mm
                )
            )
        except Exception as exc:
            raise ValidationFailed(f"{path}: {exc}") from None
    if not obs:
        raise ValidationFailed(f"{path}: no observed values; give subsidence_mm, east_mm/north_mm or los_mm columns")
    return obs


def observations_from_los_raster(
    path: str | Path,
    *,
    crs: Any,
    incidence_deg: float | None = None,
    heading_deg: float | None = None,
    unit_rasters: Sequence[str] | None = None,
    band: str | None = None,
    scale_to_mm: float = 1.0,
    sigma_mm: float = 5.0,
    max_obs: int = 20000,
    seed: int = 0,
) -> Any:
    """LOS observations from a GeoTIFF (one band, LOS positive toward the satellite; ``scale_to_mm`` converts
    its unit, e.g. 1000 for metres), with a constant incidence/heading or three unit-vector rasters (E, N, U).
    NaN/nodata pixels are skipped; at most ``max_obs`` pixels are drawn (seeded)."""
    from pyproj import CRS

    from subsidence.io.raster import RasterError, read_geotiff
    from subsidence.science import inversion

    try:
        rd = read_geotiff(path, require_metric=True)
    except RasterError as exc:
        raise ValidationFailed(str(exc)) from None
    if crs is not None and rd.crs != CRS.from_user_input(crs):
        raise ValidationFailed(
            f"{path}: CRS {rd.crs.name!r} differs from the panels' CRS {CRS.from_user_input(crs).name!r};"
            " reproject one of them"
        )
    arr = rd.band(band) if band else rd.array[0]
    x, y = rd.axes()
    xx, yy = np.meshgrid(x, y)
    v = arr.astype(float) * scale_to_mm
    m = np.isfinite(v)
    if unit_rasters:
        if len(unit_rasters) != 3:
            raise ValidationFailed("--los-unit needs three rasters: east, north, up components")
        comps = []
        for up in unit_rasters:
            try:
                u = read_geotiff(up, require_metric=True)
            except RasterError as exc:
                raise ValidationFailed(str(exc)) from None
            if u.shape != rd.shape:
                raise ValidationFailed(f"{up}: shape {u.shape} differs from {path} {rd.shape}")
            comps.append(u.array[0].astype(float))
        unit = np.stack(comps, axis=-1)
        m &= np.all(np.isfinite(unit), axis=-1)
        unit = unit[m]
    else:
        if incidence_deg is None or heading_deg is None:
            raise ValidationFailed(f"{path}: give --incidence-deg and --heading-deg, or --los-unit E.tif N.tif U.tif")
        unit = inversion.los_unit_vector(incidence_deg, heading_deg)
    idx = np.nonzero(m.ravel())[0]
    if idx.size == 0:
        raise ValidationFailed(f"{path}: no valid pixels")
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(idx.size, size=min(max_obs, idx.size), replace=False))
    sel = idx[pick]
    unit_sel = unit[pick] if np.ndim(unit) == 2 else unit
    return inversion.LOSObservations(
        xx.ravel()[sel], yy.ravel()[sel], v.ravel()[sel], unit_sel, sigma_mm=sigma_mm, name=Path(path).name
    )


# --------------------------------------------------------------------------------------------------
# stability
# --------------------------------------------------------------------------------------------------
def read_series_csv(path: str | Path) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(ids, x, y, dates, series (T, N)) from a CSV, long (``point_id, date, subsidence_mm`` [, x, y]) or wide
    (``point_id`` [, x, y] then one column per ISO date holding cumulative subsidence in mm, positive down)."""
    p = Path(path)
    cols, rows = _read_csv(p)
    low = {c.lower(): c for c in cols}
    idcol = low.get("point_id") or low.get("id") or low.get("name")
    if "date" in low:
        vcol = low.get("subsidence_mm")
        if vcol is None or idcol is None:
            raise ValidationFailed(f"{p}: long format needs point_id, date and subsidence_mm columns")
        ids: dict[str, int] = {}
        dates: dict[str, int] = {}
        xy: dict[str, tuple[float, float]] = {}
        for i, r in enumerate(rows, start=2):
            ids.setdefault(r[idcol], len(ids))
            try:
                d = date.fromisoformat(r[low["date"]][:10]).isoformat()
            except ValueError:
                raise ValidationFailed(f"{p} line {i}: date {r[low['date']]!r} is not ISO (YYYY-MM-DD)") from None
            dates.setdefault(d, 0)
            if "x" in low and "y" in low and r[low["x"]] and r[low["y"]]:
                xy[r[idcol]] = (float(r[low["x"]]), float(r[low["y"]]))
        dl = sorted(dates)
        di = {d: k for k, d in enumerate(dl)}
        series = np.full((len(dl), len(ids)), np.nan)
        for i, r in enumerate(rows, start=2):
            v = r[vcol]
            if v == "":
                continue
            try:
                series[di[date.fromisoformat(r[low["date"]][:10]).isoformat()], ids[r[idcol]]] = float(v)
            except ValueError:
                raise ValidationFailed(f"{p} line {i}: subsidence_mm={v!r} is not a number") from None
        idl = list(ids)
        x = np.array([xy.get(k, (np.nan, np.nan))[0] for k in idl])
        y = np.array([xy.get(k, (np.nan, np.nan))[1] for k in idl])
        return idl, x, y, np.array(dl, dtype="datetime64[D]"), series
    date_cols = []
    for c in cols:
        try:
            date_cols.append((date.fromisoformat(c[:10]), c))
        except ValueError:
            continue
    if len(date_cols) < 2:
        raise ValidationFailed(
            f"{p}: expected a long table (point_id,date,subsidence_mm) or a wide one with ISO "
            "date columns (at least two)"
        )
    date_cols.sort()
    series = np.full((len(date_cols), len(rows)), np.nan)
    for j, r in enumerate(rows):
        for k, (_, c) in enumerate(date_cols):
            v = r[c]
            if v != "":
                try:
                    series[k, j] = float(v)
                except ValueError:
                    raise ValidationFailed(f"{p} line {j + 2}: {c}={v!r} is not a number") from None
    ids = [r[idcol] if idcol else str(j + 1) for j, r in enumerate(rows)]
    x = np.array([float(r[low["x"]]) if "x" in low and r[low["x"]] else np.nan for r in rows])
    y = np.array([float(r[low["y"]]) if "y" in low and r[low["y"]] else np.nan for r in rows])
    return ids, x, y, np.array([d for d, _ in date_cols], dtype="datetime64[D]"), series


def time_function_from_series(
    pset: PanelSet,
    params: Any,
    series_csv: str | Path,
    *,
    kind: str = "improved_knothe",
    fit: Sequence[str] = ("c_per_day", "k"),
    sigma_mm: float = 5.0,
) -> Any:
    """Fit the time constant c (and k) to observed subsidence series (levelling or InSAR, CSV as for
    ``stability``, with x, y in the panels' CRS; values relative to the first date) under the face-advance
    model of ``pset`` (panels need start dates): :func:`subsidence.science.dynamics.fit_time_function_series`.
    Returns its :class:`~subsidence.science.dynamics.TimeFunctionFit`; ``.to_dict()`` is PARAMS.json's
    ``time_function``."""
    from subsidence.science.dynamics import fit_time_function_series

    _, x, y, dates, series = read_series_csv(series_csv)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValidationFailed(f"{series_csv}: every point needs x and y (metres, the panels' CRS) to fit c")
    try:
        return fit_time_function_series(
            pset.panels, params, x, y, [d.astype(object) for d in dates], series, kind=kind, fit=fit, sigma_mm=sigma_mm
        )
    except ValueError as exc:
        raise ValidationFailed(f"{series_csv}: {exc}") from None


def _read_csv(p: Path) -> tuple[list[str], list[dict[str, str]]]:
    try:
        with p.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            cols = [c.strip() for c in (reader.fieldnames or [])]
            rows = [{(k or "").strip(): (v or "").strip() for k, v in r.items()} for r in reader]
    except FileNotFoundError:
        raise ValidationFailed(f"{p}: no such file") from None
    except UnicodeDecodeError:
        raise ValidationFailed(f"{p}: not UTF-8 text; save the CSV as UTF-8") from None
    if not rows:
        raise ValidationFailed(f"{p}: no rows")
    return cols, rows


def _iso(d: Any) -> str:
    return "" if np.isnat(d) else str(d)


def stability_csv(series_csv: str | Path, out_csv: str | Path, criteria: Any = None) -> dict[str, int]:
    """Movement stage per point from a time-series CSV; writes point_id, x, y, stage, stage_zh, dates of change,
    last rate. Returns counts per stage."""
    from subsidence.science import stability

    ids, x, y, dates, series = read_series_csv(series_csv)
    try:
        res = stability.classify(dates, series, criteria)
    except ValueError as exc:
        raise ValidationFailed(f"{series_csv}: {exc}") from None
    names = res.stage_names()
    header = [
        "point_id",
        "x",
        "y",
        "stage",
        "stage_zh",
        "stage_since",
        "started_on",
        "active_from",
        "declining_from",
        "stable_from",
        "last_subsidence_mm",
        "last_rate_mm_per_day",
    ]
    last_rate = res.rate_mm_per_day[-1]
    last_w = stability._ffill(series)[-1]
    rows = []
    for i, pid in enumerate(ids):
        rows.append(
            [
                pid,
                "" if np.isnan(x[i]) else f"{x[i]:.3f}",
                "" if np.isnan(y[i]) else f"{y[i]:.3f}",
                names[i],
                stability.STAGES[int(res.stage[i])][1],
                _iso(res.stage_since[i]),
                _iso(res.started_on[i]),
                _iso(res.active_from[i]),
                _iso(res.declining_from[i]),
                _iso(res.stable_from[i]),
                "" if np.isnan(last_w[i]) else f"{last_w[i]:.2f}",
                "" if np.isnan(last_rate[i]) else f"{last_rate[i]:.3f}",
            ]
        )
    _write_csv_atomic(out_csv, header, rows)
    return {n: int(np.sum(names == n)) for n in dict.fromkeys(names)}


def stability_geotiff(
    series_tif: str | Path, out_tif: str | Path, criteria: Any = None, *, scale_to_mm: float = 1.0, sign: float = 1.0
) -> dict[str, int]:
    """Stage per pixel from a time-series GeoTIFF whose band descriptions are ISO dates (cumulative subsidence,
    mm positive down after ``sign`` and ``scale_to_mm``). Writes bands stage (code), stage_since, started_on,
    active_from, stable_from (days since 1970-01-01, NaN = never) and last_rate_mm_per_day."""
    from subsidence.io.raster import RasterError, read_geotiff, write_geotiff
    from subsidence.science import stability

    try:
        rd = read_geotiff(series_tif, require_metric=True)
    except RasterError as exc:
        raise ValidationFailed(str(exc)) from None
    try:
        dates = np.array([date.fromisoformat(n[:10]) for n in rd.names], dtype="datetime64[D]")
    except ValueError:
        raise ValidationFailed(
            f"{series_tif}: band descriptions must be ISO dates (YYYY-MM-DD); found {rd.names[:3]}..."
        ) from None
    series = rd.array.astype(float) * scale_to_mm * sign
    try:
        res = stability.classify(dates, series, criteria)
    except ValueError as exc:
        raise ValidationFailed(f"{series_tif}: {exc}") from None

    def days(a: np.ndarray) -> np.ndarray:
        out = a.astype("datetime64[D]").astype(np.int64).astype(float)
        out[np.isnat(a)] = np.nan
        return out

    bands = {
        "stage_code": res.stage.astype("float32"),
        "stage_since_days": days(res.stage_since),
        "started_on_days": days(res.started_on),
        "active_from_days": days(res.active_from),
        "stable_from_days": days(res.stable_from),
        "last_rate_mm_per_day": res.rate_mm_per_day[-1],
    }
    units = {"stage_code": "code", "last_rate_mm_per_day": "mm/d"}
    units.update({k: "days since 1970-01-01" for k in bands if k.endswith("_days")})
    codes = "; ".join(f"{k}={v[0]} {v[1]}" for k, v in stability.STAGES.items())
    write_geotiff(
        out_tif,
        bands,
        transform=rd.transform,
        crs=rd.crs,
        units=units,
        descriptions={"stage_code": codes},
        tags={"stage_codes": codes},
    )
    names = res.stage_names().ravel()
    return {n: int(np.sum(names == n)) for n in dict.fromkeys(names)}


# --------------------------------------------------------------------------------------------------
# damage
# --------------------------------------------------------------------------------------------------
DAMAGE_BANDS = ("tilt_max_mm_per_m", "curvature_max_1e-3_per_m", "strain_max_mm_per_m")


def damage_assessment(
    buildings: str | Path,
    prediction_tif: str | Path,
    out: str | Path,
    *,
    layer: str | None = None,
    thresholds: Any = None,
) -> dict[str, int]:
    """Damage grade per building from a prediction GeoTIFF (bands tilt_max, curvature_max, strain_max).

    ``out``: .csv (building attributes + indicators + grade) or a vector file (.gpkg/.geojson/.shp) with
    the footprints. Buildings are reprojected to the raster's CRS when their CRS differs.
    """
    from subsidence.geo import transform_geometry
    from subsidence.io.raster import RasterError, read_geotiff
    from subsidence.io.sniff import FormatError
    from subsidence.io.vector import read_vector, write_vector
    from subsidence.science import damage

    try:
        rd = read_geotiff(prediction_tif, bands=DAMAGE_BANDS, require_metric=True)
    except RasterError as exc:
        raise ValidationFailed(f"{exc}; predict with the default components first") from None
    try:
        table = read_vector(buildings, layer=layer, layer_hints=("buildings", "building", "建筑物"))
    except FormatError as exc:
        raise ValidationFailed(str(exc)) from None
    if table.crs is None:
        raise ValidationFailed(f"{buildings}: no CRS; assign one (e.g. EPSG:4546)")
    geoms = [None if g is None else transform_geometry(g, table.crs, rd.crs) for g in table.geometries]
    res = damage.footprint_damage(
        rd.band(DAMAGE_BANDS[0]),
        rd.band(DAMAGE_BANDS[1]),
        rd.band(DAMAGE_BANDS[2]),
        tuple(rd.transform)[:6],
        geoms,
        thresholds,
    )
    labels = {0: ("", "outside the prediction")}
    labels.update({k: (v[0], v[1]) for k, v in damage.GRADE_LABELS.items()})
    extra_cols = [
        "tilt_max_mm_per_m",
        "curvature_max_1e-3_per_m",
        "strain_max_mm_per_m",
        "damage_grade",
        "damage_grade_zh",
        "governing_indicator",
        "cells",
    ]
    extra = []
    for i in range(len(geoms)):
        g = int(res.grade[i])

        def fmt(v: float) -> Any:
            return None if np.isnan(v) else round(float(v), 4)

        extra.append(
            [
                fmt(res.tilt_mm_per_m[i]),
                fmt(res.curvature_1e3_per_m[i]),
                fmt(res.strain_mm_per_m[i]),
                labels[g][0],
                labels[g][1],
                res.governing[i],
                int(res.n_cells[i]),
            ]
        )
    out = Path(out)
    if out.suffix.lower() == ".csv":
        header = list(table.fields) + extra_cols
        _write_csv_atomic(
            out, header, ([*(rec.get(f) for f in table.fields), *e] for rec, e in zip(table.records, extra))
        )
    else:
        kinds = [_kind(table.records, f) for f in table.fields] + [
            "float",
            "float",
            "float",
            "str",
            "str",
            "str",
            "int",
        ]
        write_vector(
            out,
            columns=list(table.fields) + extra_cols,
            kinds=kinds,
            rows=[[*(rec.get(f) for f in table.fields), *e] for rec, e in zip(table.records, extra)],
            geometries=geoms,
            crs=rd.crs.to_string(),
            geometry_type="Polygon" if all(g is None or g.geom_type == "Polygon" for g in geoms) else "MultiPolygon",
            layer="building_damage",
        )
    counts: dict[str, int] = {}
    for g in res.grade:
        key = labels[int(g)][0] or "outside"
        counts[key] = counts.get(key, 0) + 1
    return counts


def _kind(records: list[dict], f: str) -> str:
    vals = [r.get(f) for r in records if r.get(f) is not None]
    if vals and all(isinstance(v, bool) for v in vals):
        return "bool"
    if vals and all(isinstance(v, int) and not isinstance(v, bool) for v in vals):
        return "int"
    if vals and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
        return "float"
    if vals and all(isinstance(v, date) for v in vals):
        return "date"
    return "str"
