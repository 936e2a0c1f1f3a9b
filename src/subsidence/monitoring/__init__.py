"""Monitoring and early warning: pure methods (``methods``), the alarm state machine (``alarms``),
levels and grades (``levels``). Persistence lives in ``subsidence.services.{ingest,alarms,cards,hazards}``.
"""
