"""deploy/: the systemd units are valid (systemd-analyze verify), their schedules agree with the heartbeats'
intervals, install.sh installs a working layout, and the units' exact commands serve, sweep, dispatch, back up
and check health on it. The Compose file runs the same commands against PostGIS 15 with a matching client."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from subsidence.ops.heartbeat import EVERY_S

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
UNITS = DEPLOY / "systemd"
VENV = Path(sys.executable).parent.parent  # the virtual environment running the tests


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A systemd unit file as {section: {key: [values]}} (keys may repeat)."""
    out: dict[str, dict[str, list[str]]] = {}
    section = None
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = out.setdefault(line[1:-1], {})
            continue
        key, sep, value = line.partition("=")
        assert sep and section is not None, f"{path.name}: cannot parse {raw!r}"
        section.setdefault(key.strip(), []).append(value.strip())
    return out


def units() -> dict[str, dict]:
    return {p.name: parse_unit(p) for p in sorted(UNITS.glob("subsidence*"))}


def _seconds(span: str) -> int:
    m = re.fullmatch(r"(\d+)\s*(s|sec|min|h)?", span)
    assert m, span
    return int(m.group(1)) * {"s": 1, "sec": 1, None: 1, "min": 60, "h": 3600}[m.group(2)]


def test_units_are_complete_and_agree_with_the_heartbeats():
    u = units()
    services = {n for n in u if n.endswith(".service")}
    assert services == {
        "subsidence-web.service",
        "subsidence-dispatch.service",
        "subsidence-sweep.service",
        "subsidence-backup.service",
        "subsidence-health.service",
    }
    wants = u["subsidence.target"]["Unit"]["Wants"][0].split()
    assert set(wants) == {
        "subsidence-web.service",
        "subsidence-dispatch.service",
        "subsidence-sweep.timer",
        "subsidence-backup.timer",
        "subsidence-health.timer",
    }
    for name in services:
        svc = u[name]["Service"]
        assert svc["EnvironmentFile"] == ["/etc/subsidence/subsidence.env"], name  # one settings file
        assert svc["User"] == ["subsidence"] and "StandardOutput" not in svc, name  # journald, as a plain user
        assert all(c.startswith("/opt/subsidence/venv/bin/") for c in svc["ExecStart"]), name
    web = u["subsidence-web.service"]["Service"]
    assert "--workers ${WEB_CONCURRENCY}" in web["ExecStart"][0] and "uvicorn --factory" in web["ExecStart"][0]
    assert web["ExecStartPre"] == ["/opt/subsidence/venv/bin/subsidence db upgrade"]  # once, before the workers
    env = dict(
        line.split("=", 1)
        for line in (DEPLOY / "subsidence.env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert int(env["WEB_CONCURRENCY"]) > 1
    assert u["subsidence-dispatch.service"]["Service"]["Restart"] == ["always"]
    loop = u["subsidence-dispatch.service"]["Service"]["ExecStart"][0].split("--loop ")[1]
    assert int(loop) == EVERY_S["dispatch"]
    assert _seconds(u["subsidence-sweep.timer"]["Timer"]["OnUnitActiveSec"][0]) == EVERY_S["sweep"]
    assert _seconds(u["subsidence-health.timer"]["Timer"]["OnUnitActiveSec"][0]) == EVERY_S["health"]
    assert u["subsidence-backup.timer"]["Timer"]["OnCalendar"] == ["*-*-* 02:30:00"]  # daily: EVERY_S = 1 day
    assert EVERY_S["backup"] == 86_400
    assert u["subsidence-health.service"]["Service"]["SuccessExitStatus"] == ["1"]  # degraded is not a failure


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verify(tmp_path):
    """The real unit parser: every unit loads without error (paths pointed at this checkout's environment)."""
    env_file = tmp_path / "subsidence.env"
    env_file.write_text((DEPLOY / "subsidence.env").read_text())
    for p in UNITS.glob("subsidence*"):
        text = p.read_text().replace("/opt/subsidence/venv", str(VENV))
        (tmp_path / p.name).write_text(text.replace("/etc/subsidence/subsidence.env", str(env_file)))
    files = sorted(str(p) for p in tmp_path.glob("subsidence*") if p.suffix in (".service", ".timer", ".target"))
    r = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *files], capture_output=True, text=True, timeout=120, check=False
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "error" not in (r.stdout + r.stderr).lower(), r.stdout + r.stderr


def test_scripts_are_valid_shell():
    for script in ("install.sh", "subsidence-admin"):
        r = subprocess.run(["bash", "-n", str(DEPLOY / script)], capture_output=True, text=True, check=False)
        assert r.returncode == 0, r.stderr
        if shutil.which("shellcheck"):
            r = subprocess.run(["shellcheck", str(DEPLOY / script)], capture_output=True, text=True, check=False)
            assert r.returncode == 0, r.stdout


WORKERS = 2


def _pgid(proc: Path) -> int | None:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[2])
    except (OSError, IndexError, ValueError):
        return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _expand(command: str, env: dict[str, str], root: Path) -> list[str]:
    """An ExecStart line as systemd would run it, on the test installation below ``root``."""
    for key, value in env.items():
        command = command.replace("${" + key + "}", value)
    assert "${" not in command, command
    command = command.replace("/opt/subsidence/venv", str(root / "opt/subsidence/venv"))
    return command.replace("/var/backups/subsidence", str(root / "var/backups/subsidence")).split()


