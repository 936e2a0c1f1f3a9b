"""Sign convention: LOS positive toward the satellite; subsidence positive downward. Hard to get wrong."""

from __future__ import annotations

import numpy as np
import pytest

from subsidence.insar import (
    los_m_to_phase_rad,
    los_m_to_subsidence_mm,
    los_m_to_vertical_up_m,
    phase_rad_to_los_m,
)

S1 = 0.05546576


def test_one_cycle_is_half_a_wavelength_away_from_the_satellite():
    # +2 pi of phase = the ground moved lambda/2 AWAY from the satellite (MintPy: d = -lambda/(4 pi) * phi)
    assert phase_rad_to_los_m(2 * np.pi, S1) == pytest.approx(-S1 / 2)
    assert los_m_to_phase_rad(phase_rad_to_los_m(1.234, S1), S1) == pytest.approx(1.234)


def test_sinking_ground_is_negative_los_and_positive_subsidence():
    los = -0.010  # 10 mm away from the satellite
    assert los_m_to_vertical_up_m(los, 0.0001) == pytest.approx(-0.010)
    assert los_m_to_subsidence_mm(los, 39.0) == pytest.approx(10.0 / np.cos(np.deg2rad(39.0)))
    assert los_m_to_subsidence_mm(los, 39.0) > 0


def test_units_are_checked():
    with pytest.raises(ValueError, match="metres"):
        phase_rad_to_los_m(1.0, 5.546)  # centimetres by mistake
    with pytest.raises(ValueError, match="incidence"):
        los_m_to_subsidence_mm(-0.01, 90.0)
