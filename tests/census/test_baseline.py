"""The baseline is one number: overlapping confirmations are refused with the overlap named or
merged, and ``baseline_summary`` gives found / confirmed / treated by town and by mine, in ha and 亩, per census.
Runs on SQLite and PostgreSQL (the ``session`` fixture)."""

from __future__ import annotations

from datetime import date

import pytest
import shapely
from shapely.geometry import box

from subsidence.census import service as svc
from subsidence.census.queries import MU_PER_HA, baseline_summary
from subsidence.vocabulary import ReviewState
from tests.census.synth import X0, Y0, bowl, grid
from tests.census.test_service import _by_mine, _census, _county

D1, D2, D3 = date(2024, 4, 1), date(2024, 10, 15), date(2025, 4, 1)


def _grown():
    g = grid(200)
    return (
        bowl(g, X0 + 600, Y0 - 2000, 900, 400, 1800, 100)
        + bowl(g, X0 + 2500, Y0 - 3300, 900, 400, 1200, 100)
        + bowl(g, X0 + 4200, Y0 - 1500, 600, 400, 1200, 100)
    )


def _rows_add_up(rows, total):
    for attr in ("found_ha", "confirmed_ha", "pending_ha", "rejected_ha", "treated_ha"):
        assert sum(getattr(r, attr) for r in rows) == pytest.approx(getattr(total, attr), abs=1e-6), attr


def test_overlapping_confirmation_refused_with_the_overlap_named_then_merged(session):
    _county(session)
    run1 = _census(session, when=D1)
    a1, lone1 = _by_mine(session, run1)
    svc.confirm(session, a1.code, reviewer="专家组", reason="核实", today=D1)
    svc.confirm(session, lone1.code, reviewer="专家组", reason="核实", today=D1)
    session.commit()
    first = baseline_summary(session)
    assert first.total.confirmed_ha == pytest.approx(a1.area_ha + lone1.area_ha)
    assert first.total.confirmed_mu == pytest.approx(MU_PER_HA * first.total.confirmed_ha)

    run2 = _census(session, w=_grown(), when=D2)
    session.commit()
    a2, _lone2 = _by_mine(session, run2)
    expected = shapely.intersection(a1.geometry, a2.geometry).area / 1e4
    with pytest.raises(svc.OverlapRefused) as exc:
        svc.confirm(session, a2.code, reviewer="专家组", reason="复核", today=D2)
    assert [(o.code, round(o.overlap_ha, 2)) for o in exc.value.overlaps] == [(a1.code, round(expected, 2))]
    assert (
        a1.code in str(exc.value)
        and f"{expected:.2f} 公顷" in str(exc.value)
        and f"{expected * 15:.1f} 亩" in str(exc.value)
    )
    session.rollback()
    assert svc.get_area(session, a2.code).review_state == ReviewState.CANDIDATE  # refused: nothing changed

    out = svc.confirm(session, a2.code, reviewer="专家组", reason="复核，沉陷扩大", today=D2, merge_overlapping=True)
    session.commit()
    merged = out.areas[0]
    assert merged.review_state == ReviewState.CONFIRMED and merged.parent_codes == [a2.code, a1.code]
    assert svc.get_area(session, a1.code).review_state == ReviewState.MERGED
    assert svc.get_area(session, a2.code).review_state == ReviewState.MERGED
    union = shapely.union_all([a1.geometry, a2.geometry]).area / 1e4
    assert merged.area_ha == pytest.approx(union)

    b = baseline_summary(session)
    # the same ground once: the union, not a1 + a2
    assert b.total.confirmed_ha == pytest.approx(union + lone1.area_ha)
    assert b.total.confirmed_ha < a1.area_ha + a2.area_ha + lone1.area_ha - 1.0
    assert b.total.n_confirmed == 2
    # found = every original detection of both censuses (review results do not change what was found)
    found = sum(a.area_ha for a in svc.list_areas(session) if not a.parent_codes)
    assert b.total.found_ha == pytest.approx(found)
    assert b.total.pending_ha == pytest.approx(
        sum(a.area_ha for a in svc.list_areas(session, state=ReviewState.CANDIDATE))
    )
    _rows_add_up(b.by_town, b.total)
    _rows_add_up(b.by_mine, b.total)
    mine_row = next(r for r in b.by_mine if r.key == "C150000-A")
    outside = next(r for r in b.by_mine if r.key == "")
    assert mine_row.name_zh == "甲煤矿（示意）" and outside.name_zh == "采矿权范围外"
    assert outside.confirmed_ha >= lone1.area_ha - 1e-6  # the lone basin lies outside every right
    assert {r.key for r in b.by_town} >= {"T-WEST", "T-EAST"}

    # history per census: the baseline as it stood after each
    assert [h.code for h in b.history] == [run1.code, run2.code]
    assert b.history[0].baseline_ha == pytest.approx(a1.area_ha + lone1.area_ha)
    assert b.history[1].baseline_ha == pytest.approx(b.total.confirmed_ha)
    then = baseline_summary(session, as_of=D1)
    assert then.total.confirmed_ha == pytest.approx(b.history[0].baseline_ha)
    assert [h.code for h in then.history] == [run1.code]

    # treated ground: counted, and never merged into
    svc.mark_treated(session, merged.code, actor="自然资源局", reason="验收销号")
    session.commit()
    b = baseline_summary(session)
    assert b.total.treated_ha == pytest.approx(union) and b.total.untreated_ha == pytest.approx(lone1.area_ha)
    assert b.as_dict()["total"]["treated_mu"] == pytest.approx(round(union * 15, 4), abs=1e-3)
    run3 = _census(session, w=_grown() * 1.2, when=D3)
    a3, _ = _by_mine(session, run3)
    with pytest.raises(svc.OverlapRefused, match="已治理"):
        svc.confirm(session, a3.code, reviewer="专家组", reason="复核", today=D3, merge_overlapping=True)


