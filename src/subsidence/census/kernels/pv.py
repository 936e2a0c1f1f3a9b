"""Solar PV candidate land (生态光伏+, consolidation phase) on subsidence ground.

Rule (docs/science.md §3, practice per GB 51044-2014 **[verify]**): a PV array goes only on subsidence land that is

1. **stable** (the code's criterion: ≤ 30 mm of subsidence over 6 consecutive months), and
2. **at least a year past the end of mining** of every panel nearby: land within ``buffer_m`` of a panel
   that is still being mined, will be mined (start in the future), has no recorded end, or ended less
   than ``min_years_since_mining`` years before ``as_of`` is excluded.

``buffer_m = 300`` covers the influence radius r = H/tanβ of Shendong panels (≈ 35–175 m) with margin for
the residual movement near goaf edges; set it from the local r for deep seams. Unknown panel dates exclude
land near them (the conservative reading).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import shapely
from shapely.geometry.base import BaseGeometry

from subsidence.census.kernels.attribution import PanelFootprint, Town, overlap_table
from subsidence.geo import ha_to_mu, m2_to_ha
from subsidence.vocabulary import MovementStage


@dataclass(frozen=True)
class PVParams:
    buffer_m: float = 300.0
    min_years_since_mining: float = 1.0
    min_area_ha: float = 1.0


@dataclass(frozen=True)
class StableArea:
    key: str
    geometry: BaseGeometry
    stage: MovementStage | None


@dataclass
class PVCandidate:
    area_key: str
    geometry: BaseGeometry
    area_ha: float
    towns_ha: dict[str, float] = field(default_factory=dict)

    def properties(self) -> dict:
        return {
            "subsidence_area": self.area_key,
            "area_ha": round(self.area_ha, 4),
            "area_mu": round(ha_to_mu(self.area_ha), 2),
            "towns": list(self.towns_ha),
            "town_overlaps_ha": {k: round(v, 4) for k, v in self.towns_ha.items()},
        }


@dataclass
class PVResult:
    candidates: list[PVCandidate]
    per_town_ha: dict[str, float]
    excluded_unstable: list[str]
    blocking_panels: list[str]

    @property
    def total_ha(self) -> float:
        return sum(c.area_ha for c in self.candidates)


def _blocking(panel: PanelFootprint, as_of: date, years: float) -> bool:
    """True if the panel is active, planned, undated, or ended less than ``years`` before ``as_of``."""
    if panel.start_date is not None and panel.start_date > as_of:
        return True
    if panel.end_date is None:
        return True
    return panel.end_date > as_of - timedelta(days=round(years * 365.25))


def pv_candidates(
    areas: Sequence[StableArea],
    panels: Sequence[PanelFootprint],
    towns: Sequence[Town],
    as_of: date,
    params: PVParams = PVParams(),
) -> PVResult:
    """Candidate PV land per subsidence area, with per-town totals (ha)."""
    blockers = [p for p in panels if _blocking(p, as_of, params.min_years_since_mining)]
    exclusion = shapely.union_all([p.geometry.buffer(params.buffer_m) for p in blockers]) if blockers else None
    out: list[PVCandidate] = []
    unstable: list[str] = []
    used: set[str] = set()
    for a in areas:
        if a.stage != MovementStage.STABLE:
            unstable.append(a.key)
            continue
        g = a.geometry
        if exclusion is not None and g.intersects(exclusion):
            used.update(p.code for p in blockers if p.geometry.buffer(params.buffer_m).intersects(g))
            g = shapely.difference(g, exclusion)
        ha = m2_to_ha(g.area)
        if ha < params.min_area_ha:
            continue
        out.append(PVCandidate(area_key=a.key, geometry=g, area_ha=ha, towns_ha=overlap_table([g], towns)))
    per_town: dict[str, float] = {}
    for c in out:
        for k, v in c.towns_ha.items():
            per_town[k] = per_town.get(k, 0.0) + v
    return PVResult(
        candidates=out,
        per_town_ha=dict(sorted(per_town.items())),
        excluded_unstable=unstable,
        blocking_panels=sorted(used),
    )
