"""Early warning as pure computation: the warning methods (tangent angle, inverse velocity, thresholds, rainfall,
groundwater), failure forecasting for general Voight behaviour, warning levels and danger grades, the alarm state
machine, and the analysis of one series. Numpy in, numpy out: no files, no database, no clocks.

The persistence around them (sensors, observations, alarms, the outbox) is the rest of :mod:`subsidence.monitoring`.
"""
