"""Census areas within 5 % of truth at 3-5 mm of noise (issue 15: they ran +6.6 % / +8.7 % over truth).

Truth: the area where the true subsidence at the last date is >= 10 mm. The noisy maps come from our SBAS inversion
of synthetic stacks with coherence-driven decorrelation noise (~3 mm in the final map) and a spatially correlated
turbulent atmosphere per date, or from a bowl plus 5 mm white noise and a reference-pixel offset. Before the fix
the area depended on the noise of the single reference pixel (-15 % .. +27 % on these stacks) and a per-pixel
threshold overestimated it; see :mod:`subsidence.census.kernels.levels`.
"""

from __future__ import annotations

import numpy as np
import pytest
from affine import Affine

from subsidence.census.kernels.basins import BasinParams, detect_basins
from subsidence.census.kernels.grid import Grid
from subsidence.census.kernels.inputs import load_deformation
from subsidence.insar.pipeline import TimeseriesOptions, run_timeseries
from subsidence.insar.synthetic import (
    SyntheticSpec,
    bowl_shape,
    synthetic_stack,
    truth_los_m,
)

INC = 39.0
PX_HA = 30.0 * 30.0 / 1e4


def _no_stage(series, dates):
    return np.array(["not_started"] * series.shape[1], dtype=object)


def _area_error(res, truth_ha):
    return max(b.area_ha for b in res.basins) / truth_ha - 1.0


@pytest.mark.slow
@pytest.mark.parametrize("max_los_m", [-0.06, -0.2])  # 77 mm and 257 mm of subsidence at the centre
@pytest.mark.parametrize("atmosphere_m", [0.001, 0.0015])  # per date; 3.2-3.7 mm noise in the final map
def test_sbas_stack_with_correlated_atmosphere(tmp_path, max_los_m, atmosphere_m):
    errors, sigmas = [], []
    for seed in range(4):
        spec = SyntheticSpec(
            rows=100,
            cols=100,
            n_dates=30,
            links=3,
            nodata_fraction=0.05,
            seed=seed,
            atmosphere_m=atmosphere_m,
            coherence_range=(0.25, 0.9),
            max_los_m=max_los_m,
        )
        out = tmp_path / f"ts{seed}"
        run_timeseries(synthetic_stack(spec), out, TimeseriesOptions(workers=2, geotiff=False))
        d = load_deformation(out, incidence_deg=INC)
        truth = -truth_los_m(spec)[-1] * 1000.0 / np.cos(np.deg2rad(INC))
        truth_ha = float((truth >= 10.0).sum()) * PX_HA
        res = detect_basins(
            None, d.grid, series_mm=d.series_mm, dates=d.dates, coherence=d.coherence, stage_fn=_no_stage
        )
        errors.append(_area_error(res, truth_ha))
        sigmas.append(res.level.sigma)
        # the noise the fix measured is the noise there is (stable ground of the product minus the truth)
        far = truth < 0.5
        assert res.level.sigma == pytest.approx(np.nanstd((d.subsidence_mm - truth)[far]), rel=0.25)
    assert 2.5 < np.mean(sigmas) < 5.0
    assert max(abs(e) for e in errors) < 0.05, errors


@pytest.mark.parametrize("seed", range(4))
def test_white_noise_5mm_and_reference_offset(seed):
    """A bowl (PIM-like, 77 mm) + 5 mm white noise + the reference pixel's own error as a map-wide offset."""
    n = 100
    g = Grid.make(Affine(30, 0, 400_000, 0, -30, 4_370_000), "EPSG:4546", (n, n))
    w = 77.0 * bowl_shape(np.arange(n, dtype=float), np.arange(n, dtype=float), SyntheticSpec(rows=n, cols=n))
    rng = np.random.default_rng(seed)
    offset = rng.choice([-4.0, 4.0])
    noisy = w + rng.normal(0.0, 5.0, w.shape) + offset
    truth_ha = float((w >= 10.0).sum()) * PX_HA
    res = detect_basins(noisy, g)
    assert abs(_area_error(res, truth_ha)) < 0.05
    assert res.level.offset == pytest.approx(offset, abs=0.5) and res.level.sigma == pytest.approx(5.0, rel=0.1)
    assert res.level.edge_threshold > 10.0  # a noisy map's edge is raised to unbias the area
    # the old behaviour: the offset moves the 10 mm contour far out or in
    old = detect_basins(noisy, g, params=BasinParams(relevel=False, noise_edge=False))
    assert abs(_area_error(old, truth_ha)) > 0.08


