"""Demo accounts: one per role (two enterprises), passwords ``<username>-demo-2024`` (demo only)."""

from __future__ import annotations

from datetime import date

import numpy as np
from sqlalchemy.orm import Session


def populate(session: Session, rng: np.random.Generator, today: date) -> dict[str, int]:
    from subsidence.services.accounts import ensure_demo_accounts

    return {"demo accounts": len(ensure_demo_accounts(session))}
