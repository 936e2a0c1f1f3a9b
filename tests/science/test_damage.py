"""Building damage grades at the table boundaries and over footprints."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from subsidence.science import damage


@pytest.mark.parametrize(
    "value,expected",
    [(0.0, 1), (2.0, 1), (2.0001, 2), (4.0, 2), (4.01, 3), (6.0, 3), (6.0001, 4), (-6.5, 4), (np.nan, 0)],
)
def test_strain_boundaries(value, expected):
    if not np.isnan(value):
        assert damage.grade(0.0, 0.0, value)[()] == expected
    assert damage.indicator_grade(value, (2.0, 4.0, 6.0))[()] == expected


def test_tilt_and_curvature_boundaries_and_max_rule():
    assert damage.grade(3.0, 0.2, 2.0) == 1
    assert damage.grade(3.01, 0.2, 2.0) == 2
    assert damage.grade(10.0, 0.0, 0.0) == 3
    assert damage.grade(10.5, 0.0, 0.0) == 4
    assert damage.grade(0.0, 0.4, 0.0) == 2
    assert damage.grade(0.0, 0.41, 0.0) == 3
    assert damage.grade(0.0, -0.61, 0.0) == 4
    assert damage.grade(5.0, 0.1, 6.5) == 4  # the highest indicator wins
    np.testing.assert_array_equal(damage.grade([1, 4, 8, 12], 0, 0), [1, 2, 3, 4])


def test_footprint_max_over_cells():
    tilt = np.zeros((10, 10))
    tilt[2, 3] = 7.0  # one hot cell inside the first building
    curv = np.full((10, 10), 0.1)
    strain = np.zeros((10, 10))
    strain[8, 8] = 2.5
    transform = (10.0, 0.0, 0.0, 0.0, -10.0, 100.0)  # 10 m cells, top-left (0, 100)
    b1 = shapely.box(20, 65, 50, 85)  # covers rows 1..3, cols 2..4
    b2 = shapely.box(81, 11, 84, 14)  # smaller than a cell: row 8, col 8
    b3 = shapely.box(500, 500, 510, 510)  # outside
    res = damage.footprint_damage(tilt, curv, strain, transform, [b1, b2, b3])
    assert res.tilt_mm_per_m[0] == 7.0 and res.grade[0] == 3 and res.governing[0] == "tilt"
    assert res.grade[1] == 2 and res.governing[1] == "strain" and res.n_cells[1] >= 1
    assert res.grade[2] == 0 and np.isnan(res.tilt_mm_per_m[2])


def test_thresholds_validated():
    with pytest.raises(ValueError):
        damage.DamageThresholds(tilt_mm_per_m=(3.0, 2.0, 10.0))