def test_noise_free_map_is_unchanged():
    n = 80
    g = Grid.make(Affine(30, 0, 400_000, 0, -30, 4_370_000), "EPSG:4546", (n, n))
    w = 120.0 * bowl_shape(np.arange(n, dtype=float), np.arange(n, dtype=float), SyntheticSpec(rows=n, cols=n))
    new = detect_basins(w, g)
    old = detect_basins(w, g, params=BasinParams(relevel=False, noise_edge=False))
    assert new.level.offset == pytest.approx(0.0, abs=1e-6) and new.level.edge_threshold == 10.0
    assert [b.n_pixels for b in new.basins] == [b.n_pixels for b in old.basins]
    assert new.basins[0].max_subsidence_mm == pytest.approx(old.basins[0].max_subsidence_mm)


def test_noise_larger_than_the_threshold_is_not_corrected_but_warned(caplog):
    n = 80
    g = Grid.make(Affine(30, 0, 400_000, 0, -30, 4_370_000), "EPSG:4546", (n, n))
    w = 200.0 * bowl_shape(np.arange(n, dtype=float), np.arange(n, dtype=float), SyntheticSpec(rows=n, cols=n))
    noisy = w + np.random.default_rng(1).normal(0.0, 8.0, w.shape)  # 8 mm noise, 10 mm threshold
    with caplog.at_level("WARNING", logger="subsidence.census.kernels.levels"):
        res = detect_basins(noisy, g)
    assert res.level.edge_threshold == 10.0
    assert "dominated by noise" in caplog.text


def test_census_output_records_the_map_level():
    """The zero level, noise and edge level the census used travel with its parameters (output and saved run)."""
    from subsidence.census.kernels.inputs import SubsidenceInput
    from subsidence.census.kernels.pipeline import run_census

    n = 100
    g = Grid.make(Affine(30, 0, 400_000, 0, -30, 4_370_000), "EPSG:4546", (n, n))
    w = 77.0 * bowl_shape(np.arange(n, dtype=float), np.arange(n, dtype=float), SyntheticSpec(rows=n, cols=n))
    noisy = w + np.random.default_rng(3).normal(0.0, 3.0, w.shape) + 4.0
    census = run_census(SubsidenceInput(grid=g, kind="cumulative", subsidence_mm=noisy))
    level = census.parameters()["level"]
    assert level["offset"] == pytest.approx(4.0, abs=0.5) and level["sigma"] == pytest.approx(3.0, rel=0.15)


# ------------------------------------------------------------------------------------------------------------
# issue 15 follow-up: correlated atmosphere at 3-5 mm (APS filter in the time series) and the area interval
# ------------------------------------------------------------------------------------------------------------
def _sbas_census(tmp_path, seed, max_los_m, atmosphere_m, aps_filter=None):
    spec = SyntheticSpec(
        rows=100,
        cols=100,
        n_dates=30,
        links=3,
        nodata_fraction=0.05,
        seed=seed,
        atmosphere_m=atmosphere_m,
        coherence_range=(0.25, 0.9),
        max_los_m=max_los_m,
    )
    out = tmp_path / f"ts{seed}_{aps_filter}"
    run_timeseries(synthetic_stack(spec), out, TimeseriesOptions(workers=2, geotiff=False, aps_filter=aps_filter))
    d = load_deformation(out, incidence_deg=INC)
    truth = -truth_los_m(spec)[-1] * 1000.0 / np.cos(np.deg2rad(INC))
    truth_ha = float((truth >= 10.0).sum()) * PX_HA
    res = detect_basins(None, d.grid, series_mm=d.series_mm, dates=d.dates, coherence=d.coherence, stage_fn=_no_stage)
    return res, truth_ha


@pytest.mark.slow
@pytest.mark.parametrize("max_los_m", [-0.06, -0.2])  # 77 mm and 257 mm at the centre
def test_sbas_stack_strong_atmosphere_within_5_percent_with_the_aps_filter(tmp_path, max_los_m):
    """2 mm of turbulent delay per date: 4.1-4.2 mm of map noise without the filter, where one seed of six ran
    +13.6 % (77 mm bowl); the APS filter (default with >= 12 dates) brings every seed within 5 %."""
    errors, sigmas = [], []
    for seed in range(6):
        res, truth_ha = _sbas_census(tmp_path, seed, max_los_m, 0.002)
        errors.append(_area_error(res, truth_ha))
        sigmas.append(res.level.sigma)
    assert 3.0 < np.mean(sigmas) < 5.0, sigmas  # still 3-5 mm of noise after the filter (decorrelation)
    assert max(abs(e) for e in errors) < 0.05, errors


