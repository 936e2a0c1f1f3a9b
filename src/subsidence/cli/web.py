"""``subsidence serve`` (the web platform) and ``subsidence user`` (accounts); ``serve_demo`` for ``subsidence demo``."""

from __future__ import annotations

import logging
import socket
from datetime import date

import typer

from subsidence.cli._common import emit_json, fail

log = logging.getLogger("subsidence.web")

user_app = typer.Typer(help="Accounts: add users, issue tokens for scripts and QGIS.", no_args_is_help=True)


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def pick_port(host: str, preferred: int) -> int:
    """``preferred`` when free, else the next free port above it, else one the OS assigns."""
    for port in range(preferred, preferred + 20):
        if _port_free(host, port):
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def print_accounts(accounts, url: str) -> None:
    from rich.console import Console

    console = Console()
    console.print(f"\n[bold green]挂图作战平台已启动 / web platform running at[/] [bold]{url}[/]", soft_wrap=True)
    for label, path in (
        ("挂图作战 map", "/map"),
        ("进度督办 dashboard", "/dashboard"),
        ("接口文档 API", "/docs"),
        ("QGIS: OGC API – Features", "/ogc"),
    ):
        console.print(f"  {label}: {url}{path}", soft_wrap=True, highlight=False)
    if accounts:
        console.print("[bold]演示账户（仅供演示）/ demo accounts (demo only)[/]  用户名 username / 密码 password")
        width = max(len(a.username) for a in accounts)
        for a in accounts:
            # plain lines, never truncated: the password must be readable in any terminal width
            console.print(
                f"  {a.username:<{width}}  {a.password:<{width + 10}}  "
                f"{a.role.label('zh-CN')} / {a.role.label('en')}: {a.scope}",
                soft_wrap=True,
                highlight=False,
            )
    console.print("按 Ctrl+C 停止 / press Ctrl+C to stop\n")


def run_server(
    engine, *, host: str | None = None, port: int | None = None, today: date | None = None, demo_accounts: bool = True
) -> None:
    """Create demo accounts (optional), print the address and accounts, and serve until interrupted."""
    import uvicorn

    from subsidence.api.app import create_app
    from subsidence.db.session import make_sessionmaker
    from subsidence.demo.accounts import ensure_demo_accounts
    from subsidence.settings import get_settings

    settings = get_settings()
    host = host or settings.host
    port = pick_port(host, port or settings.port)
    accounts = []
    if demo_accounts:
        with make_sessionmaker(engine)() as session:
            session.info["actor"] = "system:demo-accounts"
            accounts = ensure_demo_accounts(session)
            session.commit()
    app = create_app(settings, engine, today=today)
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    print_accounts(accounts, f"http://{shown}:{port}")
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower(), access_log=False)


def serve_demo(engine, *, today: date | None = None) -> None:
    """Called by ``subsidence demo``: serve the demo county with one demo account per role."""
    run_server(engine, today=today, demo_accounts=True)


def serve(
    host: str = typer.Option(None, help="Address to bind (default: settings.host, 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (default: settings.port, 8000; the next free one if taken)."),
    demo_accounts: bool = typer.Option(
        False, "--demo-accounts/--no-demo-accounts", help="Create one demo account per role (demo databases only)."
    ),
    today: str = typer.Option(None, help="Pin the business date (ISO), e.g. for a demo frozen in time."),
) -> None:
    """Start the web platform: battle map, dashboards, portal, field form, JSON API and OGC API – Features.

    The schema is brought up to date first. Settings come from SUBSIDENCE_* (database, host, port).
    """
    from subsidence.cli._common import ready_engine

    try:
        pinned = date.fromisoformat(today) if today else None
    except ValueError:
        fail(f"--today {today!r}: give an ISO date such as 2024-11-15")
    run_server(ready_engine(), host=host, port=port, today=pinned, demo_accounts=demo_accounts)


@user_app.command("add")
def user_add(
    username: str = typer.Argument(..., help="Login name."),
    role: str = typer.Option(..., help="office, department, town, enterprise, monitor or public."),
    unit: str = typer.Option(None, help="Unit code (NRB, AWB, a town's unit, an enterprise's unit)."),
    enterprise: str = typer.Option(None, help="Enterprise credit code (for enterprise accounts)."),
    password: str = typer.Option(
        ...,
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="At least 10 characters (hashed with Argon2id).",
    ),
) -> None:
    """Create an account tied to its unit (its scope follows from role and unit)."""
    from subsidence.access.accounts import create_user
    from subsidence.cli._common import ready_engine
    from subsidence.db.session import transaction
    from subsidence.errors import ServiceError

    try:
        with transaction(ready_engine(), actor="cli:user-add") as session:
            user = create_user(
                session,
                username=username,
                password=password,
                role=role,
                unit_code=unit,
                enterprise_credit_code=enterprise,
            )
            typer.echo(f"created {user.username} ({user.role.value})")
    except (ServiceError, ValueError) as exc:
        fail(getattr(exc, "message", str(exc)))


@user_app.command("token")
def user_token(
    username: str = typer.Argument(..., help="Account the token acts as."),
    name: str = typer.Option("qgis", help="A name to tell tokens apart."),
    days: int = typer.Option(90, min=1, max=365, help="Lifetime in days."),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Issue a bearer token (for QGIS: add an HTTP header `Authorization: Bearer <token>`)."""
    from datetime import timedelta

    from sqlalchemy import select

    from subsidence.access.accounts import issue_token
    from subsidence.access.models import User
    from subsidence.cli._common import ready_engine
    from subsidence.db.session import transaction

    with transaction(ready_engine(), actor="cli:user-token") as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is None:
            fail(f"no user {username!r}; create one with `subsidence user add`")
        secret, tok = issue_token(session, user, name, ttl=timedelta(days=days))
        out = {"token": secret, "name": tok.name, "expires_at": tok.expires_at.isoformat()}
    if json_out:
        emit_json(out)
    else:
        typer.echo(secret)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(user_app, name="user")
