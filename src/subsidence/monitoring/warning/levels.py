"""Warning levels, danger grades and other small vocabularies of the warning system (zh-CN first).

Everything here is pure: no I/O, no database.
"""

from __future__ import annotations

from enum import IntEnum

from subsidence.vocabulary import Labelled


class Level(IntEnum):
    """Warning level, ordered: NONE < BLUE (注意级) < YELLOW (警示级) < ORANGE (警戒级) < RED (警报级)."""

    NONE = 0
    BLUE = 1
    YELLOW = 2
    ORANGE = 3
    RED = 4

    @property
    def code(self) -> str:
        return self.name.lower()

    def label(self, lang: str = "zh-CN") -> str:
        zh, en = _LEVEL_LABELS[self]
        return zh if lang.startswith("zh") else en

    @classmethod
    def parse(cls, text: str | int) -> Level:
        if isinstance(text, int):
            return cls(text)
        t = str(text).strip().lower()
        for m in cls:
            zh, en = _LEVEL_LABELS[m]
            if t in (m.code, zh, en.lower(), str(int(m))):
                return m
        raise ValueError(f"{text!r} is not a warning level: none, blue, yellow, orange, red (or 注意/警示/警戒/警报)")


_LEVEL_LABELS = {
    Level.NONE: ("无", "none"),
    Level.BLUE: ("蓝色·注意级", "blue (attention)"),
    Level.YELLOW: ("黄色·警示级", "yellow (warning)"),
    Level.ORANGE: ("橙色·警戒级", "orange (alert)"),
    Level.RED: ("红色·警报级", "red (alarm)"),
}


class DangerGrade(Labelled):
    """险情等级 of a hazard point, I (特大型) most severe ... IV (小型)."""

    I = "I"  # noqa: E741
    II = "II"
    III = "III"
    IV = "IV"


DangerGrade._LABELS = {
    "I": ("特大型（I级）", "grade I (very large)"),
    "II": ("大型（II级）", "grade II (large)"),
    "III": ("中型（III级）", "grade III (medium)"),
    "IV": ("小型（IV级）", "grade IV (small)"),
}

#: docs/science.md §4: (min people to relocate, min potential loss in 10⁴ yuan) for grades I, II, III; else IV.
#: I ≥ 1000 people / ≥ 100 M yuan; II 500–1000 / 50–100 M; III 100–500 / 5–50 M; IV < 100 / < 5 M.
DANGER_GRADE_BOUNDS: tuple[tuple[DangerGrade, int, float], ...] = (
    (DangerGrade.I, 1000, 10_000.0),
    (DangerGrade.II, 500, 5_000.0),
    (DangerGrade.III, 100, 500.0),
)


def danger_grade(people_to_relocate: int | None, potential_loss_10k_yuan: float | None) -> DangerGrade:
    """Danger grade from people to relocate and potential economic loss (10⁴ yuan).

    The more severe of the two criteria decides (a point that threatens 50 people but 60 M yuan is grade II).
    Missing values count as zero. Negative values are refused.
    """
    people = int(people_to_relocate or 0)
    loss = float(potential_loss_10k_yuan or 0.0)
    if people < 0 or loss < 0:
        raise ValueError(f"people ({people}) and potential loss ({loss} ×10⁴ yuan) must be ≥ 0")
    for grade, min_people, min_loss in DANGER_GRADE_BOUNDS:
        if people >= min_people or loss >= min_loss:
            return grade
    return DangerGrade.IV


class AlarmKind(Labelled):
    """What an alarm is about: ground movement, rainfall, groundwater, or the data itself."""

    THRESHOLD = "threshold"
    RATE = "rate"
    TANGENT_ANGLE = "tangent_angle"
    INVERSE_VELOCITY = "inverse_velocity"
    RAINFALL = "rainfall"
    GROUNDWATER = "groundwater"
    NO_DATA = "no_data"
    FLAT_LINE = "flat_line"
    SENSOR_FAULT = "sensor_fault"


AlarmKind._LABELS = {
    "threshold": ("累计位移超限", "displacement threshold exceeded"),
    "rate": ("变形速率超限", "rate threshold exceeded"),
    "tangent_angle": ("改进切线角", "improved tangent angle"),
    "inverse_velocity": ("速度倒数法临滑预报", "inverse-velocity failure forecast"),
    "rainfall": ("降雨量", "rainfall"),
    "groundwater": ("地下水位", "groundwater level"),
    "no_data": ("数据中断", "no data"),
    "flat_line": ("数据恒定（疑似故障）", "flat line"),
    "sensor_fault": ("传感器故障", "sensor fault"),
}

#: alarms about the data, not the ground; they never carry a ground-movement level and go to the operator
DATA_QUALITY_KINDS = frozenset({AlarmKind.NO_DATA, AlarmKind.FLAT_LINE, AlarmKind.SENSOR_FAULT})
