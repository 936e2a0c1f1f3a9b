"""The baseline (摸清底数) as one read-only query: found, confirmed, treated — by town, by mine, per census.

Plan goal 1 ("摸清底数…切实将我旗的采煤沉陷区面积、治理任务等一次性摸清") asks for *one* number. This module is the
only place it is computed; the dashboard, the report and the CLI call :func:`baseline_summary`.

Definitions (areas in hectares; 亩 = ha × 15, the statutory 1 亩 = 666.67 m²):

* **found** — what a census mapped: the original detections (areas without ``parent_codes``), any review state.
  Review merges and splits do not change what was found.
* **confirmed** — expert-confirmed areas (专家确认): the baseline. :func:`subsidence.census.service.confirm` refuses
  or merges a confirmation that overlaps an already confirmed area, so confirmed areas never count ground twice.
* **pending** — candidates awaiting review (待评审); **rejected** — 已否定.
* **treated** — confirmed and marked treated (治理完成); **untreated** = confirmed − treated.
* By town / by mine, an area is split by its overlap (ha) with each town / mining right (``subsidence_area_town`` /
  ``subsidence_area_mine``, written by the attribution); an area without overlap rows counts whole for its principal
  town / mine. What is left goes to the remainder row (key ``""``: 未归属乡镇 / 采矿权范围外), so the rows add up to
  the total (up to overlapping mining rights, which would count their shared ground under each).
* **history** — one row per census (oldest first): what that census found and how its areas stand now, and
  ``baseline_ha``, the county's confirmed baseline as it stood right after that census (areas confirmed from it or
  earlier; an area superseded by a later census's merged confirmation counts until that census).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.census.models import (
    CensusRun,
    SubsidenceArea,
    SubsidenceAreaMine,
    SubsidenceAreaTown,
)
from subsidence.core.models import AdminArea, Mine
from subsidence.geo import MU_PER_HA, m2_to_ha
from subsidence.vocabulary import ReviewState

#: two confirmed areas overlapping by more than this (ha) count the same ground twice (100 m²: well above the
#: sliver two polygons traced from the same raster share along an edge, below one 30 m InSAR pixel, 0.09 ha)
OVERLAP_TOLERANCE_HA = 0.01

TOWN_REMAINDER = "未归属乡镇"
MINE_REMAINDER = "采矿权范围外"


def mu(ha: float) -> float:
    """Hectares to 亩."""
    return ha * MU_PER_HA


@dataclass
class BaselineRow:
    """One line of the baseline (a town, a mine, or the county total); areas in ha."""

    key: str
    name_zh: str
    found_ha: float = 0.0
    confirmed_ha: float = 0.0
    pending_ha: float = 0.0
    rejected_ha: float = 0.0
    treated_ha: float = 0.0
    n_confirmed: int = 0

    @property
    def untreated_ha(self) -> float:
        return self.confirmed_ha - self.treated_ha

    @property
    def found_mu(self) -> float:
        return mu(self.found_ha)

    @property
    def confirmed_mu(self) -> float:
        return mu(self.confirmed_ha)

    @property
    def treated_mu(self) -> float:
        return mu(self.treated_ha)

    @property
    def untreated_mu(self) -> float:
        return mu(self.untreated_ha)

    def as_dict(self) -> dict:
        d = asdict(self)
        d.update(
            untreated_ha=self.untreated_ha,
            found_mu=self.found_mu,
            confirmed_mu=self.confirmed_mu,
            treated_mu=self.treated_mu,
            untreated_mu=self.untreated_mu,
        )
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in d.items()}


@dataclass
class CensusRow:
    """One census in the baseline's history; areas in ha."""

    code: str
    census_date: date | None
    found_ha: float = 0.0
    confirmed_ha: float = 0.0
    pending_ha: float = 0.0
    rejected_ha: float = 0.0
    treated_ha: float = 0.0
    baseline_ha: float = 0.0

    def as_dict(self) -> dict:
        d = asdict(self)
        d["census_date"] = self.census_date.isoformat() if self.census_date else None
        for k in ("found", "confirmed", "treated", "baseline"):
            d[f"{k}_mu"] = mu(d[f"{k}_ha"])
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in d.items()}


