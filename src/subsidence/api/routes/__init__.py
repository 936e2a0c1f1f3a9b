"""One router module per resource; :data:`ROUTERS` lists them in the order the OpenAPI document shows."""

from subsidence.api.routes import (
                                   admin,
                                   auth,
                                   basemap,
                                   buildings,
                                   cards,
                                   census,
                                   dashboard,
                                   fund,
                                   health,
                                   inspections,
                                   map,
                                   minehazards,
                                   mines,
                                   monitoring,
                                   observations,
                                   ogc,
                                   problems,
                                   public,
                                   reports,
                                   water,
                                   workflow,
)

ROUTERS = [auth.router, problems.router, mines.router, monitoring.router, observations.router, census.router, map.router,
           dashboard.router, reports.router, public.router, admin.router, ogc.router,
           health.router, workflow.router, basemap.router,
           fund.router, water.router, minehazards.router, buildings.router, inspections.router, cards.router]
