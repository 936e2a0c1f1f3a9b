"""Fusion on basins whose inflection points are offset inside the panel.

Fitting only q and tanβ to the edge pixels of such a basin converges to a small q with a small RMS and
predicts the decorrelated centre far too shallow; the fit must also try the offset, pick the model by an
information criterion, give the centre maximum with an interval, and say when it is only a lower bound.
"""

from __future__ import annotations

import numpy as np
import pytest

from subsidence.census.kernels.basins import detect_basins
from subsidence.census.kernels.fusion import FusionParams, fit_centre, pim_filler
from subsidence.science import pim
from tests.census.synth import X0, Y0, grid

G = grid(140)
PANEL = pim.PanelGeometry.rectangle(
    X0 + 2100, Y0 - 2100, 1200, 300, azimuth_deg=90.0, thickness_m=4.0, depth_dip_m=220.0, name="P1"
)
START = pim.PIMParams(q=0.55, tan_beta=1.8)  # start values 25 % off


def basin(s_m: float, dead_fraction: float, seed: int = 7, noise_mm: float = 2.0):
    """(observed raster with the centre lost, truth raster, dead mask) for truth q = 0.72, tanβ = 2.4, s."""
    x, y = G.centres()
    w = pim.predict_points([PANEL], pim.PIMParams(q=0.72, tan_beta=2.4, s_m=s_m), x, y, components=("subsidence_mm",)).W
    obs = w + np.random.default_rng(seed).normal(0.0, noise_mm, w.shape)
    dead = w > dead_fraction * w.max()
    obs[dead] = np.nan
    return obs, w, dead


def run(obs, params: FusionParams | None = None):
    params = params or FusionParams(n_starts=3)
    res = detect_basins(obs, G, filler=pim_filler([PANEL], initial=START, params=params))
    assert len(res.basins) == 1
    return res.basins[0]


def test_q_and_tan_beta_alone_under_fill_an_offset_basin():
    # the finding: q and tanβ only, small RMS, centre 50-80 % too shallow
    obs, w, _ = basin(20.0, 0.35)
    b = run(obs, FusionParams(n_starts=3, extend=()))
    assert b.extra["fusion"]["model"] == ["q", "tan_beta"]
    assert b.extra["fusion"]["rms_mm"] < 5.0  # the RMS check cannot catch it
    assert b.extra["fusion"]["params"]["q"] < 0.4
    assert b.max_subsidence_mm < 0.5 * w.max()


@pytest.mark.parametrize("dead_fraction", [0.35, 0.2])
def test_fitting_the_offset_recovers_the_centre_with_an_interval(dead_fraction):
    obs, w, _ = basin(20.0, dead_fraction)
    b = run(obs)
    f = b.extra["fusion"]
    assert f["model"] == ["q", "tan_beta", "s_m"] and f["weights"]["q+tan_beta+s_m"] > 0.99
    assert f["criterion"] == "bic" and f["ic"]["q+tan_beta+s_m"] < f["ic"]["q+tan_beta"]
    assert b.max_subsidence_mm == pytest.approx(w.max(), rel=0.05)
    lo, hi = f["centre_max_interval_mm"]
    assert lo < w.max() < hi and f["level"] == 0.95
    assert f["identifiable"] and not b.max_is_lower_bound
    assert f["params"]["s_m"] == pytest.approx(20.0, abs=8.0)


def test_parsimony_keeps_the_small_model_without_offset():
    obs, w, _ = basin(0.0, 0.35)
    f = run(obs).extra["fusion"]
    assert f["model"] == ["q", "tan_beta"]
    lo, hi = f["centre_max_interval_mm"]
    assert lo < w.max() < hi


def test_edges_that_cannot_identify_the_centre_give_a_lower_bound():
    obs, w, dead = basin(20.0, 0.1)  # only the outer tenth of the basin is seen
    b = run(obs)
    f = b.extra["fusion"]
    assert not f["identifiable"] and f["lower_bound"] and b.max_is_lower_bound and f["reasons"]
    lo, hi = f["centre_max_interval_mm"]
    assert lo < w.max() < hi
    assert b.max_subsidence_mm <= w.max()  # a lower bound is below the truth
    assert b.max_subsidence_mm == pytest.approx(lo, rel=0.02)
    assert b.filled_fraction == pytest.approx(dead.sum() / b.n_pixels)  # filled, but flagged