@dataclass
class Baseline:
    """The baseline: county total, by town, by mine, and its history per census."""

    as_of: date | None
    total: BaselineRow
    by_town: list[BaselineRow] = field(default_factory=list)
    by_mine: list[BaselineRow] = field(default_factory=list)
    history: list[CensusRow] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "total": self.total.as_dict(),
            "by_town": [r.as_dict() for r in self.by_town],
            "by_mine": [r.as_dict() for r in self.by_mine],
            "history": [r.as_dict() for r in self.history],
            "units": {"area": "ha", "mu_per_ha": MU_PER_HA},
        }


def _ha(a: SubsidenceArea) -> float:
    if a.area_ha is not None:
        return float(a.area_ha)
    return m2_to_ha(a.geometry.area) if a.geometry is not None else 0.0


def _state(a: SubsidenceArea, as_of: date | None) -> ReviewState:
    """The area's review state as it stood at ``as_of`` (a confirmed area superseded later still counts)."""
    if as_of is not None and a.review_state == ReviewState.MERGED:
        sup = (a.attributes or {}).get("superseded_on")
        if sup is not None and date.fromisoformat(sup) > as_of:
            return ReviewState.CONFIRMED
    return a.review_state


def _add(row: BaselineRow, a: SubsidenceArea, ha: float, *, found: bool, as_of: date | None = None) -> None:
    if found:
        row.found_ha += ha
    state = _state(a, as_of)
    if state == ReviewState.CONFIRMED:
        row.confirmed_ha += ha
        row.n_confirmed += 1
        if a.treated:
            row.treated_ha += ha
    elif state == ReviewState.CANDIDATE:
        row.pending_ha += ha
    elif state == ReviewState.REJECTED:
        row.rejected_ha += ha


def _split(
    a: SubsidenceArea, overlaps: list[tuple[int, float]], principal: int | None
) -> list[tuple[int | None, float]]:
    """The area's hectares per target id (``None`` = remainder)."""
    total = _ha(a)
    if not overlaps:
        return [(principal, total)]
    scale = 1.0
    s = sum(ha for _, ha in overlaps)
    if a.geometry is not None and a.area_ha is not None and a.geometry.area > 0:
        scale = total / (m2_to_ha(a.geometry.area))  # overlaps were measured on the geometry
    out: list[tuple[int | None, float]] = [(t, ha * scale) for t, ha in overlaps if ha > 0]
    rest = total - s * scale
    if rest > 1e-9:
        out.append((None, rest))
    return out


def _live_at(a: SubsidenceArea, census_dates: dict[int, date], on: date) -> bool:
    """Was the area part of the confirmed baseline right after the census dated ``on``?"""
    d = census_dates.get(a.census_id) if a.census_id is not None else None
    if d is None or d > on:
        return False
    if a.review_state == ReviewState.CONFIRMED:
        return True
    sup = (a.attributes or {}).get("superseded_on")
    return a.review_state == ReviewState.MERGED and sup is not None and date.fromisoformat(sup) > on


