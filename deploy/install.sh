#!/usr/bin/env bash
# Install the subsidence platform as services on a fresh Debian 12 server (the county IT officer runs this).
#
#   sudo ./deploy/install.sh                      PostgreSQL/PostGIS on this server (recommended)
#   sudo ./deploy/install.sh --sqlite             the embedded SQLite database in the data directory
#   sudo ./deploy/install.sh --wheelhouse DIR     install Python packages from DIR (no internet on the server)
#   sudo ./deploy/install.sh --no-start           install and migrate, but do not start the services
#
# Run it from the unpacked source tree. It is safe to run again (an upgrade: new code, `db upgrade`, restart;
# the settings file and the data are kept). What it does, in order:
#   1. Debian packages: Python 3.11, zstd, CJK fonts, Pango (PDF), PostgreSQL 15 + PostGIS 3 (+ client tools)
#   2. the system user `subsidence`; /var/lib/subsidence/data (data), /var/backups/subsidence (backups)
#   3. a virtual environment /opt/subsidence/venv with this source tree installed (pinned dependencies)
#   4. PostgreSQL: role `subsidence` (peer authentication through the Unix socket, no password), database
#      `subsidence` owned by it, the PostGIS extension
#   5. /etc/subsidence/subsidence.env from deploy/subsidence.env (kept if present)
#   6. the systemd units (deploy/systemd/) and the admin command /usr/local/bin/subsidence
#   7. `subsidence db upgrade`, then `systemctl enable --now subsidence.target`, a first backup, a health report
#
# For tests only: SUBSIDENCE_INSTALL_ROOT=DIR installs below DIR and touches nothing else (no apt, no user, no
# PostgreSQL, no systemctl; needs --sqlite), SUBSIDENCE_INSTALL_VENV=DIR uses an existing virtual environment.
set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=${SUBSIDENCE_INSTALL_ROOT:-}
DB=postgresql
WHEELHOUSE=
START=1
while [ $# -gt 0 ]; do
  case "$1" in
    --sqlite) DB=sqlite ;;
    --wheelhouse) WHEELHOUSE=$2; shift ;;
    --no-start) START=0 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

step() { printf '\n==> %s\n' "$*"; }
die() { echo "install.sh: $*" >&2; exit 1; }
system() { [ -z "$ROOT" ]; }  # false in the test mode: leave the machine alone

ETC=$ROOT/etc/subsidence
ENV_FILE=$ETC/subsidence.env
VAR=$ROOT/var/lib/subsidence
BACKUPS=$ROOT/var/backups/subsidence
VENV=$ROOT/opt/subsidence/venv
UNITS=$ROOT/etc/systemd/system
BIN=$ROOT/usr/local/bin

if system; then
  [ "$(id -u)" = 0 ] || die "run as root (sudo $0)"
  [ -r /etc/debian_version ] || die "this script is for Debian 12 (bookworm); see README \"Deployment\" otherwise"
else
  [ "$DB" = sqlite ] || die "the test mode (SUBSIDENCE_INSTALL_ROOT) needs --sqlite"
fi

if system; then
  step "1/7 Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  pkgs=(python3 python3-venv python3-pip ca-certificates zstd fonts-noto-cjk fontconfig libpango-1.0-0
        libpangoft2-1.0-0 libharfbuzz-subset0)
  [ "$DB" = postgresql ] && pkgs+=(postgresql-15 postgresql-client-15 postgresql-15-postgis-3)
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
fi
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
  || die "Python >= 3.11 is needed (Debian 12 has 3.11)"

step "2/7 user and folders"
if system; then
  id subsidence >/dev/null 2>&1 || useradd --system --user-group --home-dir /var/lib/subsidence \
    --shell /usr/sbin/nologin subsidence
  OWNER=(-o subsidence -g subsidence)
else
  OWNER=()
fi
install -d -m 0750 "${OWNER[@]}" "$VAR" "$VAR/data" "$BACKUPS"
install -d -m 0755 "$ETC" "$UNITS" "$BIN" "$(dirname "$VENV")"

if system && systemctl is-active --quiet subsidence.target 2>/dev/null; then
  step "stopping the running services for the upgrade (they start again at the end)"
  systemctl stop subsidence.target subsidence-web.service subsidence-dispatch.service subsidence-sweep.timer \
    subsidence-health.timer subsidence-backup.timer
