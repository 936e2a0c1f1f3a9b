"""Commands of the task ledgers: ``fund``, ``buildings``, ``water``, ``minehazards``, ``draw``, ``assess`` and
``tasks`` (their Excel tables), one module per command group."""
