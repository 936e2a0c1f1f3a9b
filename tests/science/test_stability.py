"""Movement stages on synthetic series (code criteria: 10 mm, 1.67 mm/d, 30 mm / 6 months)."""

from __future__ import annotations

import numpy as np
import pytest

from subsidence.science import stability
from subsidence.science.stability import ACTIVE, DECLINING, INITIAL, NOT_STARTED, STABLE, StabilityCriteria


def series():
    dates = np.arange(np.datetime64("2024-01-01"), np.datetime64("2026-01-01"), np.timedelta64(6, "D"))
    t = (dates - dates[0]).astype(float)
    cols = [
        np.full(t.shape, 3.0),  # never reaches 10 mm
        2000 / (1 + np.exp(-(t - 200) / 25)),  # S-curve: active around day 200, then settles
        0.02 * t + 12,  # slow creep 0.6 mm/month from 12 mm: started, never active
        np.where(t < 300, 0.0, 5.0 * (t - 300)),  # starts at day 300 at 5 mm/d and keeps going
    ]
    return dates, t, np.stack(cols, axis=1)


def test_stages_and_change_dates():
    dates, t, s = series()
    res = stability.classify(dates, s)
    assert list(res.stage) == [NOT_STARTED, STABLE, STABLE, ACTIVE]
    assert list(res.stage_names()) == ["not_started", "stable", "stable", "active"]
    # S-curve: starts when W crosses 10 mm, is active, declines, then stable
    w = s[:, 1]
    first10 = dates[np.argmax(w >= 10)]
    assert res.started_on[1] == first10
    assert not np.isnat(res.active_from[1]) and not np.isnat(res.declining_from[1])
    assert res.active_from[1] < res.declining_from[1] < res.stable_from[1]
    # stable once the last 183 days hold <= 30 mm
    k = np.argmax(dates == res.stable_from[1])
    lag = np.interp(t[k] - 183, t, w)
    assert w[k] - lag <= 30.0
    lag_prev = np.interp(t[k - 1] - 183, t, w)
    assert w[k - 1] - lag_prev > 30.0
    # the creeping point went initial -> stable (never active, never declining)
    assert np.isnat(res.active_from[2]) and np.isnat(res.declining_from[2])
    assert INITIAL in res.stage_series[:, 2]
    assert res.stage_series[0, 3] == NOT_STARTED and np.isnat(res.stable_from[3])
    assert res.active_from[3] >= np.datetime64("2024-10-27")  # day 300


def test_vectorised_shapes_and_nan():
    dates, _, s = series()
    cube = np.repeat(s[:, :, None], 3, axis=2)  # (T, 4, 3) raster-like
    cube[5:9, 1, 1] = np.nan  # a gap is bridged
    cube[:, 0, 2] = np.nan  # no data at all
    res = stability.classify(dates, cube)
    assert res.stage.shape == (4, 3)
    assert res.stage[1, 1] == STABLE and res.stage[0, 2] == stability.NO_DATA
    assert np.isnat(res.stage_since[0, 2])


def test_criteria_are_configurable():
    dates, _, s = series()
    # the creep moves 0.02 mm/d * 183 d = 3.7 mm per 6 months: stable under 30 mm, not under 3 mm
    res2 = stability.classify(dates, s, StabilityCriteria(stable_max_mm=3.0))
    assert res2.stage[2] in (INITIAL, DECLINING)
    with pytest.raises(ValueError):
        StabilityCriteria(start_mm=0)


def test_ledger_mapping():
    dates, _, s = series()
    out = stability.classify_series(s, dates)
    assert list(out) == ["not_started", "stable", "stable", "active"]
