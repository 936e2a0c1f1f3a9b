"""The census as pure computation: deformation inputs on a metric grid, map levels and noise, basins, fusion of
decorrelated centres, attribution to mines, panels and towns, change between censuses, vegetation and PV land,
and their output files. Arrays and geometries in, arrays and geometries out; the census's persistence, review and
baseline are the rest of :mod:`subsidence.census`.

API for consumers (services, web, reports)
------------------------------------------
``grid.Grid.make(transform, crs, shape)``
    Raster georeferencing; refuses a geographic CRS and any projection other than Transverse Mercator
    (Gauss–Krüger/UTM): areas are never computed in degrees or Web Mercator metres (``grid.is_local_metric``).
``basins.detect_basins(subsidence_mm, grid, *, params=BasinParams(), rate_mm_per_yr=None, coherence=None,
series_mm=None, dates=None, observed=None, filler=None) -> BasinResult``
    Areas as MultiPolygons (rasterio.features.shapes, 8-connected) with area_ha, max/mean subsidence, volume m³,
    mean rate, stability stage (science ``stability.classify_series`` per pixel, aggregated), first/last date
    seen, decorrelated_ha, filled_fraction/filled_geometry, max_is_lower_bound. Defaults justified in the module.
``fusion.pim_filler(panels, initial=None, params=FusionParams()) -> Filler``
    Fills decorrelated centres by fitting the PIM (science ``inversion.invert``) to the reliable edge pixels:
    nested models (q, tanβ; + inflection offset; + θ0 when inclined) chosen by BIC/AIC, the centre maximum with a
    95 % interval, a lower bound when the edges do not identify it (``Basin.extra["fusion"]``);
    ``fusion.fit_centre(...)`` is the same on plain arrays.
``attribution.Attributor(mines, panels, towns, params).attribute(geom) -> Attribution``
    Overlaps (ha) with mining rights, panels, towns; ``outside_mining_right``, ``outside_causing_licence``,
    ``beyond_licence`` (疑似越界开采) with areas; ``overlap_table(polygons, targets)`` per-target totals.
``change.compare(before, after, ChangeParams()) -> list[AreaChange]``
    new / grown / shrunk / became stable / unchanged / vanished / merged / split between two censuses.
``vegetation``: ``reflectance``, ``ndvi``, ``cloud_mask`` (binary or Sentinel-2 SCL), ``vegetation_change(...)``
    → loss / recovery polygons (task 3).
``pv.pv_candidates(areas, panels, towns, as_of, PVParams())``
    Stable land at least a year past mining nearby (生态光伏+), per town.
``pipeline.run_census(SubsidenceInput, mines=..., panels=..., towns=...) -> Census``
    Detection + reprojection to the storage CRS + attribution in one call.
``inputs.load_deformation(path, quantity=, kind=, units=, incidence_deg=)``
    GeoTIFF / MintPy / LiCSBAS / ``subsidence timeseries`` folder → ``SubsidenceInput`` on a local GK/UTM grid
    (other CRSs reprojected); a GeoTIFF must state DIRECTION and UNIT by tags or by the caller, never guessed;
    ``inputs.read_layer(path, "mines"|"towns"|"panels")`` reference layers from vector files.
"""
