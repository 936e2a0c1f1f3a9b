"""``/api/health``: liveness for anybody (load balancers, uptime probes), the full report for the office.

Anonymous callers and every role but the office get ``{"status": "ok"}`` (200) or ``{"status": "down"}`` (503,
the database is unreachable) and nothing else: disks, backups and the outbox are not the public's business.
The office gets :func:`subsidence.ops.health.report` (status ``ok``/``degraded`` 200, ``down`` 503). Never cached.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from subsidence.api.deps import OptionalUser, SettingsDep

router = APIRouter(prefix="/api", tags=["health"])


@router.get("/health", summary="运行状态 / health: liveness for all, details for the office")
def health(request: Request, actor: OptionalUser, settings: SettingsDep) -> JSONResponse:
    from subsidence.ops.health import liveness, may_see_details, report

    engine = request.app.state.engine
    body = report(settings, engine) if may_see_details(actor) else liveness(engine)
    return JSONResponse(
        body, status_code=503 if body["status"] == "down" else 200, headers={"Cache-Control": "no-store"}
    )
