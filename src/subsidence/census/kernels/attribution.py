"""Attribution of subsidence areas: mines (mining rights, 采矿权), panels (工作面) and towns (镇) under each area.

All geometries must be in one projected metric CRS (the storage CRS, EPSG:4546, in this product); overlap
areas are in hectares.

**Suspected mining beyond the licence (疑似越界开采).** Subsidence reaches beyond the goaf by the influence
radius r = H/tanβ (Shendong: H 100–350 m, tanβ 2–3 → r ≈ 35–175 m), so a basin under a legal panel near a
licence boundary spills over it a little. Only the part of an area lying more than ``margin_m`` outside a
licence counts, and it must reach ``min_outside_ha``:

* ``margin_m = 100`` — a typical Shendong influence radius (H ≈ 250 m, tanβ ≈ 2.5); raise it for deep
  seams, lower it for shallow ones.
* ``min_outside_ha = 1.0`` — the census' own minimum area: smaller spill-overs are within pixel and
  polygon-edge noise.

Two flags follow:

* ``outside_mining_right`` — part of the area lies outside *every* mining right (subsidence that no
  licence explains);
* ``outside_causing_licence`` — part of the area lies outside the licences of the mines whose panels are
  under it (the panels' own mine is the cause; its licence should contain the basin).

``beyond_licence`` is true when either holds; ``beyond_licence_ha`` is the larger area concerned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

import shapely
from shapely.geometry.base import BaseGeometry

from subsidence.geo import SQM_PER_HA


@dataclass(frozen=True)
class MineRight:
    """A mining right: ``key`` is the licence number (stable), ``name`` for display."""

    key: str
    name: str
    geometry: BaseGeometry
    id: int | None = None


@dataclass(frozen=True)
class PanelFootprint:
    """A panel (goaf) outline with its mine's licence key and mining dates."""

    code: str
    mine_key: str | None
    geometry: BaseGeometry
    start_date: date | None = None
    end_date: date | None = None
    id: int | None = None


@dataclass(frozen=True)
class Town:
    key: str
    name: str
    geometry: BaseGeometry
    id: int | None = None


@dataclass(frozen=True)
class AttributionParams:
    margin_m: float = 100.0
    min_outside_ha: float = 1.0
    min_overlap_ha: float = 0.0001  # ignore slivers below 1 m² from shared edges


@dataclass
class Overlap:
    key: str
    name: str
    overlap_ha: float
    id: int | None = None


@dataclass
class Attribution:
    """What lies under one area. Lists are sorted by overlap, largest first."""

    mines: list[Overlap] = field(default_factory=list)
    panels: list[Overlap] = field(default_factory=list)
    towns: list[Overlap] = field(default_factory=list)
    causing_mines: list[str] = field(default_factory=list)
    outside_all_rights_ha: float = 0.0
    outside_all_rights_beyond_margin_ha: float = 0.0
    outside_causing_licence_ha: float = 0.0
    outside_causing_licence_beyond_margin_ha: float = 0.0
    outside_mining_right: bool = False
    outside_causing_licence: bool = False
    beyond_licence_geometry: BaseGeometry | None = None
    panels_outside_own_licence: list[str] = field(default_factory=list)
    #: False when no mining rights were given: the licence flags are then not assessed (all False)
    rights_checked: bool = True

    @property
    def beyond_licence(self) -> bool:
        return self.outside_mining_right or self.outside_causing_licence

    @property
    def beyond_licence_ha(self) -> float:
        return max(self.outside_all_rights_beyond_margin_ha, self.outside_causing_licence_beyond_margin_ha)

    @property
    def principal_mine(self) -> str | None:
        """The mine responsible: the causing mine with most overlap, else the mine with most overlap."""
        if self.causing_mines:
            return self.causing_mines[0]
        return self.mines[0].key if self.mines else None

    @property
    def principal_town(self) -> str | None:
        return self.towns[0].key if self.towns else None

    def properties(self) -> dict:
        return {
            "mines": [m.key for m in self.mines],
            "mine_overlaps_ha": {m.key: round(m.overlap_ha, 4) for m in self.mines},
            "panels": [p.key for p in self.panels],
            "panel_overlaps_ha": {p.key: round(p.overlap_ha, 4) for p in self.panels},
            "towns": [t.key for t in self.towns],
            "town_names": [t.name for t in self.towns],
            "town_overlaps_ha": {t.key: round(t.overlap_ha, 4) for t in self.towns},
            "causing_mines": list(self.causing_mines),
            "principal_mine": self.principal_mine,
            "outside_mining_right": self.outside_mining_right,
            "outside_all_rights_ha": round(self.outside_all_rights_ha, 4),
            "outside_causing_licence": self.outside_causing_licence,
            "outside_causing_licence_ha": round(self.outside_causing_licence_ha, 4),
            "beyond_licence": self.beyond_licence,
            "beyond_licence_ha": round(self.beyond_licence_ha, 4),
            "panels_outside_own_licence": list(self.panels_outside_own_licence),
            "mining_rights_checked": self.rights_checked,
        }


class _Footprint(Protocol):
    """What :func:`_overlaps` reads of a mine right, panel or town."""

    @property
    def geometry(self) -> BaseGeometry: ...

    @property
    def id(self) -> int | None: ...


