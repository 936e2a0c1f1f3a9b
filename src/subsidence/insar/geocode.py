"""Radar-coordinate stacks: the geometry file (lookup table) and geocoding onto a regular map grid.

A MintPy stack straight from ISCE/topsStack is in radar geometry: ``ifgramStack.h5`` has no X_FIRST/Y_FIRST and
``geometryRadar.h5`` (same folder, MintPy ``inputs/``) holds per-pixel ``latitude``/``longitude`` (degrees, WGS84),
``height`` (m), ``incidenceAngle`` (degrees from vertical at the target), ``azimuthAngle`` (degrees, LOS from the
ground to the satellite, from north, anti-clockwise positive), ``slantRangeDistance`` (m), ``shadowMask`` (True =
shadow) and ``waterMask`` (True = land) — MintPy ``docs/api/data_structure.md``. We invert in radar coordinates (every
interferogram is on the radar grid, so nothing is resampled before the network inversion, as in MintPy) and geocode
the products with the lookup table.

Geocoding (:class:`Lookup`): the radar pixels' ground positions are projected into the target CRS; every radar cell
(four neighbouring pixels) is split into two triangles and every output pixel centre is located in the triangle
that contains it. ``nearest`` takes the triangle vertex with the largest barycentric weight (the nearest radar
pixel in the cell's own frame; MintPy's default is nearest too), ``linear`` the barycentric interpolation (no-data
vertices dropped and the rest renormalised when they hold at least half the weight). Triangles with an invalid
vertex (NaN or 0/0 lat/lon, shadow) or an edge longer than ``max_edge_factor`` x the median radar spacing (a gap in
the lookup table) give no data, so nothing is smeared across holes. Cost O(pixels): no KD-tree or Delaunay
triangulation of a county-size scene.

Target grid: the local CGCS2000 3-degree Gauss-Krueger zone (EPSG 4534-4554 by central meridian, the storage CRS
family) for longitudes 73.5-136.5 E, else the WGS84 UTM zone; square pixels of the radar cell's ground area
(rounded to 1 m below 10 m, else to 5 m) unless given; edges snapped to whole multiples of the spacing.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from affine import Affine
from pyproj import CRS
from pyproj.exceptions import CRSError

from subsidence.insar.stack import Grid, InSARInputError
from subsidence.insar.stack import h5_attr as _attr

log = logging.getLogger(__name__)

GEOMETRY_NAMES = ("geometryRadar.h5",)
#: 2-D datasets of MintPy's geometry file we carry (float32 unless a mask; MintPy docs/api/data_structure.md)
GEOMETRY_DATASETS = (
    "latitude",
    "longitude",
    "height",
    "incidenceAngle",
    "azimuthAngle",
    "slantRangeDistance",
    "shadowMask",
    "waterMask",
)
METHODS = ("nearest", "linear")


def find_geometry_file(stack_path: str | Path) -> Path | None:
    """The geometry file beside a radar-coordinate stack: ``geometryRadar.h5`` in the same folder, in ``inputs/``
    below it, or in ``../inputs/`` (MintPy: ``mintpy/inputs/{ifgramStack,geometryRadar}.h5``)."""
    p = Path(stack_path)
    for folder in (p.parent, p.parent / "inputs", p.parent.parent / "inputs"):
        for name in GEOMETRY_NAMES:
            cand = folder / name
            if cand.is_file():
                return cand
    return None


@dataclass
class RadarGeometry:
    """A MintPy geometry file in radar coordinates, checked; datasets read on demand (float64, NaN = no data)."""

    path: str
    shape: tuple[int, int]
    attrs: dict = field(default_factory=dict)
    datasets: tuple[str, ...] = ()
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def read(self, name: str) -> np.ndarray | None:
        """Dataset ``name`` as float64 (masks as bool), or None if the file lacks it."""
        import h5py

        if name not in self.datasets:
            return None
        with h5py.File(self.path, "r") as f:
            a = np.asarray(f[name][:])
        if name.endswith("Mask"):
            return a.astype(bool)
        return a.astype(np.float64)

    def lat_lon(self) -> tuple[np.ndarray, np.ndarray]:
        """Latitude, longitude (degrees) with no-data (NaN, 0/0 as ISCE writes outside the DEM, out of range, shadow)
        as NaN (read once, then cached)."""
        if "latlon" in self._cache:
            return self._cache["latlon"]
        lat, lon = self.read("latitude"), self.read("longitude")
        bad = (
            ~np.isfinite(lat) | ~np.isfinite(lon) | ((lat == 0) & (lon == 0)) | (np.abs(lat) > 90) | (np.abs(lon) > 360)
        )
        shadow = self.read("shadowMask")
        if shadow is not None:
            bad |= shadow
        lat = np.where(bad, np.nan, lat)
        lon = np.where(bad, np.nan, lon)
        self._cache["latlon"] = (lat, lon)
        return lat, lon

    def incidence_deg(self) -> np.ndarray | None:
        inc = self.read("incidenceAngle")
        if inc is None:
            return None
        return np.where((inc > 0) & (inc < 90), inc, np.nan)


def open_radar_geometry(
    path: str | Path, *, shape: tuple[int, int] | None = None, stack_origin: str = "the stack"
) -> RadarGeometry:
    """Open and check a MintPy ``geometryRadar.h5`` (FILE_TYPE geometry, latitude/longitude per pixel, the stack's
    shape). Every problem is an :class:`InSARInputError` naming the file, what was expected and the fix."""
    import h5py

    p = Path(path)
    src = str(p)
    if not p.exists():
        raise InSARInputError(
            f"{src}: geometry file not found; give the MintPy geometryRadar.h5 of {stack_origin} (--geometry PATH)"
        )
    try:
        f = h5py.File(p, "r")
    except OSError as exc:
        raise InSARInputError(
            f"{src}: not a readable HDF5 file ({exc}); expected MintPy's geometryRadar.h5 with "
            "latitude/longitude per radar pixel (mintpy/inputs/geometryRadar.h5)"
        ) from None
    with f:
        attrs = {k: _attr(f.attrs, k) for k in f.attrs}
        names = tuple(k for k in f if isinstance(f[k], h5py.Dataset))
        ftype = attrs.get("FILE_TYPE")
        if ftype not in (None, "geometry"):
            raise InSARInputError(f"{src}: FILE_TYPE is {ftype!r}, expected 'geometry' (MintPy geometryRadar.h5)")
        missing = [n for n in ("latitude", "longitude") if n not in names]
        if missing:
            raise InSARInputError(
                f"{src}: dataset(s) {', '.join(missing)} missing; a radar-coordinate stack is geocoded with the "
                "per-pixel latitude/longitude of MintPy's geometryRadar.h5 (load_data.py with "
                "mintpy.load.lookupYFile/lookupXFile = lat.rdr/lon.rdr)"
            )
        shp = tuple(int(v) for v in f["latitude"].shape)
        if len(shp) != 2 or tuple(f["longitude"].shape) != shp:
            raise InSARInputError(
                f"{src}: latitude {f['latitude'].shape} and longitude {f['longitude'].shape} must "
                "be 2-D arrays of the same shape"
            )
        for n in names:
            if n in GEOMETRY_DATASETS and tuple(f[n].shape) != shp:
                raise InSARInputError(f"{src}: dataset {n} has shape {f[n].shape}, latitude has {shp}")
    if attrs.get("X_FIRST") is not None:
        raise InSARInputError(
            f"{src}: this geometry file is geocoded (X_FIRST/Y_FIRST attributes), but {stack_origin} is in radar "
            "coordinates; give the radar-coordinate geometryRadar.h5 (mintpy/inputs/), not geo_geometryRadar.h5"
        )
    if shape is not None and shp != tuple(shape):
        raise InSARInputError(
            f"{src}: {shp[0]} x {shp[1]} pixels but {stack_origin} has {shape[0]} x {shape[1]}; the geometry file must "
            "come from the same processing (same looks and subset) as the interferograms"
        )
    return RadarGeometry(path=src, shape=shp, attrs=attrs, datasets=names)


# ----------------------------------------------------------------------------------------------------------------
# target grid
# ----------------------------------------------------------------------------------------------------------------
def local_metric_crs(lon: float, lat: float) -> CRS:
    """CGCS2000 3-degree Gauss-Krueger zone by central meridian (EPSG:4534 = CM 75E ... 4554 = CM 135E) inside
    China's zones, else the WGS84 UTM zone."""
    cm = int(round(lon / 3.0) * 3)
    if 75 <= cm <= 135 and 15 <= lat <= 55:
        return CRS.from_epsg(4534 + (cm - 75) // 3)
    zone = int((lon + 180) // 6) % 60 + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def _nice_spacing(v: float) -> float:
    if v < 10:
        return max(1.0, float(round(v)))
    return float(max(5.0, 5.0 * round(v / 5.0)))


def _median_spacing(x: np.ndarray, y: np.ndarray, axis: int) -> float:
    d = np.hypot(np.diff(x, axis=axis), np.diff(y, axis=axis))
    d = d[np.isfinite(d)]
    return float(np.median(d)) if d.size else float("nan")


# ----------------------------------------------------------------------------------------------------------------
# lookup
# ----------------------------------------------------------------------------------------------------------------
@dataclass
class Lookup:
    """Precomputed resampling from a radar grid (L x W) to a map grid: for every output pixel the three radar pixels
    of its triangle (flat indices, -1 = outside) and their barycentric weights."""

    grid: Grid
    radar_shape: tuple[int, int]
    vertices: np.ndarray  # (rows*cols, 3) int32/int64, -1 where no triangle
    weights: np.ndarray  # (rows*cols, 3) float32
    method: str = "nearest"
    radar_spacing_m: tuple[float, float] = (float("nan"), float("nan"))  # along rows (azimuth), along cols (range)

    @property
    def covered(self) -> np.ndarray:
        return (self.vertices[:, 0] >= 0).reshape(self.grid.shape)

    def nearest_index(self) -> np.ndarray:
        """(rows*cols,) flat radar index of the vertex with the largest weight, -1 outside."""
        k = np.argmax(self.weights, axis=1)
        idx = self.vertices[np.arange(len(k)), k]
        return np.where(self.vertices[:, 0] >= 0, idx, -1)

    def apply(self, data: np.ndarray, *, method: str | None = None, fill=np.nan) -> np.ndarray:
        """Resample ``data`` (..., L, W) onto the map grid (..., rows, cols). Integer/bool data always nearest."""
        data = np.asarray(data)
        if data.shape[-2:] != self.radar_shape:
            raise ValueError(f"data {data.shape} is not on the {self.radar_shape} radar grid")
        method = method or self.method
        lead = data.shape[:-2]
        flat = data.reshape(lead + (-1,))
        rows, cols = self.grid.shape
        inside = self.vertices[:, 0] >= 0
        if method == "nearest" or not np.issubdtype(data.dtype, np.floating):
            idx = self.nearest_index()
            out_dtype = (
                data.dtype if not np.issubdtype(data.dtype, np.floating) else np.result_type(data.dtype, np.float32)
            )
            out = np.full(lead + (rows * cols,), fill if np.issubdtype(out_dtype, np.floating) else 0, dtype=out_dtype)
            out[..., inside] = flat[..., idx[inside]]
            return out.reshape(lead + (rows, cols))
        v = self.vertices[inside]
        w = self.weights[inside]
        vals = flat[..., v]  # (..., n, 3)
        ok = np.isfinite(vals)
        wsum = np.sum(np.where(ok, w, 0.0), axis=-1)
        num = np.sum(np.where(ok, vals * w, 0.0), axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            res = np.where(wsum >= 0.5, num / wsum, np.nan)
        out = np.full(lead + (rows * cols,), np.nan, dtype=np.result_type(data.dtype, np.float32))
        out[..., inside] = res
        return out.reshape(lead + (rows, cols))


def build_lookup(
    lat: np.ndarray,
    lon: np.ndarray,
    *,
    crs: CRS | str | int | None = None,
    spacing_m: float | None = None,
    method: str = "nearest",
    max_edge_factor: float = 3.0,
    source: str = "geometry",
) -> Lookup:
    """Lookup from per-pixel ``lat``/``lon`` (degrees, NaN = no data) to a regular grid in ``crs`` (default: the
    local GK/UTM zone) with square pixels of ``spacing_m`` (map units; default: the radar cell's ground area)."""
    from pyproj import Transformer

    if method not in METHODS:
        raise InSARInputError(f"geocoding method {method!r}: use one of {', '.join(METHODS)}")
    lat = np.asarray(lat, float)
    lon = np.asarray(lon, float)
    L, W = lat.shape
    if L < 2 or W < 2:
        raise InSARInputError(f"{source}: a {L} x {W} lookup table cannot be geocoded (need at least 2 x 2 pixels)")
    ok = np.isfinite(lat) & np.isfinite(lon)
    if not ok.any():
        raise InSARInputError(f"{source}: latitude/longitude are no-data everywhere; nothing can be geocoded")
    if crs is None:
        crs = local_metric_crs(float(np.nanmedian(lon)), float(np.nanmedian(lat)))
    try:
        crs = CRS.from_user_input(crs)
    except CRSError:
        raise InSARInputError(
            f"geocoding CRS {crs!r} is not a CRS pyproj knows; give e.g. EPSG:4546 (CGCS2000 GK "
            "CM 111E) or EPSG:32649 (UTM 49N)"
        ) from None
    if crs.is_geographic:
        raise InSARInputError(
            f"geocoding CRS {crs.to_string()} is geographic; give a projected CRS in metres "
            "(e.g. EPSG:4546, CGCS2000 GK CM 111E) so that areas are right"
        )
    tr = Transformer.from_crs(CRS.from_epsg(4326), crs, always_xy=True)
    x = np.full(lat.shape, np.nan)
    y = np.full(lat.shape, np.nan)
    x[ok], y[ok] = tr.transform(lon[ok], lat[ok])
    ds_row = _median_spacing(x, y, 0)
    ds_col = _median_spacing(x, y, 1)
    if not (np.isfinite(ds_row) and np.isfinite(ds_col)) or ds_row <= 0 or ds_col <= 0:
        raise InSARInputError(f"{source}: the lookup table has no two neighbouring valid pixels; cannot geocode")
    if spacing_m is None:
        cell = np.abs(
            np.diff(x, axis=1)[:-1] * np.diff(y, axis=0)[:, :-1] - np.diff(y, axis=1)[:-1] * np.diff(x, axis=0)[:, :-1]
        )
        cell = cell[np.isfinite(cell)]
        spacing_m = _nice_spacing(math.sqrt(float(np.median(cell))) if cell.size else min(ds_row, ds_col))
    if not spacing_m > 0:
        raise InSARInputError(f"geocoding spacing {spacing_m!r}: must be a positive length in metres")
    sp = float(spacing_m)
    x0 = math.floor(np.nanmin(x) / sp) * sp
    y1 = math.ceil(np.nanmax(y) / sp) * sp
    cols = math.ceil((np.nanmax(x) - x0) / sp) + 1
    rows = math.ceil((y1 - np.nanmin(y)) / sp) + 1
    if rows * cols > 400_000_000:
        raise InSARInputError(f"geocoding at {sp} m gives {rows} x {cols} pixels; give a coarser --spacing")
    grid = Grid(Affine(sp, 0.0, x0, 0.0, -sp, y1), crs, (rows, cols))
    # int32 indices and float32 weights: 24 bytes per output pixel (a 3000 x 3000 grid: 216 MB)
    verts = np.full((rows * cols, 3), -1, dtype=np.int32 if L * W < 2**31 - 1 else np.int64)
    wts = np.zeros((rows * cols, 3), dtype=np.float32)
    max_edge = max_edge_factor * max(ds_row, ds_col)
    idx = np.arange(L * W, dtype=np.int64).reshape(L, W)
    # the two triangles of every radar cell: (r,c)(r,c+1)(r+1,c) and (r+1,c+1)(r+1,c)(r,c+1)
    tris = [(idx[:-1, :-1], idx[:-1, 1:], idx[1:, :-1]), (idx[1:, 1:], idx[1:, :-1], idx[:-1, 1:])]
    xf, yf = x.ravel(), y.ravel()
    for a, b, c in tris:
        a, b, c = a.ravel(), b.ravel(), c.ravel()
        xa, ya, xb, yb, xc, yc = xf[a], yf[a], xf[b], yf[b], xf[c], yf[c]
        good = np.isfinite(xa + ya + xb + yb + xc + yc)
        for (p, q), (s, t) in (((xa, ya), (xb, yb)), ((xb, yb), (xc, yc)), ((xc, yc), (xa, ya))):
            with np.errstate(invalid="ignore"):
                good &= np.hypot(p - s, q - t) <= max_edge
        det = (yb - yc) * (xa - xc) + (xc - xb) * (ya - yc)
        with np.errstate(invalid="ignore"):
            good &= np.abs(det) > 1e-12
        a, b, c = a[good], b[good], c[good]
        xa, ya, xb, yb, xc, yc, det = xa[good], ya[good], xb[good], yb[good], xc[good], yc[good], det[good]
        # output pixel centres (col + 0.5, row + 0.5) inside each triangle's bounding box
        cmin = np.ceil((np.minimum(np.minimum(xa, xb), xc) - x0) / sp - 0.5).astype(np.int64)
        cmax = np.floor((np.maximum(np.maximum(xa, xb), xc) - x0) / sp - 0.5).astype(np.int64)
        rmin = np.ceil((y1 - np.maximum(np.maximum(ya, yb), yc)) / sp - 0.5).astype(np.int64)
        rmax = np.floor((y1 - np.minimum(np.minimum(ya, yb), yc)) / sp - 0.5).astype(np.int64)
        nc = int((cmax - cmin).max(initial=-1)) + 1
        nr = int((rmax - rmin).max(initial=-1)) + 1
        for dr in range(nr):
            for dc in range(nc):
                ci, ri = cmin + dc, rmin + dr
                m = (ci <= cmax) & (ri <= rmax) & (ci >= 0) & (ci < cols) & (ri >= 0) & (ri < rows)
                if not m.any():
                    continue
                px = x0 + (ci[m] + 0.5) * sp
                py = y1 - (ri[m] + 0.5) * sp
                l1 = ((yb[m] - yc[m]) * (px - xc[m]) + (xc[m] - xb[m]) * (py - yc[m])) / det[m]
                l2 = ((yc[m] - ya[m]) * (px - xc[m]) + (xa[m] - xc[m]) * (py - yc[m])) / det[m]
                l3 = 1.0 - l1 - l2
                inside = (l1 >= -1e-9) & (l2 >= -1e-9) & (l3 >= -1e-9)
                if not inside.any():
                    continue
                out = ri[m][inside] * cols + ci[m][inside]
                verts[out] = np.stack([a[m][inside], b[m][inside], c[m][inside]], axis=1)
                wts[out] = np.stack([l1[inside], l2[inside], l3[inside]], axis=1)
    if not (verts[:, 0] >= 0).any():
        raise InSARInputError(f"{source}: no output pixel falls inside the lookup table; check latitude/longitude")
    log.debug(
        "lookup %d x %d radar -> %d x %d map pixels of %.1f m (%s), radar spacing %.1f / %.1f m",
        L,
        W,
        rows,
        cols,
        sp,
        crs.to_string(),
        ds_row,
        ds_col,
    )
    return Lookup(
        grid=grid, radar_shape=(L, W), vertices=verts, weights=wts, method=method, radar_spacing_m=(ds_row, ds_col)
    )


def lookup_for(geometry: RadarGeometry, *, crs=None, spacing_m: float | None = None, method: str = "nearest") -> Lookup:
    """:func:`build_lookup` from a geometry file's latitude/longitude."""
    lat, lon = geometry.lat_lon()
    return build_lookup(lat, lon, crs=crs, spacing_m=spacing_m, method=method, source=geometry.path)


# ----------------------------------------------------------------------------------------------------------------
# products
# ----------------------------------------------------------------------------------------------------------------
#: radar-coordinate products of ``run_timeseries`` and how each dataset is resampled
_PRODUCTS = {
    "timeseries.h5": {"timeseries": None},
    "velocity.h5": {"velocity": None, "velocityStd": None, "intercept": None, "interceptStd": None, "residue": None},
    "temporalCoherence.h5": {"temporalCoherence": None},
    "numInvIfgram.h5": {"mask": "nearest"},
    "bridged.h5": {"bridged": "nearest", "numComponents": "nearest"},
}


def geocode_products(
    radar_dir: Path, out_dir: Path, lookup: Lookup, geometry: RadarGeometry, ref_yx: tuple[int, int]
) -> dict:
    """Geocode the radar-coordinate HDF5 products in ``radar_dir`` into ``out_dir`` (same names, MintPy layout with
    X_FIRST/Y_FIRST/EPSG), date by date; write ``geometryGeo.h5`` (incidence, azimuth, height, slant range, masks on
    the map grid). Returns facts for the summary."""
    import h5py

    from subsidence.insar.writers import base_attrs, create_h5

    grid = lookup.grid
    lat, lon = geometry.lat_lon()
    ry, rx = ref_yx
    ref_lat, ref_lon = float(lat[ry, rx]), float(lon[ry, rx])
    from pyproj import Transformer

    ref_x, ref_y = Transformer.from_crs(CRS.from_epsg(4326), grid.crs, always_xy=True).transform(ref_lon, ref_lat)
    col, row = ~grid.transform @ (ref_x, ref_y)
    ref_map = (math.floor(row), math.floor(col))
    for name, dsets in _PRODUCTS.items():
        src = radar_dir / name
        if not src.exists():
            continue
        with h5py.File(src, "r") as f:
            attrs = {k: _attr(f.attrs, k) for k in f.attrs}
            a = base_attrs(grid, attrs)
            a.update(
                {
                    "FILE_TYPE": attrs.get("FILE_TYPE", ""),
                    "UNIT": attrs.get("UNIT", ""),
                    "REF_Y": str(ref_map[0]),
                    "REF_X": str(ref_map[1]),
                    "REF_LAT": repr(ref_lat),
                    "REF_LON": repr(ref_lon),
                    "REF_EASTING": repr(float(ref_x)),
                    "REF_NORTHING": repr(float(ref_y)),
                    "subsidence.geocode.method": lookup.method,
                    "subsidence.geocode.lookup": geometry.path,
                    "subsidence.geocode.radarRefYX": f"{ry},{rx}",
                }
            )
            if "REF_DATE" in attrs:
                a["REF_DATE"] = attrs["REF_DATE"]
            spec: dict = {}
            for k in f:
                ds = f[k]
                if k in dsets:
                    shape = ds.shape[:-2] + grid.shape
                    dtype = ds.dtype if dsets[k] == "nearest" else np.float32
                    spec[k] = (dtype, shape, None, _attr(ds.attrs, "UNIT"))
                else:  # date, bperp: copied
                    spec[k] = (ds.dtype, ds.shape, ds[()])
            g = create_h5(out_dir / name, spec, a, chunk_rows=min(grid.rows, 64))
            try:
                for k, method in dsets.items():
                    if k not in f:
                        continue
                    ds = f[k]
                    if ds.ndim == 3:
                        for i in range(ds.shape[0]):
                            g[k][i] = lookup.apply(ds[i], method=method)
                    else:
                        g[k][...] = lookup.apply(ds[()], method=method)
            finally:
                g.close()
    geo_spec: dict = {}
    for k in ("incidenceAngle", "azimuthAngle", "height", "slantRangeDistance", "latitude", "longitude"):
        v = geometry.read(k)
        if v is not None:
            if k in ("latitude", "longitude"):
                v = lat if k == "latitude" else lon
            geo_spec[k] = (np.float32, grid.shape, lookup.apply(v, method="linear"))
    for k in ("shadowMask", "waterMask"):
        v = geometry.read(k)
        if v is not None:
            geo_spec[k] = (np.bool_, grid.shape, lookup.apply(v, method="nearest"))
    write_map_geometry(
        out_dir,
        grid,
        {k: v[2] for k, v in geo_spec.items()},
        {**geometry.attrs, "subsidence.geocode.lookup": geometry.path},
    )
    return {
        "lookup": geometry.path,
        "method": lookup.method,
        "crs": grid.crs.to_string(),
        "spacing_m": float(grid.transform.a),
        "shape": list(grid.shape),
        "radar_shape": list(lookup.radar_shape),
        "radar_spacing_m": [round(v, 2) for v in lookup.radar_spacing_m],
        "covered_pixels": int(lookup.covered.sum()),
        "reference_map_yx": list(ref_map),
        "reference_lat_lon": [ref_lat, ref_lon],
    }


def write_map_geometry(out_dir: Path, grid: Grid, arrays: dict[str, np.ndarray], attrs: dict | None = None) -> None:
    """``geometryGeo.h5`` (MintPy geometry layout on the map grid: incidenceAngle/azimuthAngle degrees, height m,
    masks bool) and ``incidence_angle_deg.tif``; read back by :func:`subsidence.insar.read_deformation`."""
    from subsidence.insar.writers import base_attrs, create_h5, write_geotiff

    spec = {k: ((np.bool_ if k.endswith("Mask") else np.float32), grid.shape, v) for k, v in arrays.items()}
    ga = base_attrs(grid, attrs or {})
    ga["FILE_TYPE"] = "geometry"
    create_h5(out_dir / "geometryGeo.h5", spec, ga).close()
    if "incidenceAngle" in arrays:
        write_geotiff(
            out_dir / "incidence_angle_deg.tif",
            arrays["incidenceAngle"],
            grid,
            name="incidence_angle_deg",
            unit="degree",
            kind="incidence",
            description="incidence angle of the LOS at the target, degrees from vertical",
        )