@pytest.mark.slow
def test_sbas_stack_without_the_filter_is_worse_on_the_same_seed(tmp_path):
    """The case the filter exists for: seed 0, 77 mm bowl, 2 mm/date — the unfiltered census is > 10 % off and the
    interval it reports covers the truth; the filtered one is within 5 %."""
    raw, truth_ha = _sbas_census(tmp_path, 0, -0.06, 0.002, aps_filter=False)
    filt, _ = _sbas_census(tmp_path, 0, -0.06, 0.002)
    assert abs(_area_error(raw, truth_ha)) > 0.10
    assert abs(_area_error(filt, truth_ha)) < 0.05
    big = max(raw.basins, key=lambda b: b.area_ha)
    assert big.area_ha_low <= truth_ha <= big.area_ha_high


def _map_with_atmosphere(seed, amp_mm, atm_mm, white_mm, n=100):
    from subsidence.insar.synthetic import atmosphere_screens

    w = amp_mm * bowl_shape(np.arange(n, dtype=float), np.arange(n, dtype=float), SyntheticSpec(rows=n, cols=n))
    a = atmosphere_screens(SyntheticSpec(rows=n, cols=n, n_dates=1, seed=seed, atmosphere_m=atm_mm / 1000))[0]
    return w, w + a * 1000.0 + np.random.default_rng(seed).normal(0.0, white_mm, w.shape)


@pytest.mark.slow
@pytest.mark.parametrize("amp_mm, atm_mm, white_mm", [(77.0, 3.0, 2.0), (257.0, 4.0, 2.0)])
def test_area_interval_covers_the_truth_at_its_stated_rate(amp_mm, atm_mm, white_mm):
    """One cumulative map, nothing to filter: 3.6-4.5 mm of noise, most of it spatially correlated. The 95 %
    interval (area_ha_low..high) must cover the true area in about 95 % of the seeds (>= 26 of 30: a true 95 %
    rate gives fewer than 26 with probability < 2 %), and not by being uselessly wide."""
    n = 100
    g = Grid.make(Affine(30, 0, 400_000, 0, -30, 4_370_000), "EPSG:4546", (n, n))
    covered, half_widths, errors = 0, [], []
    for seed in range(30):
        w, noisy = _map_with_atmosphere(seed, amp_mm, atm_mm, white_mm, n)
        truth_ha = float((w >= 10.0).sum()) * PX_HA
        res = detect_basins(noisy, g)
        b = max(res.basins, key=lambda x: x.area_ha)
        covered += b.area_ha_low <= truth_ha <= b.area_ha_high
        half_widths.append((b.area_ha_high - b.area_ha_low) / 2 / truth_ha)
        errors.append(b.area_ha / truth_ha - 1)
        assert res.level.covariance is not None and res.level.covariance.sigma_corr > 1.0
    assert covered >= 26, covered
    assert np.mean(half_widths) < 0.25
    # the interval is not wider than the spread it describes by more than ~2.5x
    assert np.mean(half_widths) / 1.96 < 2.5 * np.sqrt(np.mean(np.square(errors)))


def test_area_interval_in_the_properties_and_zero_on_a_noise_free_map():
    n = 80
    g = Grid.make(Affine(30, 0, 400_000, 0, -30, 4_370_000), "EPSG:4546", (n, n))
    w = 120.0 * bowl_shape(np.arange(n, dtype=float), np.arange(n, dtype=float), SyntheticSpec(rows=n, cols=n))
    b = detect_basins(w, g).basins[0]
    p = b.properties()
    assert p["area_ha_low"] == pytest.approx(p["area_ha"], abs=0.01) == pytest.approx(p["area_ha_high"], abs=0.01)
    _, noisy = _map_with_atmosphere(1, 120.0, 3.0, 2.0, n)
    res = detect_basins(noisy, g)
    b = max(res.basins, key=lambda x: x.area_ha)
    assert b.area_ha_low < b.area_ha < b.area_ha_high
    assert b.properties()["area_ha_high"] == pytest.approx(b.area_ha + 1.96 * b.area_sd_ha, abs=1e-3)
    assert res.level.as_dict()["covariance"]["sigma_correlated"] > 1.0
    off = detect_basins(noisy, g, params=BasinParams(area_interval=False))
    assert off.basins[0].area_sd_ha is None and off.basins[0].properties()["area_ha_low"] is None
