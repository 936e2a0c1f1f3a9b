"""``subsidence docs``: official documents (公文, GB/T 9704-2012) as PDF + DOCX (+ xlsx for the report upward).

``docs upward`` writes the report upward (工作上报) for a period; ``--issue`` takes its document number
(committed); without it the number is left blank for the clerk. ``docs refusal`` / ``docs supervision`` /
``docs acceptance`` render the frozen data of a 不予受理告知书, 督办通知 or 验收意见. ``docs fontconfig``
prints the fontconfig file that maps the standard face names onto the free faces (for LibreOffice).
"""

from __future__ import annotations

from pathlib import Path

import typer

from subsidence.cli._common import emit_json, fail
from subsidence.cli._common import unit_of_work as _session
from subsidence.cli.options import parse_date as _date

docs_app = typer.Typer(
    help="Official documents (公文): report upward, refusal, supervision, acceptance.", no_args_is_help=True
)
OUT = typer.Option(Path("."), "--out-dir", help="Folder for the files.")
JSON = typer.Option(False, "--json", help="Print the written paths as JSON.")


def _done(files: list[str], as_json: bool) -> None:
    emit_json({"files": files}) if as_json else typer.echo("\n".join(files))


@docs_app.command("upward")
def upward_cmd(
    start: str = typer.Option(
        ..., "--from", help="First day of the period (the day after the last report), YYYY-MM-DD."
    ),
    end: str = typer.Option(..., "--to", help="Last day of the period (the report's date), YYYY-MM-DD."),
    issue: bool = typer.Option(False, "--issue", help="Take the next document number (伊采沉办〔年〕N号)."),
    signer: str = typer.Option("", "--signer", help="签发人 (left blank when not given)."),
    out_dir: Path = OUT,
    as_json: bool = JSON,
) -> None:
    """工作上报: the office's report to the banner government for a period (PDF, DOCX and the xlsx tables)."""
    from subsidence.reports import upward

    s0, e0 = _date(start, "--from"), _date(end, "--to")
    assert s0 is not None and e0 is not None
    with _session("工作上报编号" if issue else None) as s:
        number = upward.issue_number(s, e0.year) if issue else None
        rep = upward.build(s, s0, e0, number=number, signer=signer)
        stem = f"工作上报_{s0.isoformat()}_{e0.isoformat()}"
        out_dir.mkdir(parents=True, exist_ok=True)
        upward.render_pdf(rep, out_dir / f"{stem}.pdf")
        upward.render_docx(rep, out_dir / f"{stem}.docx")
        upward.render_xlsx(rep, out_dir / f"{stem}.xlsx")
    _done([str(out_dir / f"{stem}.{x}") for x in ("pdf", "docx", "xlsx")], as_json)


def _write_both(renderer, data: dict, out_dir: Path, stem: str, as_json: bool) -> None:
    """Render ``data`` with ``renderer`` (a ``reports`` module) as ``stem``.pdf and ``stem``.docx in ``out_dir``."""
    files = [out_dir / f"{stem}.pdf", out_dir / f"{stem}.docx"]
    renderer.render_pdf(data, files[0])
    renderer.render_docx(data, files[1])
    _done([str(f) for f in files], as_json)


@docs_app.command("refusal")
def refusal_cmd(
    gate_query: int = typer.Argument(..., help="Gate query id of the refused application."),
    out_dir: Path = OUT,
    as_json: bool = JSON,
) -> None:
    """不予受理告知书 of a refused licence-gate query (issue it first: the number is the ledger's)."""
    from subsidence.gate.service import refusal_document_data
    from subsidence.reports import refusal

    with _session() as s:
        data = refusal_document_data(s, gate_query)
    _write_both(refusal, data, out_dir, f"不予受理告知书_{data.get('year')}_{data.get('seq')}", as_json)


@docs_app.command("supervision")
def supervision_cmd(
    escalation: int = typer.Argument(..., help="Escalation id."), out_dir: Path = OUT, as_json: bool = JSON
) -> None:
    """督办通知 of an escalation."""
    from subsidence.ledger.escalation import supervision_data
    from subsidence.reports import supervision

    with _session() as s:
        data = supervision_data(s, escalation)
    _write_both(supervision, data, out_dir, f"督办通知_{escalation}", as_json)


@docs_app.command("acceptance")
def acceptance_cmd(
    record: int = typer.Argument(..., help="Acceptance record id."), out_dir: Path = OUT, as_json: bool = JSON
) -> None:
    """整改验收意见书 of an acceptance decision."""
    from subsidence.ledger.evidence import acceptance_data
    from subsidence.reports import acceptance

    with _session() as s:
        data = acceptance_data(s, record)
    _write_both(acceptance, data, out_dir, f"整改验收意见书_{record}", as_json)


INSTALL = typer.Option(None, "--install", help="Write it there (e.g. /etc/fonts/conf.d/65-subsidence-gbt9704.conf).")


@docs_app.command("fontconfig")
def fontconfig_cmd(install: Path | None = INSTALL) -> None:
    """The fontconfig aliases 仿宋_GB2312 / 方正小标宋简体 / 黑体 / 楷体_GB2312 → the free faces (for LibreOffice)."""
    from subsidence.render.fonts import fontconfig_aliases

    text = fontconfig_aliases()
    if install is None:
        typer.echo(text, nl=False)
        return
    try:
        install.parent.mkdir(parents=True, exist_ok=True)
        install.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {install}: {exc}")
    typer.echo(str(install))


def register(app: typer.Typer) -> None:
    app.add_typer(docs_app, name="docs")