def test_interval_coverage_over_noise_seeds():
    # 12 noise draws of an offset basin: the 95 % interval of the centre maximum must hold the truth in >= 10
    hits = 0
    for seed in range(12):
        obs, w, dead = basin(20.0, 0.2, seed=seed)
        x, y = G.centres()
        ok = np.isfinite(obs) & (obs > -1e9)
        ring = ok & (w > 5.0)
        cf = fit_centre(
            [PANEL],
            x[ring],
            y[ring],
            obs[ring],
            x[dead],
            y[dead],
            initial=START,
            params=FusionParams(n_starts=2, seed=seed),
        )
        hits += cf.interval_mm[0] <= w.max() <= cf.interval_mm[1]
    assert hits >= 10


def test_settings_refused_with_reasons():
    with pytest.raises(ValueError, match="criterion"):
        FusionParams(criterion="r2")
    with pytest.raises(ValueError, match="b does not enter"):
        FusionParams(extend=("s_m", "b"))
    obs, _, _ = basin(20.0, 0.35)
    f = run(obs, FusionParams(n_starts=3, criterion="aic")).extra["fusion"]
    assert f["criterion"] == "aic" and f["model"] == ["q", "tan_beta", "s_m"]


@pytest.mark.slow
def test_atmospheric_noise_needs_the_correlated_noise_model():
    # 10 mm of smooth "atmosphere" (~240 m correlation) on the edges of an offset basin: with independent noise
    # the fit is pulled off and its interval excludes the truth; the correlated model (fitted covariance, GLS)
    # puts the centre within 5 % and its interval around the truth
    from scipy import ndimage

    x, y = G.centres()
    w = pim.predict_points(
        [PANEL], pim.PIMParams(q=0.72, tan_beta=2.4, s_m=20.0), x, y, components=("subsidence_mm",)
    ).W
    rng = np.random.default_rng(1)
    atm = ndimage.gaussian_filter(rng.standard_normal(w.shape), 8.0)
    obs = w + atm * (10.0 / atm.std()) + rng.normal(0.0, 1.0, w.shape)
    obs[w > 0.2 * w.max()] = np.nan

    def centre(noise):
        res = detect_basins(
            obs,
            G,
            filler=pim_filler(
                [PANEL], initial=START, params=FusionParams(n_starts=2, noise=noise, max_edge_pixels=1500)
            ),
        )
        b = max(res.basins, key=lambda z: z.decorrelated_ha)  # the atmosphere also makes small false areas
        return b.extra["fusion"]

    ind, cor = centre("independent"), centre("correlated")
    assert not ind["centre_max_interval_mm"][0] <= w.max() <= ind["centre_max_interval_mm"][1]
    lo, hi = cor["centre_max_interval_mm"]
    assert lo <= w.max() <= hi
    assert cor["centre_max_mm"] == pytest.approx(w.max(), rel=0.05)
    with pytest.raises(ValueError, match="noise"):
        FusionParams(noise="red")


def test_inclined_panel_adds_the_propagation_angle_when_the_edges_identify_it():
    x, y = G.centres()
    panel = pim.PanelGeometry.rectangle(
        X0 + 2100,
        Y0 - 2100,
        1200,
        300,
        azimuth_deg=90.0,
        thickness_m=4.0,
        depth_dip_m=240.0,
        depth_rise_m=200.0,
        dip_deg=8.0,
        dip_azimuth_deg=180.0,
    )
    w = pim.predict_points(
        [panel], pim.PIMParams(q=0.72, tan_beta=2.4, s_m=20.0, theta0_deg=84.0), x, y, components=("subsidence_mm",)
    ).W
    obs = w + np.random.default_rng(3).normal(0.0, 2.0, w.shape)
    obs[w > 0.3 * w.max()] = np.nan
    res = detect_basins(obs, G, filler=pim_filler([panel], initial=START, params=FusionParams(n_starts=3)))
    f = max(res.basins, key=lambda z: z.decorrelated_ha).extra["fusion"]
    assert f["model"] == ["q", "tan_beta", "s_m", "theta0_deg"]  # θ0 is a candidate only for inclined panels
    assert f["params"]["theta0_deg"] == pytest.approx(84.0, abs=1.0)
    lo, hi = f["centre_max_interval_mm"]
    assert lo < w.max() < hi and f["centre_max_mm"] == pytest.approx(w.max(), rel=0.03)
