"""Data model: an interferogram stack (dates, pairs, wavelength, grid) and a deformation product.

Pixel data stay on disk behind a :class:`BlockSource` (reads a band of rows) so that a county-size stack is never
loaded whole; sources are small, picklable objects (a path and names) so Dask workers can open the files themselves.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

import numpy as np
from affine import Affine
from pyproj import CRS


class InSARInputError(ValueError):
    """Input that cannot be used, with a message naming the file, the field and the fix."""


def parse_yyyymmdd(text: str | bytes | int, *, source: str = "input") -> date:
    """``"20200113"`` (str, bytes or int) -> date; InSARInputError naming ``source`` otherwise."""
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    s = str(text).strip()
    try:
        return datetime.strptime(s, "%Y%m%d").date()
    except ValueError:
        raise InSARInputError(f"{source}: {s!r} is not a date in YYYYMMDD form") from None


def yyyymmdd(d: date) -> str:
    return d.strftime("%Y%m%d")


@dataclass(frozen=True)
class Grid:
    """A georeferenced raster grid: ``transform`` maps (col, row) of pixel *corners* to map x, y in ``crs``.

    ``crs`` is None only for a stack in radar coordinates (rows = azimuth lines, cols = range samples, identity
    transform); such a grid is placed on a map by its lookup table (:mod:`subsidence.insar.geocode`), never by the
    transform.
    """

    transform: Affine
    crs: CRS | None
    shape: tuple[int, int]  # (rows, cols)

    @classmethod
    def radar(cls, shape: tuple[int, int]) -> Grid:
        """The grid of a radar-coordinate stack (no CRS; pixel (row, col) = (azimuth line, range sample))."""
        return cls(Affine.identity(), None, (int(shape[0]), int(shape[1])))

    @property
    def is_radar(self) -> bool:
        return self.crs is None

    @property
    def rows(self) -> int:
        return self.shape[0]

    @property
    def cols(self) -> int:
        return self.shape[1]

    def xy(self, row: float, col: float) -> tuple[float, float]:
        """Map coordinates of the centre of pixel (row, col)."""
        x, y = self.transform @ (col + 0.5, row + 0.5)
        return float(x), float(y)

    def same_as(self, other: Grid, tol: float = 1e-6) -> bool:
        return (
            self.shape == other.shape
            and self.crs == other.crs
            and self.transform.almost_equals(other.transform, precision=tol)
        )

    # --- MintPy attributes: X_FIRST/Y_FIRST are the upper-left *corner*, X_STEP/Y_STEP the pixel size ---
    def mintpy_attrs(self) -> dict[str, str]:
        if self.crs is None:  # radar coordinates: MintPy writes no X_FIRST/Y_FIRST
            return {"LENGTH": str(self.rows), "WIDTH": str(self.cols)}
        t = self.transform
        epsg = self.crs.to_epsg()
        unit = "degrees" if self.crs.is_geographic else "meters"
        attrs = {
            "LENGTH": str(self.rows),
            "WIDTH": str(self.cols),
            "X_FIRST": repr(float(t.c)),
            "Y_FIRST": repr(float(t.f)),
            "X_STEP": repr(float(t.a)),
            "Y_STEP": repr(float(t.e)),
            "X_UNIT": unit,
            "Y_UNIT": unit,
        }
        if epsg is not None:
            attrs["EPSG"] = str(epsg)
        else:
            attrs["CRS_WKT"] = self.crs.to_wkt()
        return attrs


@dataclass(frozen=True)
class BlockData:
    """One band of rows: unwrapped phase (m, r, w) float32 rad (NaN or 0 = no data), coherence or None."""

    phase: np.ndarray
    coherence: np.ndarray | None


class BlockSource(Protocol):
    """Reads a band of rows [r0, r1) of every interferogram (in the stack's pair order). Must be picklable."""

    def read_rows(self, r0: int, r1: int) -> BlockData: ...


@dataclass
class IfgramStack:
    """An unwrapped interferogram stack in map geometry, or in radar geometry with its lookup table.

    ``pairs`` are (date1, date2) with date1 < date2, in the order of the source's first axis; phase of a pair is
    phase(date2) - phase(date1) in radians. ``looks`` is the number of independent looks L of the coherence
    estimate (used for the Fisher-information weights; it scales all weights alike, so it does not change the
    solution, only the reported uncertainty). ``ref_yx`` is the reference pixel stated by the file, if any.
    """

    pairs: list[tuple[date, date]]
    wavelength_m: float
    grid: Grid
    source: BlockSource
    has_coherence: bool
    looks: float = 1.0
    ref_yx: tuple[int, int] | None = None
    bperp_m: np.ndarray | None = None  # per pair, metres
    origin: str = ""  # file/folder it came from, for messages
    kind: str = ""  # "mintpy", "licsbas", "geotiff-pairs"
    attrs: dict[str, str] = field(default_factory=dict)  # source metadata carried into the outputs
    #: radar-coordinate stacks (``grid.crs is None``): the geometry file with per-pixel latitude/longitude
    #: (:class:`subsidence.insar.geocode.RadarGeometry`); the outputs are geocoded with it
    geometry: Any = None
    #: map-geometry stacks that come with per-pixel angles (ASF HyP3 lv_theta/lv_phi, DEM): name -> (rows, cols)
    #: float32 in MintPy's conventions (``incidenceAngle`` degrees from vertical, ``azimuthAngle`` degrees from north
    #: anti-clockwise, ``height`` m); written to ``geometryGeo.h5`` beside the products
    map_geometry: dict[str, np.ndarray] | None = None

    @property
    def dates(self) -> list[date]:
        return sorted({d for p in self.pairs for d in p})

    @property
    def shape(self) -> tuple[int, int]:
        return self.grid.shape

    def pair_names(self) -> list[str]:
        return [f"{yyyymmdd(a)}_{yyyymmdd(b)}" for a, b in self.pairs]


@dataclass
class Deformation:
    """A deformation product on a grid (see the package docstring for the contract).

    ``cumulative_m`` (n_dates, rows, cols) and ``velocity_m_per_yr`` (rows, cols) are metres along ``direction``:
    ``"los"`` = line of sight, positive toward the satellite; ``"up"`` = vertical, positive up. NaN = no data.
    """

    grid: Grid
    dates: tuple[date, ...] = ()
    cumulative_m: np.ndarray | None = None
    velocity_m_per_yr: np.ndarray | None = None
    temporal_coherence: np.ndarray | None = None
    bridged: np.ndarray | None = None
    direction: str = "los"  # "los": toward the satellite; "up": vertical, up positive
    source: str = ""
    ref_yx: tuple[int, int] | None = None
    incidence_deg: float | None = None  # when the product states it (e.g. MintPy CENTER_INCIDENCE_ANGLE)
    #: per-pixel incidence angle (degrees from vertical, rows x cols), from the geometry file of a stack geocoded
    #: with its lookup table; preferred over the scalar ``incidence_deg`` for LOS -> vertical
    incidence_map_deg: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    def _to_subsidence_mm(self, los_m, incidence_deg):
        from subsidence.insar.convention import (
            los_m_to_subsidence_mm,
            vertical_up_m_to_subsidence_mm,
        )

        if self.direction == "up":
            return vertical_up_m_to_subsidence_mm(los_m)
        if incidence_deg is None:
            incidence_deg = self.incidence_map_deg if self.incidence_map_deg is not None else self.incidence_deg
        if incidence_deg is None:
            raise InSARInputError(
                f"{self.source or 'deformation'}: LOS product; give the incidence angle (degrees from vertical, "
                "e.g. 39 for Sentinel-1 IW mid-swath) to convert LOS to vertical subsidence"
            )
        return los_m_to_subsidence_mm(los_m, incidence_deg)

    def subsidence_mm(self, incidence_deg=None, date_index: int = -1) -> np.ndarray:
        """Cumulative subsidence (mm, positive downward) at ``dates[date_index]`` relative to ``dates[0]``."""
        if self.cumulative_m is None:
            raise InSARInputError(f"{self.source or 'deformation'}: no cumulative displacement in this product")
        return self._to_subsidence_mm(self.cumulative_m[date_index], incidence_deg)

    def subsidence_rate_mm_per_yr(self, incidence_deg=None) -> np.ndarray:
        """Subsidence rate (mm/yr, positive downward)."""
        if self.velocity_m_per_yr is None:
            raise InSARInputError(f"{self.source or 'deformation'}: no velocity in this product")
        return self._to_subsidence_mm(self.velocity_m_per_yr, incidence_deg)

    # --- conveniences for consumers (census adapter): same data, mm, direction unchanged ---
    @property
    def transform(self) -> Affine:
        return self.grid.transform

    @property
    def crs(self) -> CRS:
        return self.grid.crs

    @property
    def timeseries_mm(self) -> np.ndarray | None:
        """``cumulative_m`` in mm along ``direction`` (LOS: positive toward the satellite — NOT subsidence)."""
        return None if self.cumulative_m is None else self.cumulative_m * 1000.0

    @property
    def velocity_mm_per_yr(self) -> np.ndarray | None:
        """``velocity_m_per_yr`` in mm/yr along ``direction`` (LOS: positive toward the satellite)."""
        return None if self.velocity_m_per_yr is None else self.velocity_m_per_yr * 1000.0

    def replace(self, **changes) -> Deformation:
        return dataclasses.replace(self, **changes)


def h5_attr(attrs, key: str, default=None):
    """An HDF5 attribute as a plain Python value (bytes decoded, one-element arrays unwrapped), as MintPy writes them."""
    v = attrs.get(key, default)
    if isinstance(v, bytes):
        v = v.decode()
    if isinstance(v, np.ndarray) and v.size == 1:
        v = v.item()
        if isinstance(v, bytes):
            v = v.decode()
    return v