def _overlaps(
    area: BaseGeometry,
    items: Sequence[_Footprint],
    tree: shapely.STRtree,
    min_ha: float,
    key: Callable[[Any], tuple[str, str]] = lambda it: (it.key, it.name),
) -> list[Overlap]:
    out: list[Overlap] = []
    for i in tree.query(area, predicate="intersects"):
        it = items[int(i)]
        ha = shapely.intersection(area, it.geometry).area / SQM_PER_HA
        if ha >= min_ha:
            k, name = key(it)
            out.append(Overlap(key=k, name=name, overlap_ha=ha, id=it.id))
    out.sort(key=lambda o: (-o.overlap_ha, o.key))
    return out


class Attributor:
    """Attribute many areas against one set of mines, panels and towns (spatial indexes built once)."""

    def __init__(
        self,
        mines: Sequence[MineRight] = (),
        panels: Sequence[PanelFootprint] = (),
        towns: Sequence[Town] = (),
        params: AttributionParams = AttributionParams(),
    ) -> None:
        self.mines, self.panels, self.towns, self.params = list(mines), list(panels), list(towns), params
        self._mine_tree = shapely.STRtree([m.geometry for m in self.mines])
        self._panel_tree = shapely.STRtree([p.geometry for p in self.panels])
        self._town_tree = shapely.STRtree([t.geometry for t in self.towns])
        self._mine_by_key = {m.key: m for m in self.mines}
        self._rights = shapely.union_all([m.geometry for m in self.mines]) if self.mines else None
        self._rights_margin = self._rights.buffer(params.margin_m) if self._rights is not None else None
        self.panels_outside_own_licence = self._panels_outside_licence()

    def _panels_outside_licence(self) -> dict[str, str]:
        """Panels whose goaf itself leaves its own mine's licence by ≥ min_outside_ha (direct evidence)."""
        out = {}
        for p in self.panels:
            m = self._mine_by_key.get(p.mine_key or "")
            if m is None:
                continue
            ha = shapely.difference(p.geometry, m.geometry).area / SQM_PER_HA
            if ha >= self.params.min_outside_ha:
                out[p.code] = m.key
        return out

    def attribute(self, area: BaseGeometry) -> Attribution:
        p = self.params
        a = Attribution()
        a.mines = _overlaps(area, self.mines, self._mine_tree, p.min_overlap_ha)
        a.panels = _overlaps(
            area, self.panels, self._panel_tree, p.min_overlap_ha, key=lambda it: (it.code, it.mine_key or "")
        )
        a.towns = _overlaps(area, self.towns, self._town_tree, p.min_overlap_ha)
        # causing mines: those whose panels lie under the area, by total panel overlap
        weight: dict[str, float] = {}
        for o in a.panels:
            if o.name:
                weight[o.name] = weight.get(o.name, 0.0) + o.overlap_ha
        a.causing_mines = sorted(weight, key=lambda k: (-weight[k], k))
        a.panels_outside_own_licence = [o.key for o in a.panels if o.key in self.panels_outside_own_licence]

        if self._rights is None:  # no mining rights given: nothing can be said about licences
            a.rights_checked = False
            return a
        else:
            a.outside_all_rights_ha = shapely.difference(area, self._rights).area / SQM_PER_HA
            outside_beyond = shapely.difference(area, self._rights_margin)
            a.outside_all_rights_beyond_margin_ha = outside_beyond.area / SQM_PER_HA
        a.outside_mining_right = a.outside_all_rights_beyond_margin_ha >= p.min_outside_ha

        causing = [self._mine_by_key[k] for k in a.causing_mines if k in self._mine_by_key]
        beyond_geom = outside_beyond if a.outside_mining_right else None
        if a.causing_mines:
            if causing:
                lic = shapely.union_all([m.geometry for m in causing])
                a.outside_causing_licence_ha = shapely.difference(area, lic).area / SQM_PER_HA
                out_c = shapely.difference(area, lic.buffer(p.margin_m))
            else:  # panels of a mine whose licence we do not have: everything is outside its (unknown) licence
                a.outside_causing_licence_ha = area.area / SQM_PER_HA
                out_c = area
            a.outside_causing_licence_beyond_margin_ha = out_c.area / SQM_PER_HA
            a.outside_causing_licence = a.outside_causing_licence_beyond_margin_ha >= p.min_outside_ha
            if a.outside_causing_licence:
                beyond_geom = out_c if beyond_geom is None else shapely.union(beyond_geom, out_c)
        a.outside_causing_licence = a.outside_causing_licence or bool(a.panels_outside_own_licence)
        a.beyond_licence_geometry = beyond_geom
        return a


def overlap_table(polygons: Sequence[BaseGeometry], targets: Sequence, min_ha: float = 0.0001) -> dict[str, float]:
    """Total overlap (ha) of a set of polygons with each target (``key`` → ha), e.g. vegetation loss per town."""
    if not targets or not polygons:
        return {}
    union = shapely.union_all(list(polygons))
    tree = shapely.STRtree([t.geometry for t in targets])
    return {o.key: o.overlap_ha for o in _overlaps(union, list(targets), tree, min_ha)}
