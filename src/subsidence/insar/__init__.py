"""InSAR: readers, our small-baseline (SBAS/NSBAS) time-series solver, MintPy-compatible writers.

Sign convention (one, everywhere; see ``convention.py``):
    line-of-sight (LOS) displacement is **positive toward the satellite** (MintPy, LiCSBAS);
    phase -> LOS metres is ``d = -lambda / (4 pi) * phi`` (:func:`phase_rad_to_los_m`);
    subsidence in mm, positive downward, from one LOS geometry under a vertical-only assumption is
    :func:`los_m_to_subsidence_mm` (``-d / cos(incidence) * 1000``). Never divide by hand.

API for consumers (census, basins, reports)
-------------------------------------------
``read_deformation(path) -> Deformation``
    Any deformation product: our ``subsidence timeseries`` output folder, MintPy ``timeseries.h5`` /
    ``velocity.h5``, LiCSBAS ``cum.h5``, or a plain GeoTIFF (velocity / cumulative displacement).
    ``Deformation`` carries:
      - ``dates``: tuple[datetime.date, ...] (empty for a velocity-only product),
      - ``cumulative_m``: float32 (n_dates, rows, cols) metres, first date = 0, or None,
      - ``velocity_m_per_yr``: float32 (rows, cols) m/yr, or None,
      - ``direction``: ``"los"`` (line of sight, positive toward the satellite) or ``"up"`` (vertical, up
        positive; DEM difference),
      - ``temporal_coherence``: float32 (rows, cols) or None; ``bridged``: bool (rows, cols) or None
        (True where an NSBAS velocity-model bridge supplied the motion across a network gap),
      - ``grid: Grid`` with ``transform`` (rasterio ``Affine``, pixel corners), ``crs`` (pyproj ``CRS``),
        ``shape``; NaN = no data.
    ``Deformation.subsidence_mm(incidence_deg)`` and ``subsidence_rate_mm_per_yr(incidence_deg)`` give
    mm positive downward (vertical-only assumption), the unit the mining literature uses; ``incidence_deg`` is
    taken from the product when it states one (MintPy CENTER_INCIDENCE_ANGLE), else it must be given.
    Conveniences: ``.transform``, ``.crs``, ``.timeseries_mm`` / ``.velocity_mm_per_yr`` (same direction as the
    product — LOS toward the satellite is NOT subsidence); ``readers.read_product`` is an alias of
    ``read_deformation``.
``dem_difference(before_tif, after_tif) -> Deformation`` (``direction="up"``, velocity None).

Solver (pure numpy, in :mod:`subsidence.insar.sbas`): ``Network.from_pairs(pairs)``,
``invert_pixels(network, phase, weight, ...)`` -> ``SbasSolution``; orchestration with Dask over row blocks
and MintPy-compatible output in :mod:`subsidence.insar.pipeline` (``run_timeseries``); synthetic stacks with a
known truth in :mod:`subsidence.insar.synthetic` (tests, benchmarks, demos).
Readers in :mod:`subsidence.insar.readers` (``open_ifgram_stack`` for MintPy ``ifgramStack.h5``, LiCSBAS ``GEOC/``,
ASF HyP3 GAMMA product folders (:mod:`subsidence.insar.hyp3`) and plain ``YYYYMMDD_YYYYMMDD`` unw/cc GeoTIFF folders);
writers in :mod:`subsidence.insar.writers`. A MintPy stack in radar coordinates (ISCE/topsStack) is opened with its
``geometryRadar.h5`` (``geometry=`` / ``--geometry``, or found beside it), inverted on the radar grid and geocoded with
the lookup table (:mod:`subsidence.insar.geocode`); the output folder then also holds ``geometryGeo.h5``, whose
per-pixel incidence angle ``read_deformation`` puts in ``Deformation.incidence_map_deg`` for LOS -> vertical.
"""

from __future__ import annotations

from subsidence.insar.convention import (
    los_m_to_phase_rad,
    los_m_to_subsidence_mm,
    los_m_to_vertical_up_m,
    phase_rad_to_los_m,
)
from subsidence.insar.stack import Deformation, Grid, IfgramStack, InSARInputError

__all__ = [
    "Deformation",
    "Grid",
    "IfgramStack",
    "InSARInputError",
    "dem_difference",
    "los_m_to_phase_rad",
    "los_m_to_subsidence_mm",
    "los_m_to_vertical_up_m",
    "phase_rad_to_los_m",
    "read_deformation",
]


def read_deformation(path, **kwargs):  # documented above; the lazy import keeps numpy-only users light
    from subsidence.insar.readers import read_deformation as _read

    return _read(path, **kwargs)


def dem_difference(before, after, **kwargs):
    from subsidence.insar.readers import dem_difference as _dd

    return _dd(before, after, **kwargs)
