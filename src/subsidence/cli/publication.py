"""``subsidence publication``: what the public sees, signed off by a named office account.

``status KIND [--year Y]`` prints the draft beside the published version; ``sign-off KIND --as USER --sha256 H``
publishes the draft whose hash the signer reviewed (refused when the draft changed or is unchanged). KIND is
``assessment_lists`` (per year) or ``inspection_results``.
"""

from __future__ import annotations

from typing import Optional

import typer

from subsidence.cli._common import emit_json, fail
from subsidence.cli._common import unit_of_work as _session
from subsidence.cli.options import JSON

pub_app = typer.Typer(help="Sign off what the public sees (公开签发).", no_args_is_help=True)
KIND = typer.Argument(..., help="assessment_lists | inspection_results")
YEAR_OPT = typer.Option(None, "--year", help="Assessment year (assessment_lists).")


@pub_app.command("status")
def pub_status(kind: str = KIND, year: Optional[int] = YEAR_OPT, as_json: bool = JSON) -> None:
    """The draft (with its SHA-256) beside the signed-off version the public sees."""
    from subsidence.tasks import publication

    with _session() as s:
        st = publication.status(s, kind, year)
    if as_json:
        emit_json(st)
        return
    pub = st["published"]
    typer.echo(f"{st['kind_zh']} {st['scope']}: draft sha256 {st['draft_sha256']}")
    typer.echo(
        f"  public: version {pub['version']} signed by {pub['signed_by']} at {pub['signed_at']}"
        if pub
        else "  public: nothing signed off yet"
    )
    typer.echo("  up to date" if st["up_to_date"] else "  the draft differs from what the public sees")


@pub_app.command("sign-off")
def pub_sign_off(
    kind: str = KIND,
    year: Optional[int] = YEAR_OPT,
    user: str = typer.Option(..., "--as", help="The office account that signs (username)."),
    sha256: str = typer.Option(..., "--sha256", help="The draft hash you reviewed (from status)."),
    note: Optional[str] = typer.Option(None, "--note"),
    as_json: bool = JSON,
) -> None:
    """Publish the reviewed draft as the next version (office accounts only)."""
    from sqlalchemy import select

    from subsidence.access.models import User
    from subsidence.access.policy import actor_for
    from subsidence.tasks import publication

    with _session(reason=note) as s:
        u = s.scalar(select(User).where(User.username == user, User.active.is_(True)))
        if u is None:
            fail(f"account {user!r} not found or disabled")
        pub = publication.sign_off(s, actor_for(s, u), kind, year=year, expected_sha256=sha256, note=note)
        rec = publication.record(pub)
    if as_json:
        emit_json(rec)
        return
    typer.echo(f"已签发 / signed off: {rec['kind_zh']} {rec['scope']} version {rec['version']} ({rec['sha256']})")


def register(app: typer.Typer) -> None:
    app.add_typer(pub_app, name="publication")
