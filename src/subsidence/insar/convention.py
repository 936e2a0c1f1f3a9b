"""The one sign convention for InSAR in this project, as named functions.

* Interferometric phase ``phi`` (radians) of a pair (date1, date2) is phase(date2) - phase(date1) (MintPy, LiCSBAS).
* LOS displacement ``d`` (metres) is **positive toward the satellite**: ``d = -lambda / (4 pi) * phi``
  (MintPy ``ifgram_inversion``: ``phase2range = -1 * WAVELENGTH / (4 pi)``).
* Vertical-only assumption from one LOS geometry: vertical (up positive) ``= d / cos(incidence)``;
  subsidence (mm, **positive downward**, mining literature) ``= -d / cos(incidence) * 1000``.

A ground that sinks moves away from the satellite: negative LOS, positive subsidence.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Sentinel-1 C-band wavelength, metres (radar frequency 5.405 GHz).
SENTINEL1_WAVELENGTH_M = 0.05546576


def phase_rad_to_los_m(phase_rad: ArrayLike, wavelength_m: float) -> NDArray[np.float64]:
    """Unwrapped phase (rad) -> LOS displacement (m, positive toward the satellite)."""
    _check_wavelength(wavelength_m)
    return np.asarray(phase_rad) * (-wavelength_m / (4.0 * np.pi))


def los_m_to_phase_rad(los_m: ArrayLike, wavelength_m: float) -> NDArray[np.float64]:
    """LOS displacement (m, positive toward the satellite) -> unwrapped phase (rad). Inverse of the above."""
    _check_wavelength(wavelength_m)
    return np.asarray(los_m) * (-4.0 * np.pi / wavelength_m)


def los_m_to_vertical_up_m(los_m: ArrayLike, incidence_deg: ArrayLike) -> NDArray[np.float64]:
    """LOS (m, toward satellite) -> vertical displacement (m, up positive), vertical-only assumption."""
    inc = np.asarray(incidence_deg, dtype=float)
    if np.any((inc <= 0) | (inc >= 90)):
        raise ValueError(f"incidence angle must be in (0, 90) degrees from vertical, got {incidence_deg!r}")
    return np.asarray(los_m) / np.cos(np.deg2rad(inc))


def los_m_to_subsidence_mm(los_m: ArrayLike, incidence_deg: ArrayLike) -> NDArray[np.float64]:
    """LOS (m, toward satellite) -> subsidence (mm, positive downward), vertical-only assumption."""
    return -los_m_to_vertical_up_m(los_m, incidence_deg) * 1000.0


def vertical_up_m_to_subsidence_mm(up_m: ArrayLike) -> NDArray[np.float64]:
    """Vertical displacement (m, up positive) -> subsidence (mm, positive downward)."""
    return -np.asarray(up_m) * 1000.0


def _check_wavelength(wavelength_m: float) -> None:
    if not (0.001 < float(wavelength_m) < 1.0):
        raise ValueError(
            f"wavelength {wavelength_m!r} m is not a radar wavelength in metres "
            "(C-band Sentinel-1: 0.0555 m; L-band: 0.236 m); did you pass centimetres or a frequency?"
        )
