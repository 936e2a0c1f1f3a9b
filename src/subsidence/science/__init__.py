"""Subsidence science core: pure computation, numpy in / numpy out (no files, no database).

Units and signs (docs/science.md §0, one convention everywhere)
-------------------------------------------------------
Coordinates x (east), y (north) in metres of a projected CRS; subsidence W in mm, **positive downward**;
tilt i in mm/m; curvature K in 10^-3/m (= mm/m^2 = 1/km); horizontal displacement U in mm (positive toward
+x east / +y north); horizontal strain eps in mm/m (positive = extension). Angles in degrees; azimuths clockwise
from grid north. Times: ``numpy.datetime64`` / ``datetime.date``; rates in mm/d.

Public API (stable; other modules code against it)
---------------------------------------------------
``pim`` — probability integral method (概率积分法)
    PIMParams(q, tan_beta, b=0.3, theta0_deg=90, s_m=0, s1_m..s4_m=None, tan_beta_dip=None, tan_beta_rise=None,
              offset_convention="seam"|"horizontal")
        frozen, validated (q in (0, 1.5], tan_beta > 0, 0 <= b, 0 < theta0 <= 90, offsets >= 0); the offset
        convention says whether s1, s2 lie along the seam or in plan (docs/science/pim.md).
    PanelGeometry(outline, thickness_m, depth_dip_m, depth_rise_m=None, dip_deg=0, dip_azimuth_deg=0,
                  start_date=None, end_date=None, advance_m_per_day=None, advance_azimuth_deg=None, name="")
        ``outline``: (n, 2) array of plan-view vertices in metres (or a shapely Polygon); rectangles at any
        orientation use the exact separable formula, any other polygon the boundary-integral quadrature.
        ``PanelGeometry.rectangle(cx, cy, length_m, width_m, azimuth_deg, ...)`` builds one. Without
        depth_rise_m the up-dip depth is derived, H2 = H1 - D1 sin(dip) (logged; ``depth_rise_derived``).
    predict_points(panels, params, x, y, *, at=None, time_function=None, components=None) -> Field
    predict_grid(panels, params, x, y, *, at=None, time_function=None, components=None,
                 memory_budget_mb=3072) -> Field     (ScienceInputError before any work when over budget)
    grid_axes(bounds, spacing) -> (x, y) ; influence_bounds(panels, params, margin_r=3) -> bounds
    ScienceInputError(ValueError): impossible input (q, tanβ, thickness, depth, offsets, grid size ...)
        ``x`` (nx,), ``y`` (ny,) cell-centre coordinates; arrays in the Field have shape (ny, nx).
        ``at``: a date -> dynamic prediction (face advance + time function, see ``dynamics``); None -> final
        (static) basin.
    Field: W plus gradient/Hessian/displacement/strain tensors in map axes; ``Field.component(name)`` and
        ``Field.components(names)`` give the named, unit-suffixed outputs listed in ``pim.COMPONENTS``
        ("subsidence_mm", "tilt_x_mm_per_m", ..., "strain_max_mm_per_m"), ``Field.along(azimuth_deg)`` the
        directional tilt/curvature/displacement/strain.
``dynamics`` — time functions and face advance (kernels in ``advance``, re-exported by ``dynamics``)
    TimeFunction(kind="improved_knothe"|"knothe"|"segmented_knothe", c_per_day=None, duration_days=None, k=2.0,
                 c_basis="shendong"|"code_duration")
        c when not given: from duration_days (98 % complete at T), else c = kappa / H0 (Shendong calibration on
        Bulianta 32301, docs/science/dynamics.md) or, with c_basis="code_duration", from T = 2.5 H0 days.
    time_constant_from_duration(T_days, kind, k) ; movement_duration_days(H0_m) ; mined_fraction(panel, at)
    fit_time_function(age_days, w_mm, w_final_mm, kind) -> TimeFunction (c, k fitted)
    fit_time_function_series(panels, params, x, y, dates, w_mm[T, N], kind, fit=("c_per_day", "k"[, "q"]))
        -> TimeFunctionFit (time_function, params, std, rms_mm, warnings): c from InSAR/levelling series
    subsidence_at(panels, params, x, y, at, tf, grid=False) -> Field ; rate_at(...) -> ndarray (mm/d)
    (``pim.predict_points/predict_grid(..., at=date, time_function=tf)`` do the same for every component.)
``inversion`` — PIM parameters from observations
    PointObservations(x, y, subsidence_mm=None, east_mm=None, north_mm=None, sigma_vertical_mm=5,
                      sigma_horizontal_mm=10)
    LOSObservations(x, y, los_mm, unit_enu (3,) or (n, 3), sigma_mm=5)   (LOS positive toward the satellite)
    LOSObservations.from_geometry(x, y, los_mm, incidence_deg, heading_deg) ; los_unit_vector(inc, heading)
    invert(panels, observations, *, initial=PIMParams(...), fit=("q","tan_beta","b","theta0_deg","s_m"),
           fixed=None, bounds=None, loss="soft_l1", n_starts=8, seed=0, at=None, time_function=None,
           noise="independent"|"correlated", correlation_length_m=None, fixed_sigma=None)
        -> InversionResult: params (PIMParams), std (dict), resolved (dict), correlation, fixed (name -> reason),
           warnings (list), residuals (set name -> predicted - observed, mm), rms_mm (float, all values),
           rms_mm_by_set, std_fit (noise only), fixed_sigma (propagated), noise (fitted covariance model),
           ``to_json()`` (PARAMS.json readable by ``PIMParams.from_dict``).
        b is fixed (and said so) with vertical-only data or one LOS geometry; θ0 is fixed for flat seams.
``stability`` — movement stages from a displacement time series (vectorised over cells)
    StabilityCriteria(start_mm=10, active_rate_mm_per_day=1.67, stable_window_days=183, stable_max_mm=30,
                      rate_window_days=30)
    classify(dates, series_mm[T, ...], criteria) -> StabilityResult: stage (codes NO_DATA -1, NOT_STARTED 0,
        INITIAL 1, ACTIVE 2, DECLINING 3, STABLE 4), stage_series, rate_mm_per_day, stage_since, started_on,
        active_from, declining_from, stable_from (datetime64[D], NaT = never), stage_names()
    classify_series(series_mm[T, N], dates) -> object array of ledger stages ("not_started" | "active" |
        "declining" | "stable"; initial -> active), for ``models.enums.MovementStage``
``damage`` — building damage grade I..IV (brick-concrete)
    DamageThresholds (docs/science.md §3 defaults) ; grade(tilt, curvature, strain) -> int array 1..4
    footprint_damage(tilt, curvature, strain, transform, footprints) -> BuildingDamage (per-building maxima
        over the footprint, grade 0 = outside the raster, governing indicator)

Thin I/O lives elsewhere: ``subsidence.io.raster`` (GeoTIFF), ``subsidence.prediction.service`` (panels from
a vector file or the database), CLI ``subsidence predict|invert|stability|damage``.
"""
