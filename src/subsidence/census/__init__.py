"""Remote-sensing census (摸清底数): deformation rasters → subsidence areas → attribution → review → baseline.

The computation is pure and lives in :mod:`subsidence.census.kernels` (its API is listed there). This package
adds the census's tables (``models``), who may see and review them (``policies``), saving runs, expert review and
problems (``service``) and the reading side with the baseline (``queries``). CLI: ``subsidence census``,
``review``, ``census-change``, ``vegetation``, ``pv``.
"""
