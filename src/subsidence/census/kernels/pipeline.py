"""A census from a deformation product: basins → storage CRS → attribution. Pure (arrays and geometries in/out)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from shapely.geometry.base import BaseGeometry

from subsidence.census.kernels.attribution import (
    Attribution,
    AttributionParams,
    Attributor,
    MineRight,
    PanelFootprint,
    Town,
)
from subsidence.census.kernels.basins import Basin, BasinParams, BasinResult, Filler, StageFn, detect_basins
from subsidence.census.kernels.inputs import SubsidenceInput
from subsidence.geo import STORAGE_CRS, transform_geometry

log = logging.getLogger(__name__)


@dataclass
class CensusArea:
    """A detected area with its attribution; ``geometry`` in the storage CRS (EPSG:4546)."""

    basin: Basin
    attribution: Attribution
    geometry: BaseGeometry
    filled_geometry: BaseGeometry | None = None

    def properties(self) -> dict:
        return {**self.basin.properties(), **self.attribution.properties()}


@dataclass
class Census:
    areas: list[CensusArea]
    basins: BasinResult
    deformation: SubsidenceInput
    params: BasinParams
    attribution_params: AttributionParams
    notes: list[str] = field(default_factory=list)

    def parameters(self) -> dict:
        return {
            "basins": self.params.as_dict(),
            "effective_min_area_ha": self.basins.min_area_ha,
            # the map's zero level, noise and the level the edges were drawn at (census.levels)
            "level": self.basins.level.as_dict() if self.basins.level is not None else None,
            "attribution": {
                k: getattr(self.attribution_params, k) for k in self.attribution_params.__dataclass_fields__
            },
        }


def run_census(
    deformation: SubsidenceInput,
    *,
    mines: Sequence[MineRight] = (),
    panels: Sequence[PanelFootprint] = (),
    towns: Sequence[Town] = (),
    params: BasinParams = BasinParams(),
    attribution_params: AttributionParams = AttributionParams(),
    filler: Filler | None = None,
    stage_fn: StageFn | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Census:
    """Detect the areas of ``deformation`` and attribute them to ``mines``/``panels``/``towns`` (storage CRS)."""
    d = deformation
    res = detect_basins(
        d.subsidence_mm,
        d.grid,
        params=params,
        rate_mm_per_yr=d.rate_mm_per_yr,
        coherence=d.coherence,
        series_mm=d.series_mm,
        dates=d.dates,
        observed=d.observed,
        filler=filler,
        stage_fn=stage_fn,
        source=d.source,
        progress=progress,
    )
    notes = list(d.notes)
    if not res.basins:
        import numpy as np

        opposite = np.nansum(
            -d.primary >= (params.threshold_mm if res.kind == "cumulative" else params.threshold_rate_mm_per_yr)
        )
        if opposite >= params.min_pixels:
            notes.append(
                f"no subsidence above threshold, but {int(opposite)} pixels exceed it with the opposite sign: "
                "is the sign convention right (--quantity los|vertical|subsidence)?"
            )
            log.warning(notes[-1])
    if not mines:
        notes.append("no mining rights given (--mines): licence flags not assessed")
    at = Attributor(mines, panels, towns, attribution_params)
    areas: list[CensusArea] = []
    src_crs = d.grid.crs
    for b in res.basins:
        g = transform_geometry(b.geometry, src_crs, STORAGE_CRS)
        fg = transform_geometry(b.filled_geometry, src_crs, STORAGE_CRS) if b.filled_geometry is not None else None
        areas.append(CensusArea(basin=b, attribution=at.attribute(g), geometry=g, filled_geometry=fg))
    return Census(
        areas=areas, basins=res, deformation=d, params=params, attribution_params=attribution_params, notes=notes
    )
