"""``subsidence problem|notice|gate|report|calendar``: the office's daily ledger work, scriptable.

Every write command takes ``--as ROLE[:UNIT]`` (who acts: ``office``, ``department:NRB``,
``town:T-ALTX``, ``enterprise:E-KEY`` or an enterprise credit code) and ``--actor NAME`` (the user name
recorded in the audit trail). The rules live in the services; this module only parses and prints.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Optional

import typer

from subsidence.cli._common import emit_json, fail, resolve_actor
from subsidence.cli._common import unit_of_work as _session

problem_app = typer.Typer(
    help="Ledger problems (台账): add, list, show, move through the lifecycle.", no_args_is_help=True
)
notice_app = typer.Typer(help="Deadline rectification notices (限期整改通知书).", no_args_is_help=True)
report_app = typer.Typer(help="Reports: progress (PDF/DOCX), the ledger (Excel).", no_args_is_help=True)
calendar_app = typer.Typer(
    help="Working-day calendar, deadlines, escalation, backward scheduling.", no_args_is_help=True
)

AS_HELP = "Who acts: office | department:UNIT | town:TOWN | enterprise:UNIT-or-credit-code."
JSON_HELP = "Machine-readable output."


def _date(value: Optional[str], field: str) -> Optional[date]:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{field}: {value!r} is not a date; use YYYY-MM-DD")
    return None


def _print_problem(d: dict) -> None:
    typer.echo(f"{d['code']}  [{d['state_zh']} {d['state']}]  {d['category']}. {d['title']}")
    for k in ("mine_zh", "town", "lead_unit", "found_date", "deadline", "acceptance_due", "closed_date"):
        if d.get(k):
            typer.echo(f"  {k}: {d[k]}")


# ---------------------------------------------------------------------------------------------- problem


@problem_app.command("add")
def problem_add(
    category: str = typer.Option(..., "--category", "-c", help="Task 1-7 (code, Chinese or English label)."),
    title: str = typer.Option(..., "--title", "-t", help="Short description of the problem."),
    found: str = typer.Option(..., "--found", help="Date found, YYYY-MM-DD."),
    mine: Optional[str] = typer.Option(None, "--mine", help="Mine licence number or name."),
    town: Optional[str] = typer.Option(None, "--town", help="Town code or name (default: the mine's)."),
    deadline: Optional[str] = typer.Option(None, "--deadline", help="Deadline, YYYY-MM-DD (usually set by a notice)."),
    source: str = typer.Option("field_survey", "--source", help="How it was found (field_survey, remote_sensing ...)."),
    requirement: Optional[str] = typer.Option(None, "--requirement", help="What must be done (整改要求)."),
    description: Optional[str] = typer.Option(None, "--description"),
    cooperating: list[str] = typer.Option([], "--cooperating", help="Cooperating unit code (repeat)."),
    as_: str = typer.Option("office", "--as", help=AS_HELP),
    actor: str = typer.Option("cli", "--actor", help="User name for the audit trail."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Enter a problem in the ledger (登记问题)."""
    from subsidence.ledger import lifecycle as lc

    with _session("登记问题") as s:
        who = resolve_actor(s, as_, actor)
        m = lc.find_mine(s, mine) if mine else None
        t = lc.find_town(s, town) if town else None
        p = lc.add_problem(
            s,
            who,
            category=category,
            title=title,
            found_date=_date(found, "--found"),
            source=source,
            mine=m,
            town_id=t.id if t else None,
            deadline=_date(deadline, "--deadline"),
            requirement=requirement,
            description=description,
            cooperating=[lc.find_unit(s, c) for c in cooperating],
        )
        out = lc.problem_summary(p)
    emit_json(out) if json_out else _print_problem(out)


