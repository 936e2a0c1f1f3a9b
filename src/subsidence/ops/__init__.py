"""Running the platform in an office for years: backup and restore, heartbeats and health, upgrades.

* :mod:`subsidence.ops.backup` — one archive with a consistent database snapshot and every file of the data
  directory, a manifest of row counts and SHA-256 sums; verify; restore into an empty database.
* :mod:`subsidence.ops.heartbeat` — the sweep, the dispatcher and the backup record when they last ran.
* :mod:`subsidence.ops.health` — database, disk, sweep, outbox and backup in one report; operations alarms
  through the outbox and the log when one of them is overdue.
* :mod:`subsidence.ops.models` — the one table of this package (``ops_heartbeat``).

This package sits with the adapters (it reads every domain's tables to count them); nothing below the CLI
and the web application imports it, except ``subsidence.schema`` for the table registration.
"""
