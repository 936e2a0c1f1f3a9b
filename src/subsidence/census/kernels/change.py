"""Change between two censuses: new, grown, shrunk, became stable, unchanged, vanished, merged, split.

Areas of the earlier census are matched to areas of the later one by polygon overlap (both in the same
projected CRS). A match needs an intersection of at least ``min_overlap_fraction`` of the smaller of the two
areas, so a basin that drifts with the face advance still matches while neighbours that merely touch do not.

Growth thresholds (defaults, :class:`ChangeParams`): an area has *grown* when its area increased by at least
``grow_area_fraction`` (10 %) **and** ``grow_area_ha`` (1 ha, the census minimum area), or its maximum
subsidence increased by at least ``grow_max_mm`` (30 mm: the code's stability tolerance over six months,
well above the InSAR noise floor).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import shapely
from shapely.geometry.base import BaseGeometry

from subsidence.geo import m2_to_ha
from subsidence.vocabulary import Labelled, MovementStage


class ChangeKind(Labelled):
    NEW = "new"
    GROWN = "grown"
    SHRUNK = "shrunk"
    BECAME_STABLE = "became_stable"
    UNCHANGED = "unchanged"
    VANISHED = "vanished"
    MERGED = "merged"
    SPLIT = "split"


ChangeKind._LABELS = {
    "new": ("新增", "new"),
    "grown": ("扩大", "grown"),
    "shrunk": ("缩小", "shrunk"),
    "became_stable": ("趋于稳定", "became stable"),
    "unchanged": ("无明显变化", "unchanged"),
    "vanished": ("消失", "vanished"),
    "merged": ("合并", "merged"),
    "split": ("分裂", "split"),
}


@dataclass(frozen=True)
class AreaSnapshot:
    """One area of a census as the comparison needs it."""

    key: str
    geometry: BaseGeometry
    area_ha: float
    max_subsidence_mm: float | None = None
    stage: MovementStage | None = None


@dataclass(frozen=True)
class ChangeParams:
    min_overlap_fraction: float = 0.1
    grow_area_fraction: float = 0.10
    grow_area_ha: float = 1.0
    grow_max_mm: float = 30.0


@dataclass
class AreaChange:
    """One line of the change report. ``before``/``after`` are area keys of the earlier/later census."""

    kinds: list[ChangeKind]
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    area_before_ha: float = 0.0
    area_after_ha: float = 0.0
    max_before_mm: float | None = None
    max_after_mm: float | None = None
    new_ground_ha: float = 0.0
    geometry: BaseGeometry | None = None

    @property
    def area_growth_ha(self) -> float:
        return self.area_after_ha - self.area_before_ha

    @property
    def max_growth_mm(self) -> float | None:
        if self.max_before_mm is None or self.max_after_mm is None:
            return None
        return self.max_after_mm - self.max_before_mm

    def properties(self) -> dict:
        return {
            "change": [k.value for k in self.kinds],
            "change_zh": "、".join(k.label("zh") for k in self.kinds),
            "before": self.before,
            "after": self.after,
            "area_before_ha": round(self.area_before_ha, 4),
            "area_after_ha": round(self.area_after_ha, 4),
            "area_growth_ha": round(self.area_growth_ha, 4),
            "new_ground_ha": round(self.new_ground_ha, 4),
            "max_before_mm": self.max_before_mm,
            "max_after_mm": self.max_after_mm,
            "max_growth_mm": None if self.max_growth_mm is None else round(self.max_growth_mm, 2),
        }


def compare(
    before: Sequence[AreaSnapshot], after: Sequence[AreaSnapshot], params: ChangeParams = ChangeParams()
) -> list[AreaChange]:
    """Compare an earlier census with a later one; one :class:`AreaChange` per group of matched areas."""
    tree = shapely.STRtree([a.geometry for a in before])
    links: dict[int, set[int]] = {j: set() for j in range(len(after))}
    for j, a in enumerate(after):
        for i in tree.query(a.geometry, predicate="intersects"):
            b = before[int(i)]
            inter = shapely.intersection(a.geometry, b.geometry).area
            if inter >= params.min_overlap_fraction * min(a.geometry.area, b.geometry.area):
                links[j].add(int(i))
    back: dict[int, set[int]] = {i: set() for i in range(len(before))}
    for j, ii in links.items():
        for i in ii:
            back[i].add(j)

    # connected groups of the bipartite match graph
    seen_a: set[int] = set()
    out: list[AreaChange] = []
    for j0 in range(len(after)):
        if j0 in seen_a:
            continue
        ga: set[int] = {j0}  # indices into ``after``
        gb: set[int] = set()  # indices into ``before``
        stack = [("a", j0)]
        while stack:
            side, k = stack.pop()
            nbrs = links[k] if side == "a" else back[k]
            for n in nbrs:
                target = gb if side == "a" else ga
                if n not in target:
                    target.add(n)
                    stack.append(("b" if side == "a" else "a", n))
        seen_a |= ga
        out.append(_group_change([before[i] for i in sorted(gb)], [after[j] for j in sorted(ga)], params))
    for i, b in enumerate(before):
        if not back[i]:
            out.append(
                AreaChange(
                    kinds=[ChangeKind.VANISHED],
                    before=[b.key],
                    area_before_ha=b.area_ha,
                    max_before_mm=b.max_subsidence_mm,
                    geometry=b.geometry,
                )
            )
    return out


def _group_change(bs: list[AreaSnapshot], as_: list[AreaSnapshot], p: ChangeParams) -> AreaChange:
    geom_after = shapely.union_all([a.geometry for a in as_])
    ch = AreaChange(
        kinds=[],
        before=[b.key for b in bs],
        after=[a.key for a in as_],
        area_after_ha=sum(a.area_ha for a in as_),
        geometry=geom_after,
        max_after_mm=_max(a.max_subsidence_mm for a in as_),
    )
    if not bs:
        ch.kinds = [ChangeKind.NEW]
        ch.new_ground_ha = ch.area_after_ha
        return ch
    geom_before = shapely.union_all([b.geometry for b in bs])
    ch.area_before_ha = sum(b.area_ha for b in bs)
    ch.max_before_mm = _max(b.max_subsidence_mm for b in bs)
    ch.new_ground_ha = m2_to_ha(shapely.difference(geom_after, geom_before).area)
    if len(bs) > 1:
        ch.kinds.append(ChangeKind.MERGED)
    if len(as_) > 1:
        ch.kinds.append(ChangeKind.SPLIT)
    d_area = ch.area_growth_ha
    grew_area = d_area >= p.grow_area_ha and d_area >= p.grow_area_fraction * max(ch.area_before_ha, 1e-9)
    grew_max = ch.max_growth_mm is not None and ch.max_growth_mm >= p.grow_max_mm
    if grew_area or grew_max:
        ch.kinds.append(ChangeKind.GROWN)
    elif -d_area >= p.grow_area_ha and -d_area >= p.grow_area_fraction * ch.area_before_ha:
        ch.kinds.append(ChangeKind.SHRUNK)
    was_stable = all(b.stage == MovementStage.STABLE for b in bs)
    now_stable = all(a.stage == MovementStage.STABLE for a in as_)
    if now_stable and not was_stable and all(b.stage is not None for b in bs):
        ch.kinds.append(ChangeKind.BECAME_STABLE)
    if not ch.kinds:
        ch.kinds.append(ChangeKind.UNCHANGED)
    return ch


def _max(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return max(vals) if vals else None
