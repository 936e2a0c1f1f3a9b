"""One router module per resource; :data:`ROUTERS` lists them in the order the OpenAPI document shows."""

from subsidence.api.routes import (
                                   admin,
                                   auth,
                                   basemap,
                                   census,
                                   dashboard,
                                   health,
                                   map,
                                   mines,
                                   monitoring,
                                   observations,
                                   ogc,
                                   problems,
                                   public,
                                   reports,
                                   workflow,
)

ROUTERS = [auth.router, problems.router, mines.router, monitoring.router, observations.router, census.router, map.router,
           dashboard.router, reports.router, public.router, admin.router, ogc.router,
           health.router, workflow.router, basemap.router]
