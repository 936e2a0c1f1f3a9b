"""Issue 9 on the map: planned, reported and verified parcels as layers, scoped like everything else."""

from __future__ import annotations

from datetime import date

from shapely.geometry import box
from sqlalchemy import select

from subsidence.core.models import Mine
from subsidence.plans.service import ParcelInput, register_plan, report_treated, set_annual_plan
from subsidence.vocabulary import ParcelState
from tests.web.conftest import auth


def _seed(session, mine: Mine):
    x0, y0, _, _ = mine.geometry.bounds
    inner = box(x0 + 50, y0 + 50, x0 + 250, y0 + 250)
    register_plan(
        session,
        mine,
        doc_no=f"复垦-{mine.licence_no}",
        approval_date=date(2023, 1, 1),
        valid_from=date(2023, 1, 1),
        valid_to=date(2028, 1, 1),
        parcels=[ParcelInput(f"P-{mine.licence_no}", "grassland", inner)],
    )
    set_annual_plan(session, mine, 2024, target_treat_ha=1, target_reclaim_ha=1)
    (t,) = report_treated(
        session, mine, 2024, [ParcelInput(f"T-{mine.licence_no}", "grassland", inner)], reported_date=date(2024, 11, 1)
    )
    return t


def test_parcel_layers_are_served_and_scoped(client, world, session):
    mines = list(session.scalars(select(Mine).order_by(Mine.id)))
    parcels = [_seed(session, m) for m in mines if m.geometry is not None]
    parcels[0].state = ParcelState.VERIFIED_RS
    session.commit()
    office = auth(world, "office")
    ids = {c["id"] for c in client.get("/ogc/collections", headers=office).json()["collections"]}
    assert {"planned_parcels", "reported_parcels", "verified_parcels"} <= ids
    planned = client.get("/ogc/collections/planned_parcels/items", headers=office).json()["features"]
    verified = client.get("/ogc/collections/verified_parcels/items", headers=office).json()["features"]
    reported = client.get("/ogc/collections/reported_parcels/items", headers=office).json()["features"]
    assert len(planned) == len(parcels) and len(verified) == 1 and len(reported) == len(parcels) - 1
    assert verified[0]["properties"]["state"] == "verified_rs"
    # an enterprise sees only the parcels of its own mines
    seen = client.get("/ogc/collections/planned_parcels/items", headers=auth(world, "enterprise_a")).json()["features"]
    own = [m for m in mines if m.enterprise_id == world.ids["ea"] and m.geometry is not None]
    assert len(seen) == len(own) and len(seen) < len(planned)
    public = client.get("/ogc/collections/planned_parcels/items", headers=auth(world, "public"))
    assert public.status_code in (403, 404) or public.json()["features"] == []
