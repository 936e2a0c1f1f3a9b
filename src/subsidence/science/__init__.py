"""Subsidence science core: pure computation, numpy in / numpy out (no files, no database).

Units and signs (SCIENCE.md, one convention everywhere)
-------------------------------------------------------
Coordinates x (east), y (north) in metres of a projected CRS; subsidence W in mm, **positive downward**;
tilt i in mm/m; curvature K in 10^-3/m (= mm/m^2 = 1/km); horizontal displacement U in mm (positive toward
+x east / +y north); horizontal strain eps in mm/m (positive = extension). Angles in degrees; azimuths clockwise
from grid north. Times: ``numpy.datetime64`` / ``datetime.date``; rates in mm/d.

Public API (stable; other modules code against it)
---------------------------------------------------
``pim`` — probability integral method (概率积分法)
    PIMParams(q, tan_beta, b=0.3, theta0_deg=90, s_m=0, s1_m..s4_m=None, tan_beta_dip=None, tan_beta_rise=None)
        frozen, validated (q in (0, 1.5], tan_beta > 0, 0 <= b, 0 < theta0 <= 90, offsets >= 0).
    PanelGeometry(outline, thickness_m, depth_dip_m, depth_rise_m=None, dip_deg=0, dip_azimuth_deg=0,
                  start_date=None, end_date=None, advance_m_per_day=None, advance_azimuth_deg=None, name="")
        ``outline``: (n, 2) array of plan-view vertices in metres (or a shapely Polygon); rectangles at any
        orientation use the exact separable formula, any other polygon the boundary-integral quadrature.
        ``PanelGeometry.rectangle(cx, cy, length_m, width_m, azimuth_deg, ...)`` builds one.
    predict_points(panels, params, x, y, *, at=None, components=None) -> Field
    predict_grid(panels, params, x, y, *, at=None, components=None, memory_budget_mb=...) -> Field
        ``x`` (nx,), ``y`` (ny,) cell-centre coordinates; arrays in the Field have shape (ny, nx).
        ``at``: a date -> dynamic prediction (face advance + time function, see ``dynamics``); None -> final
        (static) basin.
    Field: W plus gradient/Hessian/displacement/strain tensors in map axes; ``Field.component(name)`` and
        ``Field.components(names)`` give the named, unit-suffixed outputs listed in ``pim.COMPONENTS``
        ("subsidence_mm", "tilt_x_mm_per_m", ..., "strain_max_mm_per_m"), ``Field.along(azimuth_deg)`` the
        directional tilt/curvature/displacement/strain.
``dynamics`` — time functions and face advance
    TimeFunction(kind="knothe"|"improved_knothe"|"segmented_knothe", c_per_day=None, duration_days=None, k=2.0)
    time_constant_from_duration(T_days, kind, k) ; movement_duration_days(H0_m) (T ~ 2.5 H0, [verify])
    fit_time_function(t_days, w_mm, w_final_mm, kind) ; mined_fraction(panel, at)
    subsidence_at(panels, params, x, y, at, tf) / rate_at(...) (mm/d)  — grid or points
``inversion`` — PIM parameters from observations
    PointObservations(x, y, subsidence_mm=None, east_mm=None, north_mm=None, sigma_*_mm=...)
    LOSObservations(x, y, los_mm, unit_enu (3,) or (n, 3), sigma_mm)   (LOS positive toward the satellite)
    invert(panels, observations, *, initial=PIMParams(...), fit=("q","tan_beta","b","theta0_deg","s_m"),
           fixed=None, bounds=None, loss="soft_l1", n_starts=8, seed=0) -> InversionResult
        InversionResult: params, std (dict), correlation, residuals per observation set, rms_mm, warnings,
        fixed (dict with reasons), ``to_json()``.
``stability`` — movement stages from a displacement time series (vectorised over cells)
    StabilityCriteria(start_mm=10, active_rate_mm_per_day=1.67, stable_window_days=183, stable_max_mm=30)
    classify(dates, series_mm[T, ...], criteria) -> StabilityResult (stage codes + change dates per cell)
``damage`` — building damage grade I..IV (brick-concrete)
    DamageThresholds (SCIENCE.md section 3 defaults) ; grade(tilt, curvature, strain) -> int array 1..4
    footprint_grades(field_rasters, transform, footprints) -> per-building max indicators + grade

Thin I/O lives elsewhere: ``subsidence.io.raster`` (GeoTIFF), ``subsidence.services.prediction`` (panels from
a vector file or the database), CLI ``subsidence predict|invert|stability|damage``.
"""