def baseline_summary(session: Session, as_of: date | None = None) -> Baseline:
    """The baseline (摸清底数): area found, confirmed, treated — county, by town, by mine — with its history.

    ``as_of``: only censuses dated on or before it count (areas without a census always count), and an area a later
    census's merged confirmation superseded counts as confirmed again; the treated flag is today's. ``None`` = now.
    Read-only. Areas in ha, with 亩 twins in ``as_dict()``.
    """
    runs = list(session.scalars(select(CensusRun).order_by(CensusRun.census_date, CensusRun.code)))
    if as_of is not None:
        runs = [r for r in runs if r.census_date <= as_of]
    dates = {r.id: r.census_date for r in runs}
    q = select(SubsidenceArea).order_by(SubsidenceArea.code)
    areas = [a for a in session.scalars(q) if a.census_id is None or a.census_id in dates]
    ids = [a.id for a in areas]
    town_ov: dict[int, list[tuple[int, float]]] = defaultdict(list)
    mine_ov: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for chunk in _chunks(ids):
        for aid, tid, ha in session.execute(
            select(SubsidenceAreaTown.area_id, SubsidenceAreaTown.town_id, SubsidenceAreaTown.overlap_ha).where(
                SubsidenceAreaTown.area_id.in_(chunk)
            )
        ):
            town_ov[aid].append((tid, ha))
        for aid, mid, ha in session.execute(
            select(SubsidenceAreaMine.area_id, SubsidenceAreaMine.mine_id, SubsidenceAreaMine.overlap_ha).where(
                SubsidenceAreaMine.area_id.in_(chunk)
            )
        ):
            mine_ov[aid].append((mid, ha))

    total = BaselineRow("", "全旗")
    towns: dict[int | None, BaselineRow] = {}
    mines: dict[int | None, BaselineRow] = {}
    for a in areas:
        found = not a.parent_codes
        _add(total, a, _ha(a), found=found, as_of=as_of)
        for town, ha in _split(a, sorted(town_ov.get(a.id, [])), a.town_id):
            towns.setdefault(town, BaselineRow("", TOWN_REMAINDER))
            _add(towns[town], a, ha, found=found, as_of=as_of)
        for mine, ha in _split(a, sorted(mine_ov.get(a.id, [])), a.mine_id):
            mines.setdefault(mine, BaselineRow("", MINE_REMAINDER))
            _add(mines[mine], a, ha, found=found, as_of=as_of)
    _name(session, AdminArea, AdminArea.code, towns)
    _name(session, Mine, Mine.licence_no, mines)

    history: list[CensusRow] = []
    for r in runs:
        row = CensusRow(r.code, r.census_date)
        for a in areas:
            if a.census_id == r.id:
                ha = _ha(a)
                if not a.parent_codes:
                    row.found_ha += ha
                if a.review_state == ReviewState.CONFIRMED:
                    row.confirmed_ha += ha
                    row.treated_ha += ha if a.treated else 0.0
                elif a.review_state == ReviewState.CANDIDATE:
                    row.pending_ha += ha
                elif a.review_state == ReviewState.REJECTED:
                    row.rejected_ha += ha
        row.baseline_ha = sum(_ha(a) for a in areas if _live_at(a, dates, r.census_date)) + sum(
            _ha(a) for a in areas if a.census_id is None and a.review_state == ReviewState.CONFIRMED
        )
        history.append(row)

    order = lambda rows: sorted(rows.values(), key=lambda x: (x.key == "", x.key))
    return Baseline(as_of=as_of, total=total, by_town=order(towns), by_mine=order(mines), history=history)


def _name(session: Session, model, key_col, rows: dict[int | None, BaselineRow]) -> None:
    ids = [i for i in rows if i is not None]
    for chunk in _chunks(ids):
        for obj in session.scalars(select(model).where(model.id.in_(chunk))):
            rows[obj.id].key = getattr(obj, key_col.key)
            rows[obj.id].name_zh = obj.name_zh


def _chunks(ids: list[int], n: int = 500) -> Iterable[list[int]]:
    for i in range(0, len(ids), n):
        yield ids[i : i + n]


# ------------------------------------------------------------------------------------------ overlaps
@dataclass(frozen=True)
class Overlap:
    """A confirmed area that shares ground with another geometry: ``overlap_ha`` of it."""

    code: str
    overlap_ha: float
    treated: bool

    @property
    def overlap_mu(self) -> float:
        return mu(self.overlap_ha)


def confirmed_overlaps(
    session: Session, geometry, *, exclude: Iterable[int] = (), tolerance_ha: float = OVERLAP_TOLERANCE_HA
) -> list[Overlap]:
    """Confirmed areas whose geometry overlaps ``geometry`` (storage CRS) by more than ``tolerance_ha``."""
    import shapely

    if geometry is None or geometry.is_empty:
        return []
    skip = set(exclude)
    minx, miny, maxx, maxy = geometry.bounds
    out = []
    for a in session.scalars(
        select(SubsidenceArea).where(SubsidenceArea.review_state == ReviewState.CONFIRMED).order_by(SubsidenceArea.code)
    ):
        if a.id in skip or a.geometry is None:
            continue
        bx0, by0, bx1, by1 = a.geometry.bounds
        if bx0 > maxx or bx1 < minx or by0 > maxy or by1 < miny:
            continue
        ha = m2_to_ha(shapely.intersection(a.geometry, geometry).area)
        if ha > tolerance_ha:
            out.append(Overlap(a.code, ha, bool(a.treated)))
    return out