@problem_app.command("list")
def problem_list(
    state: list[str] = typer.Option([], "--state", help="Only these states (repeat)."),
    mine: Optional[str] = typer.Option(None, "--mine", help="Only this mine (licence number or name)."),
    category: Optional[str] = typer.Option(None, "--category", help="Only this task 1-7."),
    overdue: bool = typer.Option(False, "--overdue", help="Only overdue problems."),
    today: Optional[str] = typer.Option(None, "--today", help="Evaluate deadlines on this date (default today)."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """List ledger problems (by ledger number)."""
    from sqlalchemy import select

    from subsidence.ledger import lifecycle as lc
    from subsidence.ledger.models import Problem
    from subsidence.vocabulary import ProblemCategory

    with _session() as s:
        day = _date(today, "--today") or lc.today_local()
        q = select(Problem).order_by(Problem.code)
        if state:
            q = q.where(Problem.state.in_([lc.S.parse(x) for x in state]))
        if mine:
            q = q.where(Problem.mine_id == lc.find_mine(s, mine).id)
        if category:
            q = q.where(Problem.category == ProblemCategory.parse(category))
        rows = [lc.problem_summary(p, day) for p in s.scalars(q)]
        if overdue:
            rows = [r for r in rows if r["overdue"]]
    if json_out:
        emit_json(rows)
        return
    for r in rows:
        flag = " 逾期/OVERDUE" if r.get("overdue") else ""
        typer.echo(
            f"{r['code']}  {r['state']:<14} {r['category']}  {r['deadline'] or '-':<10}  "
            f"{r['mine_zh'] or r['town'] or '-'}  {r['title']}{flag}"
        )
    typer.echo(f"{len(rows)} problem(s)")


@problem_app.command("show")
def problem_show(
    code: str = typer.Argument(..., help="Ledger number (TZ-2024-0001) or id."),
    as_: str = typer.Option("office", "--as", help=AS_HELP + " (for the allowed next steps)."),
    actor: str = typer.Option("cli", "--actor"),
    today: Optional[str] = typer.Option(None, "--today"),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Show a problem with its history, notices, evidence, acceptances and the next allowed steps."""
    from subsidence.ledger import evidence as ev
    from subsidence.ledger import lifecycle as lc
    from subsidence.ledger import notices as nt

    with _session() as s:
        p = lc.find_problem(s, code)
        who = resolve_actor(s, as_, actor)
        out = lc.problem_summary(p, _date(today, "--today") or lc.today_local())
        out["history"] = lc.history(s, p)
        out["notices"] = [nt.notice_summary(n) for n in nt.notices_of(s, p)]
        out["evidence"] = [
            {
                "id": e.id,
                "filename": e.filename,
                "media_type": e.media_type,
                "sha256": e.sha256,
                "size_bytes": e.size_bytes,
                "uploaded_by": e.uploaded_by,
            }
            for e in ev.evidence_of(s, p)
        ]
        out["acceptances"] = [
            {
                "date": a.decided_date.isoformat(),
                "result": a.result.value,
                "reasons": a.reasons,
                "inspectors": a.inspectors,
                "within_window": a.within_window,
            }
            for a in ev.acceptances_of(s, p)
        ]
        out["allowed_transitions"] = [t.name for t in lc.allowed_transitions(p, who)]
    if json_out:
        emit_json(out)
        return
    _print_problem(out)
    for h in out["history"]:
        typer.echo(f"  {h['on']}  {h['from']} -> {h['to']}  ({h['actor']}){'  ' + h['reason'] if h['reason'] else ''}")
    typer.echo(f"  next ({as_}): {', '.join(out['allowed_transitions']) or '-'}")


DATE_HELP = "Business date: default the server's date; only the office may give an earlier one (with --date-reason)."
DATE_REASON_HELP = "Why an earlier date is recorded (office only; kept in the history)."


def _move(
    code: str,
    name: str,
    on: Optional[str],
    reason: Optional[str],
    as_: str,
    actor: str,
    json_out: bool,
    date_reason: Optional[str] = None,
) -> None:
    from subsidence.ledger import lifecycle as lc

    with _session(reason) as s:
        p = lc.find_problem(s, code)
        lc.transition(
            s, p, resolve_actor(s, as_, actor), name, on=_date(on, "--on"), reason=reason, date_reason=date_reason
        )
        out = lc.problem_summary(p)
    emit_json(out) if json_out else typer.echo(f"{out['code']}: {out['state_zh']} ({out['state']})")


def _simple(name: str, doc: str, default_as: str = "office"):
    def cmd(
        code: str = typer.Argument(..., help="Ledger number or id."),
        on: Optional[str] = typer.Option(None, "--on", help=DATE_HELP),
        date_reason: Optional[str] = typer.Option(None, "--date-reason", help=DATE_REASON_HELP),
        reason: Optional[str] = typer.Option(None, "--reason", help="Reason / note for the record."),
        as_: str = typer.Option(default_as, "--as", help=AS_HELP),
        actor: str = typer.Option("cli", "--actor"),
        json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
    ) -> None:
        _move(code, name, on, reason, as_, actor, json_out, date_reason)

    cmd.__doc__ = doc
    return cmd


problem_app.command("fix")(_simple("fix_at_once", "Report the problem fixed at once (立行立改)."))
problem_app.command("start")(_simple("start", "Start rectifying after the notice (开始整改)."))
problem_app.command("submit")(_simple("submit", "Submit for acceptance (申请验收); opens the 60-working-day window."))
problem_app.command("resume")(_simple("resume", "Resume rectifying after a return (重新整改)."))
problem_app.command("withdraw")(_simple("withdraw", "Withdraw the problem (撤销); --reason is required."))


@problem_app.command("transition")
def problem_transition(
    code: str = typer.Argument(..., help="Ledger number or id."),
    name: str = typer.Argument(..., help="Transition name (see `subsidence problem transitions`)."),
    on: Optional[str] = typer.Option(None, "--on", help=DATE_HELP),
    date_reason: Optional[str] = typer.Option(None, "--date-reason", help=DATE_REASON_HELP),
    reason: Optional[str] = typer.Option(None, "--reason"),
    as_: str = typer.Option("office", "--as", help=AS_HELP),
    actor: str = typer.Option("cli", "--actor"),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Perform any transition of the lifecycle table by name."""
    _move(code, name, on, reason, as_, actor, json_out, date_reason)


@problem_app.command("transitions")
def problem_transitions(json_out: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """Print the lifecycle table: transition, from states, to state, who may do it."""
    from subsidence.ledger.lifecycle import table_rows

    rows = table_rows()
    if json_out:
        emit_json(rows)
        return
    for r in rows:
        typer.echo(
            f"{r['name']:<13} {','.join(r['from']):<70} -> {r['to']:<14} by {','.join(r['parties'])}"
            f"{'  (reason required)' if r['reason_required'] else ''}"
        )


def _acceptance(code, passed, inspectors, reason, on, as_, actor, json_out, flag_note=None, date_reason=None) -> None:
    from subsidence.ledger import lifecycle as lc
    from subsidence.ledger.evidence import record_acceptance

    with _session(reason) as s:
        p = lc.find_problem(s, code)
        rec = record_acceptance(
            s,
            p,
            resolve_actor(s, as_, actor),
            passed=passed,
            inspectors=inspectors,
            reasons=reason,
            decided_date=_date(on, "--on"),
            flag_note=flag_note,
            date_reason=date_reason,
        )
        out = {
            **lc.problem_summary(p),
            "acceptance": {
                "id": rec.id,
                "result": rec.result.value,
                "inspectors": rec.inspectors,
                "reasons": rec.reasons,
                "within_window": rec.within_window,
            },
        }
    emit_json(out) if json_out else typer.echo(f"{out['code']}: {out['state_zh']} ({out['state']})")


@problem_app.command("accept")
def problem_accept(
    code: str = typer.Argument(...),
    inspector: list[str] = typer.Option([], "--inspector", help="Inspector present (role/number; repeat, >= 2)."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Note on the acceptance."),
    flag_note: Optional[str] = typer.Option(None, "--flag-note", help="Inspector's note on flagged photo evidence."),
    on: Optional[str] = typer.Option(None, "--on", help=DATE_HELP),
    date_reason: Optional[str] = typer.Option(None, "--date-reason", help=DATE_REASON_HELP),
    as_: str = typer.Option("office", "--as", help=AS_HELP),
    actor: str = typer.Option("cli", "--actor"),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Accept the rectification (验收通过，销号)."""
    _acceptance(code, True, inspector, reason, on, as_, actor, json_out, flag_note, date_reason)


@problem_app.command("return")
def problem_return(
    code: str = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="Why it is not accepted (required)."),
    inspector: list[str] = typer.Option([], "--inspector", help="Inspector present (repeat, >= 2)."),
    on: Optional[str] = typer.Option(None, "--on", help=DATE_HELP),
    date_reason: Optional[str] = typer.Option(None, "--date-reason", help=DATE_REASON_HELP),
    as_: str = typer.Option("office", "--as", help=AS_HELP),
    actor: str = typer.Option("cli", "--actor"),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Return the rectification as not accepted (验收退回)."""
    _acceptance(code, False, inspector, reason, on, as_, actor, json_out, None, date_reason)


@problem_app.command("evidence")
def problem_evidence(
    code: str = typer.Argument(...),
    file: Path = typer.Argument(..., help="Photo (JPEG/PNG) or document (PDF/DOCX/XLSX).", exists=True, dir_okay=False),
    claimed_type: Optional[str] = typer.Option(None, "--type", help="What the file is (default: from its name)."),
    lon: Optional[float] = typer.Option(None, "--lon"),
    lat: Optional[float] = typer.Option(None, "--lat"),
    taken_at: Optional[str] = typer.Option(None, "--taken-at", help="ISO time with zone, e.g. 2024-10-09T10:30+08:00"),
    note: Optional[str] = typer.Option(None, "--note"),
    as_: str = typer.Option("office", "--as", help=AS_HELP),
    actor: str = typer.Option("cli", "--actor"),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Attach evidence to a problem (stored content-addressed, never overwritten)."""
    from subsidence.ledger import lifecycle as lc
    from subsidence.ledger.evidence import attach_evidence

    when = None
    if taken_at:
        try:
            when = datetime.fromisoformat(taken_at)
        except ValueError:
            fail(f"--taken-at {taken_at!r} is not an ISO date-time")
    with _session("上传佐证材料") as s:
        p = lc.find_problem(s, code)
        e = attach_evidence(
            s,
            p,
            resolve_actor(s, as_, actor),
            data=file.read_bytes(),
            filename=file.name,
            claimed_type=claimed_type,
            taken_at=when,
            lon=lon,
            lat=lat,
            note=note,
        )
        out = {
            "id": e.id,
            "problem": p.code,
            "sha256": e.sha256,
            "media_type": e.media_type,
            "size_bytes": e.size_bytes,
            "storage_path": e.storage_path,
            "exif": e.exif,
            "flags": e.flags or [],
        }
    if json_out:
        emit_json(out)
        return
    typer.echo(f"evidence #{out['id']} {out['media_type']} sha256={out['sha256']}")
    for f in out["flags"]:
        typer.echo(f"  ⚠ {f['message']}")


@problem_app.command("milestone")
def problem_milestone(
    code: str = typer.Argument(..., help="Ledger number or id."),
    seq: int = typer.Argument(..., help="Milestone number."),
    evidence: list[int] = typer.Option([], "--evidence", help="Evidence id showing it done (repeat; required)."),
    on: Optional[str] = typer.Option(None, "--on", help=DATE_HELP),
    date_reason: Optional[str] = typer.Option(None, "--date-reason", help=DATE_REASON_HELP),
    as_: str = typer.Option("office", "--as", help=AS_HELP),
    actor: str = typer.Option("cli", "--actor"),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Complete a milestone (时间节点) with its evidence."""
    from subsidence.ledger import lifecycle as lc
    from subsidence.ledger.milestones import complete_milestone

    with _session("完成时间节点") as s:
        p = lc.find_problem(s, code)
        m = complete_milestone(
            s,
            p,
            resolve_actor(s, as_, actor),
            seq,
            evidence_ids=evidence,
            done_date=_date(on, "--on"),
            date_reason=date_reason,
        )
        out = {
            "problem": p.code,
            "seq": m.seq,
            "description": m.description,
            "due_date": m.due_date.isoformat(),
            "done_date": m.done_date.isoformat(),
            "evidence": m.evidence_ids,
        }
    emit_json(out) if json_out else typer.echo(f"{out['problem']} milestone {seq} done {out['done_date']}")


@problem_app.command("extend")
def problem_extend(
    code: str = typer.Argument(..., help="Ledger number or id."),
    until: str = typer.Option(..., "--until", help="Requested new deadline (YYYY-MM-DD)."),
    reason: str = typer.Option(..., "--reason", help="Why the mine needs more time (required)."),
    as_: str = typer.Option("office", "--as", help=AS_HELP),
    actor: str = typer.Option("cli", "--actor"),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Request a deadline extension (申请延期) for the mine (before the deadline expires)."""
    from subsidence.ledger import lifecycle as lc
    from subsidence.ledger.extensions import extension_dict, request_extension

    with _session("申请延期") as s:
        p = lc.find_problem(s, code)
        out = extension_dict(
            request_extension(
                s, p, resolve_actor(s, as_, actor), requested_deadline=_date(until, "--until"), reason=reason
            )
        )
    emit_json(out) if json_out else typer.echo(
        f"{code}: extension {out['seq']} requested to {out['requested_deadline']}"
    )


@problem_app.command("extension")
def problem_extension_decide(
    code: str = typer.Argument(..., help="Ledger number or id."),
    approve: bool = typer.Option(..., "--approve/--reject", help="Approve or reject the open request."),
    reason: str = typer.Option(..., "--reason", help="The decision's reason (required)."),
    until: Optional[str] = typer.Option(None, "--until", help="Granted deadline (default: as requested)."),
    as_: str = typer.Option("office", "--as", help=AS_HELP),
    actor: str = typer.Option("cli", "--actor"),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Decide the open extension request (lead unit or office)."""
    from subsidence.ledger import lifecycle as lc
    from subsidence.ledger.extensions import decide_extension, extension_dict, find_extension

    with _session("延期审批") as s:
        p = lc.find_problem(s, code)
        x = decide_extension(
            s,
            find_extension(s, p),
            resolve_actor(s, as_, actor),
            approve=approve,
            reason=reason,
            granted_deadline=_date(until, "--until"),
        )
        out = extension_dict(x)
    emit_json(out) if json_out else typer.echo(
        f"{code}: extension {out['seq']} {out['state']}"
        f"{' to ' + out['granted_deadline'] if out['granted_deadline'] else ''}"
    )


# ---------------------------------------------------------------------------------------------- notice


def _milestone(text: str):
    """``描述@2024-10-10`` (fixed date) or ``描述@-5`` / ``描述@5wd`` (working days before the deadline)."""
    from subsidence.ledger.notices import MilestoneInput

    desc, sep, when = text.rpartition("@")
    if not sep or not desc.strip():
        fail(f"--milestone {text!r}: use '描述@YYYY-MM-DD' or '描述@5wd' (5 working days before the deadline)")
    w = when.strip().lower().removesuffix("wd").lstrip("-")
    if w.isdigit():
        return MilestoneInput(desc.strip(), workdays_before=int(w))
    return MilestoneInput(desc.strip(), due_date=_date(when.strip(), "--milestone"))


@notice_app.command("issue")
def notice_issue(
    problem: str = typer.Argument(..., help="Ledger number of the problem."),
    issued: Optional[str] = typer.Option(None, "--date", help="Notice date (default today)."),
    deadline: Optional[str] = typer.Option(None, "--deadline", help="Deadline date, YYYY-MM-DD."),
    workdays: Optional[int] = typer.Option(None, "--workdays", help="Or: deadline = N working days after the date."),
    milestone: list[str] = typer.Option([], "--milestone", help="'描述@YYYY-MM-DD' or '描述@5wd' (repeat)."),
    requirement: Optional[str] = typer.Option(None, "--requirement", help="Requirement (default: the problem's)."),
    legal_basis: Optional[str] = typer.Option(None, "--legal-basis", help="Legal basis (default: by task)."),
    recipient: Optional[str] = typer.Option(None, "--recipient", help="Recipient when the problem has no mine."),
    out_dir: Optional[Path] = typer.Option(None, "--out-dir", help="Write <number>.pdf and .docx here."),
    as_: str = typer.Option("office", "--as", help=AS_HELP),
    actor: str = typer.Option("cli", "--actor"),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Issue a numbered deadline rectification notice (moves the problem to notice_issued)."""
    from subsidence.ledger import lifecycle as lc
    from subsidence.ledger import notices as nt

    ms = [_milestone(m) for m in milestone]
    with _session("下达限期整改通知书") as s:
        p = lc.find_problem(s, problem)
        n = nt.issue_notice(
            s,
            p,
            resolve_actor(s, as_, actor),
            issued_date=_date(issued, "--date"),
            deadline=_date(deadline, "--deadline"),
            workdays=workdays,
            requirement=requirement,
            legal_basis=legal_basis,
            milestones=ms,
            recipient=recipient,
        )
        out = nt.notice_summary(n)
    if out_dir is not None:
        out["files"] = _render_notice(out["code"], out_dir)
    emit_json(out) if json_out else typer.echo(f"{out['code']}  {out['problem']}  deadline {out['deadline']}")


def _render_notice(code: str, out_dir: Path) -> list[str]:
    from subsidence.ledger.notices import find_notice
    from subsidence.reports.notice import notice_docx, notice_pdf

    with _session() as s:
        n = find_notice(s, code)
        stem = f"限期整改通知书_{n.year}_{n.seq:03d}"
        notice_pdf(n, out_dir / f"{stem}.pdf")
        notice_docx(n, out_dir / f"{stem}.docx")
    return [str(out_dir / f"{stem}.pdf"), str(out_dir / f"{stem}.docx")]


@notice_app.command("render")
def notice_render(
    notice: str = typer.Argument(..., help="Notice number, id, or problem code (its latest notice)."),
    out_dir: Path = typer.Option(Path("."), "--out-dir", help="Folder for the PDF and DOCX."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """(Re)generate a notice's PDF and DOCX (identical content every time)."""
    files = _render_notice(notice, out_dir)
    emit_json({"files": files}) if json_out else typer.echo("\n".join(files))


@notice_app.command("deliver")
def notice_deliver(
    notice: str = typer.Argument(..., help="Notice number, id, or problem code."),
    on: Optional[str] = typer.Option(None, "--date", help=DATE_HELP),
    date_reason: Optional[str] = typer.Option(None, "--date-reason", help=DATE_REASON_HELP),
    method: str = typer.Option("in_person", "--method", help="in_person|post|electronic|left_at_premises|..."),
    receiver: str = typer.Option(..., "--receiver", help="Receiving role (e.g. 矿长), not a personal name."),
    note: Optional[str] = typer.Option(None, "--note"),
    as_: str = typer.Option("office", "--as", help=AS_HELP),
    actor: str = typer.Option("cli", "--actor"),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Record delivery (送达) of a notice."""
    from subsidence.ledger import notices as nt

    with _session("送达") as s:
        n = nt.find_notice(s, notice)
        d = nt.record_delivery(
            s,
            n,
            resolve_actor(s, as_, actor),
            delivered_date=_date(on, "--date"),
            method=method,
            receiving_role=receiver,
            note=note,
            date_reason=date_reason,
        )
        out = nt.notice_summary(n)
        when = d.delivered_date.isoformat()
    emit_json(out) if json_out else typer.echo(f"{out['code']}: delivered {when} ({method}) to {receiver}")


@notice_app.command("list")
def notice_list(json_out: bool = typer.Option(False, "--json", help=JSON_HELP)) -> None:
    """List notices by number."""
    from sqlalchemy import select

    from subsidence.ledger.models import RectificationNotice
    from subsidence.ledger.notices import notice_summary

    with _session() as s:
        rows = [
            notice_summary(n)
            for n in s.scalars(select(RectificationNotice).order_by(RectificationNotice.year, RectificationNotice.seq))
        ]
    if json_out:
        emit_json(rows)
        return
    for r in rows:
        typer.echo(
            f"{r['code']}  {r['problem']}  {r['issued_date']} -> {r['deadline']}  "
            f"{'delivered' if r['deliveries'] else 'NOT delivered'}"
        )


# ---------------------------------------------------------------------------------------------- gate


def gate_cmd(
    mine: str = typer.Argument(..., help="Mine licence number or name."),
    application: str = typer.Option(
        "new_licence", "--application", "-a", help="new_licence | extension | change | cancellation | construction_land"
    ),
    today: Optional[str] = typer.Option(None, "--today", help="Evaluate on this date (default today)."),
    as_: str = typer.Option("office", "--as", help=AS_HELP),
    actor: str = typer.Option("cli", "--actor"),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Licence gate: may this mine's application be accepted, and if not, why (logged)."""
    from subsidence.gate.service import evaluate_gate
    from subsidence.ledger.lifecycle import find_mine

    with _session("许可闸门查询") as s:
        m = find_mine(s, mine)
        d = evaluate_gate(s, m, application, _date(today, "--today"), actor=resolve_actor(s, as_, actor))
        out = d.as_dict()
    if json_out:
        emit_json(out)
        return
    verdict = {
        "allowed": "允许受理 / ALLOWED",
        "refused": "不予受理 / REFUSED",
        "not_evaluable": "无法判定 / CANNOT BE EVALUATED",
    }[out["outcome"]]
    typer.echo(
        f"{out['mine']} {out['mine_name']} — {out['application_label']} on {out['today']}: {verdict}"
        f"  (query {out['query_id']})"
    )
    for r in out["reasons"]:
        typer.echo(f"  ✗ [{r['rule']}] {r['message']}\n      依据: {r['legal_basis']}\n      解除: {r['remedy']}")
    for r in out["not_evaluable"]:
        typer.echo(f"  ? [{r['rule']}] {r['message']}")
    for r in out["warnings"]:
        typer.echo(f"  ! [{r['rule']}] {r['message']}")


def gate_refuse_cmd(
    query_id: int = typer.Argument(..., help="Gate query id (printed by `subsidence gate`)."),
    authority: Optional[str] = typer.Option(None, "--authority", help="Issuing unit code (default NRB)."),
    as_: str = typer.Option("office", "--as", help=AS_HELP),
    actor: str = typer.Option("cli", "--actor"),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Issue the numbered 不予受理告知书 of a refused gate query (once)."""
    from subsidence.gate.service import issue_refusal_notice

    with _session("不予受理告知书") as s:
        n = issue_refusal_notice(s, query_id, resolve_actor(s, as_, actor), authority=authority)
        out = dict(n.snapshot)
    emit_json(out) if json_out else typer.echo(
        f"{out['code']}  {out['mine']}  {out['application_label']}  {len(out['reasons'])} reason(s)"
    )


# ---------------------------------------------------------------------------------------------- report


@report_app.command("progress")
def report_progress(
    start: str = typer.Option(..., "--from", help="First day of the period."),
    end: str = typer.Option(..., "--to", help="Last day of the period."),
    out: Path = typer.Option(
        Path("progress"), "--out", help="Output path; .pdf or .docx writes that one, no suffix writes both."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print the report's numbers as JSON."),
) -> None:
    """Progress report (工作进展情况报告) for a period, in Chinese, as PDF and/or DOCX."""
    from subsidence.reports.progress import build_report, progress_docx, progress_pdf

    with _session() as s:
        rep = build_report(s, _date(start, "--from"), _date(end, "--to"))
        files = []
        if out.suffix.lower() in (".pdf", ""):
            path = out if out.suffix else out.with_suffix(".pdf")
            progress_pdf(rep, path)
            files.append(str(path))
        if out.suffix.lower() in (".docx", ""):
            path = out if out.suffix else out.with_suffix(".docx")
            progress_docx(rep, path)
            files.append(str(path))
        if not files:
            fail(f"--out {out}: use a .pdf or .docx name, or no suffix for both")
        data = rep.as_dict()
    if json_out:
        emit_json({**data, "files": files})
    else:
        typer.echo("\n".join(files))


@report_app.command("ledger")
def report_ledger(
    out: Path = typer.Argument(..., help="Excel file to write (.xlsx)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Only problems found by this date."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """The ledger as Excel in the layout offices exchange (问题台账)."""
    from subsidence.reports.progress import ledger_xlsx

    with _session() as s:
        path = ledger_xlsx(s, out, _date(as_of, "--as-of"))
    emit_json({"file": str(path)}) if json_out else typer.echo(str(path))


# ---------------------------------------------------------------------------------------------- calendar


@calendar_app.command("add")
def calendar_add(
    start: str = typer.Argument(..., help="Start date."),
    n: int = typer.Argument(..., help="Working days to add (negative: back)."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """The N-th working day after (before) a date."""
    from subsidence.workdays import CalendarError, default_calendar

    try:
        d = default_calendar().add_workdays(_date(start, "START"), n)
    except CalendarError as exc:
        fail(str(exc))
    emit_json({"start": start, "workdays": n, "date": d.isoformat()}) if json_out else typer.echo(d.isoformat())


@calendar_app.command("between")
def calendar_between(
    a: str = typer.Argument(...),
    b: str = typer.Argument(...),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Working days in (A, B]."""
    from subsidence.workdays import CalendarError, default_calendar

    try:
        n = default_calendar().workdays_between(_date(a, "A"), _date(b, "B"))
    except CalendarError as exc:
        fail(str(exc))
    emit_json({"from": a, "to": b, "workdays": n}) if json_out else typer.echo(str(n))


@calendar_app.command("info")
def calendar_info(day: str = typer.Argument(...), json_out: bool = typer.Option(False, "--json", help=JSON_HELP)):
    """Is DAY a working day, and which holiday is it."""
    from subsidence.workdays import CalendarError, default_calendar

    try:
        info = default_calendar().describe(_date(day, "DAY"))
    except CalendarError as exc:
        fail(str(exc))
    emit_json(info) if json_out else typer.echo(
        f"{info['date']}: {'working day' if info['workday'] else 'day off'} ({info['kind']}) {info['name_zh']}"
    )


@calendar_app.command("schedule")
def calendar_schedule(
    deadline: str = typer.Argument(..., help="Deadline date."),
    milestone: list[str] = typer.Option(..., "--milestone", help="'描述@N' = N working days before (repeat)."),
    start: Optional[str] = typer.Option(None, "--start", help="Start date (checks the plan fits)."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Backward scheduling (倒排工期): the latest date for each milestone."""
    from subsidence.workdays import MilestoneSpec, backward_schedule

    specs = []
    for m in milestone:
        desc, _, n = m.rpartition("@")
        n = n.lower().removesuffix("wd").lstrip("-")
        if not desc or not n.isdigit():
            fail(f"--milestone {m!r}: use '描述@N' (N working days before the deadline)")
        specs.append(MilestoneSpec(desc, int(n)))
    try:
        rows = [
            s.as_dict() for s in backward_schedule(_date(deadline, "DEADLINE"), specs, start=_date(start, "--start"))
        ]
    except ValueError as exc:
        fail(str(exc))
    if json_out:
        emit_json(rows)
        return
    for r in rows:
        typer.echo(f"{r['seq']}. {r['latest_date']}  {r['description']}  ({r['workdays_before']} working days before)")


@calendar_app.command("watch")
def calendar_watch(
    today: Optional[str] = typer.Option(None, "--today", help="Evaluate on this date (default today)."),
    escalate: bool = typer.Option(False, "--escalate", help="Record escalations (督办) of overdue problems."),
    json_out: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """Overdue and due-soon problems, overdue milestones, acceptance past the office's window; with --escalate,
    issue the 督办通知 of each missed date (once per problem, subject and level) and queue its notification."""
    from subsidence.gate.watch import run_deadline_watch
    from subsidence.ledger.lifecycle import server_today
    from subsidence.ledger.progress import deadline_watch

    with _session("逾期督办") as s:
        day = _date(today, "--today") or server_today(s)
        out = run_deadline_watch(s, day) if escalate else deadline_watch(s, day)
    if json_out:
        emit_json(out)
        return
    typer.echo(f"{day}: {len(out['overdue'])} overdue, {len(out['due_soon'])} due soon")
    for o in out["overdue"]:
        typer.echo(f"  逾期 {o['code']}  deadline {o['deadline']}  +{o['workdays_overdue']} wd  {o['title']}")
    for o in out["due_soon"]:
        typer.echo(f"  临期 {o['code']}  deadline {o['deadline']}  {o['title']}")
    for a in out["acceptance_overdue"]:
        typer.echo(f"  验收超时 {a['code']}  submitted {a['submitted_date']}, window ended {a['acceptance_due']}")
    for m in out.get("milestones_overdue", []):
        typer.echo(f"  节点逾期 {m['problem']} #{m['seq']}  due {m['due_date']}  {m['description']}")
    for e in out.get("escalated", []):
        typer.echo(f"  督办 {e['code']} {e['problem']} ({e['kind']}) -> {e['unit'] or e['level']}")


def register(app: typer.Typer) -> None:
    app.add_typer(problem_app, name="problem")
    app.add_typer(notice_app, name="notice")
    app.add_typer(report_app, name="report")
    app.add_typer(calendar_app, name="calendar")
    app.command("gate")(gate_cmd)
    app.command("gate-refuse")(gate_refuse_cmd)
