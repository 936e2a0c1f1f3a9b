"""``subsidence warn`` and the monitoring command groups, through the real CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from typer.testing import CliRunner

from subsidence.cli.main import app
from subsidence.monitoring.warning import methods as M

T0 = datetime(2025, 7, 1, tzinfo=UTC)
runner = CliRunner()


def write_series(path, t_days, s, unit=None):
    lines = ["time,displacement_mm" + (",unit" if unit else "")]
    for i, (d, v) in enumerate(zip(t_days, s)):
        u = f",{unit[i] if isinstance(unit, list) else unit}" if unit else ""
        lines.append(f"{(T0 + timedelta(days=float(d))).isoformat()},{v:.4f}{u}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_warn_inverse_velocity_json(tmp_path):
    t = np.arange(58.0)
    s = M.voight_series(t, t_failure=62.0, t_onset=30.0, v0=0.5) + np.random.default_rng(2).normal(0, 0.3, t.size)
    f = write_series(tmp_path / "s.csv", t, s)
    r = invoke("warn", f, "--method", "inverse-velocity", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    lo, hi = (datetime.fromisoformat(x.replace("Z", "+00:00")) for x in out["failure_window"])
    truth = T0 + timedelta(days=62)
    assert lo <= truth <= hi
    assert out["onset"] and out["failure_time"] and out["level"] in ("orange", "red", "yellow")


def test_warn_inverse_velocity_says_why_no_forecast(tmp_path):
    t = np.arange(40.0)
    f = write_series(tmp_path / "s.csv", t, 0.5 * t + np.random.default_rng(1).normal(0, 0.2, t.size))
    r = invoke("warn", f, "--method", "inverse-velocity", "--json")
    out = json.loads(r.stdout)
    assert out["forecast"] is False and out["reason"] and out["failure_time"] is None and out["level"] == "none"


def test_warn_tangent_per_sample_and_threshold(tmp_path):
    t = np.arange(62.0)
    s = M.voight_series(t, t_failure=62.2, t_onset=30.0, v0=0.5)
    f = write_series(tmp_path / "s.csv", t, s)
    r = invoke("warn", f, "--method", "tangent-angle", "--steady-velocity", "0.5", "--per-sample", "--json")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["level"] == "red" and len(out["per_sample"]) == 62
    assert out["per_sample"][10]["level"] == "blue"
    r = invoke("warn", f, "--method", "threshold", "--rate", "1,2,4,5.5", "--confirm", "2", "--json")
    assert json.loads(r.stdout)["level"] == "red"
    r = invoke("warn", f, "--method", "threshold")
    assert r.exit_code == 2 and "give --value" in r.output


@pytest.mark.parametrize(
    "case,message",
    [
        ("few", "needs at least"),
        ("dup", "duplicate time"),
        ("order", "sort the file by time"),
        ("mixed", "mixed units"),
        ("nan", "not a number"),
    ],
)
def test_warn_bad_input(tmp_path, case, message):
    t = np.arange(30.0)
    s = 0.5 * t
    unit = None
    if case == "few":
        t, s = t[:5], s[:5]
    elif case == "dup":
        t[10] = t[9]
    elif case == "order":
        t[10], t[11] = t[11], t[10]
    elif case == "mixed":
        unit = ["mm"] * 29 + ["m"]
    f = write_series(tmp_path / "s.csv", t, s, unit)
    if case == "nan":
        f.write_text(f.read_text().replace("0.5000", "abc", 1))
    r = invoke("warn", f, "--method", "inverse-velocity", "--json")
    assert r.exit_code == 2 and message in r.output, r.output


def test_sensor_and_observation_commands(tmp_path, cli_database):
    from subsidence.cli._common import ready_engine
    from subsidence.db.session import make_sessionmaker
    from subsidence.monitoring import hazards as H

    with make_sessionmaker(ready_engine())() as s:  # the hazard point in the CLI's database
        H.upsert_hazard(s, {"code": "HP-CLI", "name": "CLI 测试点", "hazard_type": "landslide"})
        s.commit()
    sensors = tmp_path / "sensors.csv"
    sensors.write_text("code,kind,hazard_point,expected_interval_s\nG1,gnss,HP-CLI,600\nR1,雨量计,HP-CLI,3600\n")
    r = invoke("sensors", "import", sensors, "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["imported"] == 2, r.output
    bad = tmp_path / "bad_sensors.csv"
    bad.write_text("code,kind,hazard_point\nG2,gnss,HP-CLI\nG3,gnss,HP-NOPE\n")
    r = invoke("sensors", "import", bad)
    assert r.exit_code == 2 and "row 3" in r.output and "HP-NOPE" in r.output
    r = invoke("sensors", "list", "--json")
    assert [x["code"] for x in json.loads(r.stdout)] == ["G1", "R1"]  # G2 was not half-stored
    obs = tmp_path / "obs.csv"
    now = datetime.now(UTC).replace(microsecond=0)
    rows = (
        ["sensor,time,value"]
        + [f"G1,{(now - timedelta(minutes=10 * (20 - i))).isoformat()},{i * 0.1}" for i in range(20)]
        + [f"NOPE,{now.isoformat()},1"]
    )
    obs.write_text("\n".join(rows))
    r = invoke("observations", "import", obs, "--json")
    out = json.loads(r.stdout)
    assert out["accepted"] == 20 and out["rejected_rows"][0]["row"] == 22
    r = invoke("observations", "import", obs, "--strict")
    assert r.exit_code == 2 and "nothing stored" in r.output
    r = invoke("alarms", "list", "--json")
    assert r.exit_code == 0
    r = invoke("alarms", "ack", "999", "--actor", "x")
    assert r.exit_code == 2 and "does not exist" in r.output
    r = invoke("outbox", "dispatch", "--json")
    assert r.exit_code == 0
    r = invoke("cards", "missing", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout) == []


def test_hazard_households_contacts_and_cards_commands(tmp_path, cli_database):
    from subsidence.cli._common import ready_engine
    from subsidence.db.session import make_sessionmaker
    from subsidence.monitoring import hazards as H

    with make_sessionmaker(ready_engine())() as s:
        H.upsert_hazard(
            s, {"code": "HP-C", "name": "卡片测试点", "hazard_type": "collapse", "threatened_property_10k_yuan": 800.0}
        )
        s.commit()
    hh = tmp_path / "hh.csv"
    hh.write_text(
        "code,hazard_point,people,village,to_relocate\nH1,HP-C,4,甲村,是\nH2,HP-C,3,甲村,否\n", encoding="utf-8"
    )
    r = invoke("hazards", "households", hh)
    assert r.exit_code == 0 and "imported 2" in r.stdout, r.output
    bad = tmp_path / "bad.csv"
    bad.write_text("code,hazard_point,people\nH3,HP-C,2\nH4,HP-C,many\n")
    r = invoke("hazards", "households", bad)
    assert r.exit_code == 2 and "row 3" in r.output
    ct = tmp_path / "ct.csv"
    ct.write_text("hazard_point,role,title,phone\nHP-C,monitor,村监测员,13800000009\nHP-C,boss,x,1\n", encoding="utf-8")
    r = invoke("hazards", "contacts", ct)
    assert r.exit_code == 2 and "row 3" in r.output and "role" in r.output
    out = json.loads(invoke("hazards", "list", "HP-C", "--json").stdout)
    assert out[0]["households"] == 2 and out[0]["people"] == 7 and out[0]["danger_grade"] == "III"
    missing = json.loads(invoke("cards", "missing", "--json").stdout)
    assert [m["household"] for m in missing] == ["H1", "H2"]  # H3 was not half-imported


def _xlsx(path, rows):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def test_sensor_and_observation_import_accept_xlsx_and_refuse_bad_files(tmp_path, cli_database):
    from subsidence.cli._common import ready_engine
    from subsidence.db.session import make_sessionmaker
    from subsidence.monitoring import hazards as H

    with make_sessionmaker(ready_engine())() as s:
        H.upsert_hazard(s, {"code": "HP-X", "name": "表格测试点", "hazard_type": "landslide"})
        s.commit()
    # a ledger as offices keep it: a title row above Chinese headers, numbers and dates as Excel cells
    book = _xlsx(
        tmp_path / "传感器.xlsx",
        [
            ["某隐患点监测设备登记表"],
            ["编号", "类型", "隐患点编号", "采样间隔（s）", "安装日期", "东坐标(m)", "北坐标(m)"],
            [1001, "GNSS", "HP-X", 600, datetime(2025, 5, 1), 37_500_000.5, 4_400_000.0],
            ["RAIN-X", "雨量计", "HP-X", 3600.0, None, None, None],
        ],
    )
    r = invoke("sensors", "import", book, "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout) == {"imported": 2, "sensors": ["1001", "RAIN-X"]}
    listed = {x["code"]: x for x in json.loads(invoke("sensors", "list", "--json").stdout)}
    assert listed["1001"]["kind"] == "gnss" and listed["RAIN-X"]["hazard_point"] == "HP-X"
    bad = _xlsx(
        tmp_path / "bad.xlsx",
        [["code", "kind", "hazard_point"], ["G9", "gnss", "HP-X"], [], ["G10", "gnss", "HP-NOPE"]],
    )
    r = invoke("sensors", "import", bad)
    assert r.exit_code == 2 and "row 4" in r.output and "HP-NOPE" in r.output  # Excel's row number
    assert "G9" not in {x["code"] for x in json.loads(invoke("sensors", "list", "--json").stdout)}
    # observations from a workbook: Excel times carry no zone → the configured zone (Asia/Shanghai)
    now = datetime.now(UTC).replace(microsecond=0, second=0)
    local = (now + timedelta(hours=8)).replace(tzinfo=None)
    obs = _xlsx(
        tmp_path / "obs.xlsx",
        [["测点", "时间", "观测值", "单位"]]
        + [[1001, local - timedelta(minutes=10 * (5 - i)), 0.5 * i, "mm"] for i in range(5)]
        + [["1001", "not a time", 1, "mm"]],
    )
    r = invoke("observations", "import", obs, "--json", "--no-evaluate")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["accepted"] == 5 and [x["row"] for x in out["rejected_rows"]] == [7]
    assert any("Asia/Shanghai" in w for w in out["warnings"])
    # missing files and other file types: one clear line naming the file, no traceback
    for cmd in (("sensors", "import"), ("observations", "import")):
        r = invoke(*cmd, tmp_path / "nope.csv")
        assert r.exit_code == 2 and "nope.csv" in r.output and "not found" in r.output, r.output
        assert r.exception is None or isinstance(r.exception, SystemExit)
        pdf = tmp_path / "scan.pdf"
        pdf.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        r = invoke(*cmd, pdf)
        assert r.exit_code == 2 and "scan.pdf" in r.output and "unsupported file type .pdf" in r.output
        renamed = tmp_path / "renamed.csv"
        renamed.write_bytes(book.read_bytes())
        r = invoke(*cmd, renamed)
        assert r.exit_code == 2 and "renamed.csv" in r.output and "not CSV text" in r.output
        fake = tmp_path / "fake.xlsx"
        fake.write_text("code,kind\n", encoding="utf-8")
        r = invoke(*cmd, fake)
        assert r.exit_code == 2 and "fake.xlsx" in r.output and "not a valid Excel workbook" in r.output
