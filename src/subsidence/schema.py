"""The whole domain model: importing this module registers every table on ``Base.metadata`` and every
access policy (``<domain>/policies.py``) on :mod:`subsidence.access.policy`.

Domain packages own their tables (``<domain>/models.py``); nothing below the adapters imports this module.
Entry points (the CLI, the web application, migrations, tests) import it once so that SQLAlchemy can resolve
relationships between domains by name.
"""

from __future__ import annotations

from subsidence.access import models as access  # noqa: F401
from subsidence.census import models as census  # noqa: F401
from subsidence.census import policies as _census_policies  # noqa: F401
from subsidence.core import models as core  # noqa: F401
from subsidence.db.base import Base
from subsidence.ledger import models as ledger  # noqa: F401
from subsidence.ledger import policies as _ledger_policies  # noqa: F401
from subsidence.monitoring import models as monitoring  # noqa: F401
from subsidence.monitoring import policies as _monitoring_policies  # noqa: F401
from subsidence.ops import models as ops  # noqa: F401  (heartbeats)
from subsidence.organisation import models as organisation  # noqa: F401  (positions)
from subsidence.plans import models as plans  # noqa: F401
from subsidence.plans import policies as _plans_policies  # noqa: F401
from subsidence.tasks import models as tasks  # noqa: F401
from subsidence.tasks import policies as _tasks_policies  # noqa: F401

metadata = Base.metadata

__all__ = ["metadata"]