fi

step "3/7 Python environment $VENV"
if [ -n "${SUBSIDENCE_INSTALL_VENV:-}" ]; then
  ln -sfn "$(cd "$SUBSIDENCE_INSTALL_VENV" && pwd)" "$VENV"
else
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  if [ -n "$WHEELHOUSE" ]; then
    "$VENV/bin/pip" install -q --no-index --find-links "$WHEELHOUSE" "$SRC"
  else
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q "$SRC"
  fi
fi
"$VENV/bin/subsidence" --help >/dev/null || die "the installed subsidence command does not start"

if [ "$DB" = postgresql ]; then
  step "4/7 PostgreSQL database 'subsidence' with PostGIS"
  systemctl enable --now postgresql >/dev/null 2>&1 || pg_ctlcluster 15 main start || true
  for _ in $(seq 1 30); do pg_isready -q && break; sleep 1; done
  pg_isready -q || die "PostgreSQL does not answer (journalctl -u postgresql)"
  su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='subsidence'\"" | grep -q 1 \
    || su postgres -c "psql -qc 'CREATE ROLE subsidence LOGIN'"
  su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='subsidence'\"" | grep -q 1 \
    || su postgres -c "createdb -O subsidence subsidence"
  su postgres -c "psql -q -d subsidence -c 'CREATE EXTENSION IF NOT EXISTS postgis'"
else
  step "4/7 SQLite database in the data directory (no PostgreSQL)"
fi

step "5/7 settings $ENV_FILE"
if [ -f "$ENV_FILE" ]; then
  echo "kept the existing $ENV_FILE"
else
  tmp=$(mktemp "$ETC/.subsidence.env.XXXXXX")
  cp "$SRC/deploy/subsidence.env" "$tmp"
  if [ "$DB" = sqlite ]; then
    sed -i -e 's|^SUBSIDENCE_DATABASE_URL=|#SUBSIDENCE_DATABASE_URL=|' "$tmp"
  fi
  if [ -n "$ROOT" ]; then
    sed -i -e "s|=/var/lib/subsidence|=$VAR|" "$tmp"
  fi
  if system; then chown root:subsidence "$tmp"; fi
  chmod 0640 "$tmp"
  mv "$tmp" "$ENV_FILE"
fi

step "6/7 systemd units and the admin command"
install -m 0644 "$SRC"/deploy/systemd/subsidence* "$UNITS/"
install -m 0755 "$SRC/deploy/subsidence-admin" "$BIN/subsidence"

step "7/7 schema, services, first backup"
export SUBSIDENCE_ENV_FILE=$ENV_FILE SUBSIDENCE_VENV=$VENV
"$BIN/subsidence" db upgrade
if system && [ "$START" = 1 ]; then
  systemctl daemon-reload
  systemctl enable subsidence.target subsidence-web.service subsidence-dispatch.service subsidence-sweep.timer \
    subsidence-backup.timer subsidence-health.timer >/dev/null
  systemctl restart subsidence.target subsidence-web.service subsidence-dispatch.service
  systemctl start subsidence-sweep.timer subsidence-backup.timer subsidence-health.timer
  systemctl start subsidence-sweep.service subsidence-backup.service  # a first sweep and backup now
  for _ in $(seq 1 30); do
    "$VENV/bin/python" - "$ENV_FILE" <<'PY' && break
import sys, urllib.request
port = next((l.split("=", 1)[1].strip() for l in open(sys.argv[1]) if l.startswith("SUBSIDENCE_PORT=")), "8000")
urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2)
PY
    sleep 1
  done
  systemctl start subsidence-health.service || true
  "$BIN/subsidence" health || true
  echo
  echo "installed. The platform: http://$(hostname -I 2>/dev/null | cut -d' ' -f1):$(sed -n 's/^SUBSIDENCE_PORT=//p' "$ENV_FILE")/"
  echo "next: create the office's accounts (sudo subsidence user add NAME --role office --unit CODE),"
  echo "      set SUBSIDENCE_OPS_EMAIL / SUBSIDENCE_SMTP_* in $ENV_FILE, then systemctl restart subsidence.target"
else
  echo "installed below ${ROOT:-/}; services not started"
fi