@pytest.mark.slow
def test_install_then_the_units_commands_serve_sweep_dispatch_back_up(tmp_path):
    """install.sh (test mode: below a folder, SQLite, this environment), then each unit's exact command."""
    root = tmp_path / "server"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUBSIDENCE_")}
    r = subprocess.run(
        ["bash", str(DEPLOY / "install.sh"), "--sqlite"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env | {"SUBSIDENCE_INSTALL_ROOT": str(root), "SUBSIDENCE_INSTALL_VENV": str(VENV)},
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    env_file = root / "etc/subsidence/subsidence.env"
    assert oct(env_file.stat().st_mode & 0o777) == "0o640"
    settings = dict(
        line.split("=", 1) for line in env_file.read_text().splitlines() if line and not line.startswith("#")
    )
    assert all("@" not in v for v in settings.values())  # every template placeholder was filled
    assert settings["SUBSIDENCE_DATA_DIR"] == str(root / "var/lib/subsidence/data")
    assert (root / "var/lib/subsidence/data/subsidence.sqlite").is_file()  # install ran `db upgrade`
    assert sorted(p.name for p in (root / "etc/systemd/system").iterdir()) == sorted(
        p.name for p in UNITS.glob("subsidence*")
    )
    port = _free_port()
    run_env = (
        env | settings | {"SUBSIDENCE_HOST": "127.0.0.1", "SUBSIDENCE_PORT": str(port), "WEB_CONCURRENCY": str(WORKERS)}
    )
    u = {n: parse_unit(root / "etc/systemd/system" / n) for n in (p.name for p in UNITS.glob("*.service"))}

    def execute(unit: str, key: str = "ExecStart", ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
        cmd = _expand(u[unit]["Service"][key][0], run_env, root)
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=run_env, cwd=tmp_path, check=False)
        assert done.returncode in ok, (unit, cmd, done.stdout, done.stderr)
        return done

    execute("subsidence-web.service", "ExecStartPre")
    web = subprocess.Popen(
        _expand(u["subsidence-web.service"]["Service"]["ExecStart"][0], run_env, root),
        env=run_env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    dispatcher = subprocess.Popen(
        _expand(u["subsidence-dispatch.service"]["Service"]["ExecStart"][0], run_env, root),
        env=run_env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        body = None
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as resp:
                    body = json.loads(resp.read())
                    break
            except OSError:
                time.sleep(0.25)
        assert body == {"status": "ok"}, "the web server did not answer"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/map", timeout=10) as resp:
            assert resp.status == 200
        execute("subsidence-sweep.service")
        backup = execute("subsidence-backup.service")
        archives = list((root / "var/backups/subsidence").glob("subsidence-*.tar*"))
        assert len(archives) == 1, backup.stdout + backup.stderr
        for _ in range(60):  # the dispatcher's first pass has left its heartbeat
            report = subprocess.run(
                _expand("/opt/subsidence/venv/bin/subsidence health --json", run_env, root),
                capture_output=True,
                text=True,
                env=run_env,
                check=False,
            )
            rep = json.loads(report.stdout)
            if rep.get("dispatch", {}).get("last_ok_at"):
                break
            time.sleep(0.5)
        assert rep["status"] == "ok", rep["problems"]
        assert not rep["sweep"]["overdue"] and not rep["dispatch"]["overdue"] and not rep["backup"]["overdue"]
        assert rep["dispatch"]["every_s"] == 10
        execute("subsidence-health.service")  # exit 0: nothing to raise
        group = os.getpgid(web.pid)
        members = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _pgid(p) == group]
        names = [(p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace") for p in members]
        assert sum("multiprocessing" in n for n in names) >= WORKERS, names  # the supervisor's two workers
    finally:
        for proc in (web, dispatcher):
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in (web, dispatcher):
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    # the admin command reads the same settings file
    admin = subprocess.run(
        [str(root / "usr/local/bin/subsidence"), "backup", "verify", str(archives[0])],
        capture_output=True,
        text=True,
        env=env | {"SUBSIDENCE_ENV_FILE": str(env_file), "SUBSIDENCE_VENV": str(VENV)},
        check=False,
    )
    assert admin.returncode == 0 and admin.stdout.startswith("ok:"), admin.stdout + admin.stderr


def test_compose_runs_the_same_commands_against_postgis_15():
    yaml = pytest.importorskip("yaml")
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    s = compose["services"]
    assert set(s) == {"db", "migrate", "web", "dispatch", "sweep", "health", "backup"}
    assert s["db"]["image"].startswith("postgis/postgis:15-")
    assert "postgresql-client-15" in (DEPLOY / "Dockerfile").read_text()  # pg_dump of the server's version
    assert s["migrate"]["command"] == ["subsidence", "db", "upgrade"]
    assert s["dispatch"]["command"] == ["subsidence", "outbox", "dispatch", "--loop", str(EVERY_S["dispatch"])]
    assert f"subsidence alarms evaluate; sleep {EVERY_S['sweep']}" in s["sweep"]["command"][2]
    assert f"subsidence health --check; sleep {EVERY_S['health']}" in s["health"]["command"][2]
    assert "subsidence backup create /var/backups/subsidence/ --keep 14; sleep 86400" in s["backup"]["command"][2]
    for name in ("migrate", "web", "dispatch", "sweep", "health", "backup"):
        svc = s[name]
        assert "@db:5432/subsidence" in svc["environment"]["SUBSIDENCE_DATABASE_URL"]
        assert "data:/var/lib/subsidence/data" in svc["volumes"]
        assert svc["logging"]["driver"] == "journald"
        if name != "migrate":
            assert svc["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    web_cmd = re.search(r'CMD \["sh", "-c", "(.*)"\]', (DEPLOY / "Dockerfile").read_text()).group(1)
    assert "uvicorn --factory subsidence.api.asgi:app" in web_cmd and '--workers \\"$WEB_CONCURRENCY\\"' in web_cmd
