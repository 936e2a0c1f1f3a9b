"""Demo census (illustrative): subsidence areas over the demo panels from the PIM forward model, reviewed.

For each mine a 60 m grid around its panels gets the PIM prediction (science package) at three dates (six
months ago, a month ago, today; cumulative since before mining, as a long InSAR/DEM record would give) plus
3 mm noise; the centres of basins over panels still being mined are
blanked as InSAR would lose them (the physics limit) and filled by PIM fusion. One extra basin lies just
outside a mining right (an illustrative case of suspected mining beyond the licence). The census is saved,
then most areas are reviewed: confirmed (opening category-1 problems for untreated ones), one rejected,
a few left as candidates. Everything is marked illustrative.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import numpy as np
import shapely
from affine import Affine
from sqlalchemy import select
from sqlalchemy.orm import Session

from subsidence.census import service as svc
from subsidence.census.kernels.attribution import AttributionParams, Attributor
from subsidence.census.kernels.basins import BasinParams, detect_basins
from subsidence.census.kernels.fusion import FusionParams, pim_filler
from subsidence.census.kernels.grid import Grid
from subsidence.census.kernels.inputs import SubsidenceInput
from subsidence.census.kernels.pipeline import Census, CensusArea
from subsidence.census.models import SubsidenceArea
from subsidence.core.models import Mine, Panel
from subsidence.geo import STORAGE_CRS
from subsidence.vocabulary import MovementStage

log = logging.getLogger(__name__)

PX = 60.0  # coarse enough to keep the demo build quick; areas are illustrative
REVIEWER = "旗自然资源局 专家评审组（示例）"


def _science_panel(p: Panel):
    from subsidence.science.pim import PanelGeometry

    return PanelGeometry(
        outline=p.geometry,
        thickness_m=p.thickness_m,
        depth_dip_m=p.depth_dip_m,
        depth_rise_m=p.depth_rise_m,
        dip_deg=p.dip_deg or 0.0,
        dip_azimuth_deg=p.dip_azimuth_deg or 0.0,
        start_date=p.start_date,
        end_date=p.end_date,
        advance_m_per_day=p.advance_m_per_day,
        name=p.code,
    )


def populate(session: Session, rng: np.random.Generator, today: date) -> dict[str, int]:
    try:
        from subsidence.science import pim
    except Exception as exc:  # pragma: no cover - the science package ships with the product
        log.warning("demo census skipped: %s", exc)
        return {}
    params = pim.PIMParams(q=0.7, tan_beta=2.4)
    dates = [today - timedelta(days=183), today - timedelta(days=30), today]
    mines, panels_all, towns = svc.reference_layers(session)
    attributor = Attributor(mines, panels_all, towns, AttributionParams())
    bparams = BasinParams()
    areas: list[CensusArea] = []
    first_d: SubsidenceInput | None = None
    first_res = None
    for mine in session.scalars(select(Mine).where(Mine.geometry.is_not(None)).order_by(Mine.licence_no)):
        rows = list(
            session.scalars(
                select(Panel)
                .where(Panel.mine_id == mine.id, Panel.geometry.is_not(None), Panel.start_date <= today)
                .order_by(Panel.code)
            )
        )
        sci = [_science_panel(p) for p in rows]
        if mine.licence_no.endswith(("3", "7")) and rows:  # an illustrative panel beyond the licence
            edge = mine.geometry.envelope.exterior
            far = shapely.Point(edge.coords[1]).buffer(1)
            centre = far.centroid
            ghost = shapely.box(centre.x + 250, centre.y - 500, centre.x + 550, centre.y + 500)
            if not ghost.intersects(mine.geometry):
                sci.append(
                    pim.PanelGeometry(
                        outline=ghost,
                        thickness_m=3.5,
                        depth_dip_m=180.0,
                        start_date=today - timedelta(days=600),
                        end_date=today - timedelta(days=400),
                        name="unlicensed",
                    )
                )
        if not sci:
            continue
        zone = shapely.union_all([shapely.Polygon(np.asarray(p.outline)) for p in sci]).buffer(600)
        x0, y0, x1, y1 = zone.bounds
        tf = Affine(PX, 0, np.floor(x0 / PX) * PX, 0, -PX, np.ceil(y1 / PX) * PX)
        nx, ny = int(np.ceil((x1 - tf.c) / PX)), int(np.ceil((tf.f - y0) / PX))
        grid = Grid.make(tf, STORAGE_CRS, (ny, nx))
        xs = tf.c + PX * (np.arange(nx) + 0.5)
        ys = tf.f - PX * (np.arange(ny) + 0.5)
        series = np.stack([pim.predict_grid(sci, params, xs, ys, at=d, components=("subsidence_mm",)).W for d in dates])
        series = series + rng.normal(0, 3.0, series.shape)
        last = series[-1].copy()
        rate = (series[-1] - series[-2]) / 30.0  # mm/d over the last month
        lost = rate > 2.0  # fast-moving centres decorrelate (physics limit, ≈ λ/4 per 12 days between pixels)
        last[lost] = np.nan
        filler = (
            pim_filler(
                sci, initial=pim.PIMParams(q=0.6, tan_beta=2.0), params=FusionParams(n_starts=1, max_edge_pixels=800)
            )
            if lost.any()
            else None
        )
        d = SubsidenceInput(
            grid=grid,
            kind="cumulative",
            subsidence_mm=last,
            series_mm=series,
            dates=dates,
            source="demo: PIM forward model (illustrative)",
            observed=(dates[0], today),
        )
        res = detect_basins(
            last,
            grid,
            params=bparams,
            series_mm=series,
            dates=dates,
            observed=(dates[0], today),
            filler=filler,
            source=d.source,
        )
        first_d, first_res = first_d or d, first_res or res
        for b in res.basins:
            areas.append(
                CensusArea(
                    basin=b,
                    attribution=attributor.attribute(b.geometry),
                    geometry=b.geometry,
                    filled_geometry=b.filled_geometry,
                )
            )
    if not areas or first_d is None:
        return {}
    census = Census(
        areas=areas,
        basins=first_res,
        deformation=first_d,
        params=bparams,
        attribution_params=AttributionParams(),
        notes=["illustrative demo census from the PIM forward model"],
    )
    run = svc.save_census(session, census, census_date=today, actor="遥感监测中心（示例）", illustrative=True)
    counts = {"census_runs": 1, "subsidence_areas": len(areas), "area_problems": 0}
    codes = [
        a.code
        for a in session.scalars(
            select(SubsidenceArea).where(SubsidenceArea.census_id == run.id).order_by(SubsidenceArea.code)
        )
    ]
    for i, code in enumerate(codes):
        area = svc.get_area(session, code)
        if i % 7 == 6:
            continue  # still a candidate
        if (area.area_ha or 0) < 10 and (area.max_subsidence_mm or 0) < 300 and i % 2 == 1:
            svc.reject(session, code, reviewer=REVIEWER, reason="面积小、下沉量接近噪声水平，现场核查未见沉陷（示例）")
            continue
        if area.stability == MovementStage.STABLE and i % 3 == 0:
            svc.mark_treated(session, code, actor=REVIEWER, reason="已按复垦方案治理并验收（示例）")
        out = svc.confirm(
            session,
            code,
            reviewer=REVIEWER,
            reason="遥感解译与现场核查一致（示例）",
            today=today,
            meeting=f"{today.year}年沉陷区专家评审会（示例）",
        )
        counts["area_problems"] += int(out.problem_created)
    counts["confirmed_areas"] = len(svc.baseline(session))
    return counts