def test_edge_touching_areas_are_not_an_overlap(session):
    """Two confirmed areas sharing only an edge are different ground."""
    from subsidence.census.models import SubsidenceArea
    from subsidence.db.audit import acting_as
    from subsidence.vocabulary import SubsidenceSource

    with acting_as(session, "setup"):
        left = SubsidenceArea(
            code="T-L",
            source=SubsidenceSource.SURVEY,
            review_state=ReviewState.CONFIRMED,
            area_ha=1.0,
            geometry=shapely.MultiPolygon([box(X0, Y0, X0 + 100, Y0 + 100)]),
        )
        right = SubsidenceArea(
            code="T-R",
            source=SubsidenceSource.SURVEY,
            review_state=ReviewState.CANDIDATE,
            area_ha=1.0,
            geometry=shapely.MultiPolygon([box(X0 + 100, Y0, X0 + 200, Y0 + 100)]),
        )
        session.add_all([left, right])
        session.flush()
    svc.confirm(session, "T-R", reviewer="专家组", reason="核实", today=D1)
    b = baseline_summary(session)
    assert b.total.confirmed_ha == pytest.approx(2.0) and b.total.n_confirmed == 2
    assert b.by_town[-1].key == "" and b.by_town[-1].confirmed_ha == pytest.approx(2.0)  # no town: the remainder


def test_import_of_overlapping_confirmed_areas_refused(session, tmp_path):
    """The importer keeps the same rule: two confirmed polygons on the same ground are refused, nothing changes."""
    import json

    from pyproj import Transformer
    from sqlalchemy import func, select

    from subsidence.census.models import SubsidenceArea
    from subsidence.interchange.imports import ImportFailed, run_import

    tr = Transformer.from_crs("EPSG:4546", "EPSG:4490", always_xy=True)

    def ring(x0, y0, x1, y1):
        pts = [tr.transform(x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))]
        return {"type": "Polygon", "coordinates": [[list(p) for p in pts]]}

    feats = [
        {
            "type": "Feature",
            "properties": {"code": c, "source": "survey", "review_state": "confirmed"},
            "geometry": ring(*xy),
        }
        for c, xy in (("IMP-1", (X0, Y0, X0 + 500, Y0 + 500)), ("IMP-2", (X0 + 400, Y0, X0 + 900, Y0 + 500)))
    ]
    p = tmp_path / "areas.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": feats}), encoding="utf-8")
    with pytest.raises(ImportFailed, match=r"IMP-\d by 5\.00 ha \(75\.0 亩\)"):
        run_import(session, "subsidence-areas", p)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(SubsidenceArea)) == 0
