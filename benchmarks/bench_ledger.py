"""Rectification ledger: working-day arithmetic, gap-free notice numbering under concurrency, licence-gate latency.

1. ``add_workdays(d, 60)`` (the acceptance window) for every day 2024-2026 against ``numpy.busday_offset`` with
   the same holidays (baseline). numpy cannot express adjusted working days (调休: a Saturday that is worked), so
   it is fast but wrong on those dates; the mismatch count is printed.
2. 8 threads issuing 25 notices each at once on SQLite: notices/s, duplicates, gaps.
3. ``evaluate_gate`` (all registered rules) for a mine in a ledger of 600 problems over 60 mines.
Usage: python benchmarks/bench_ledger.py
"""

from __future__ import annotations

import tempfile
import threading
import time
from datetime import date, timedelta

import numpy as np


def bench_workdays() -> None:
    from subsidence.workdays import WorkCalendar

    cal = WorkCalendar.load()
    days = [date(2024, 1, 1) + timedelta(i) for i in range((date(2026, 10, 1) - date(2024, 1, 1)).days)]
    t0 = time.perf_counter()
    ours = [cal.add_workdays(d, 60) for d in days]
    t_ours = time.perf_counter() - t0
    hol = np.array(sorted(cal.holidays), dtype="datetime64[D]")
    t0 = time.perf_counter()
    base = np.busday_offset(np.array(days, dtype="datetime64[D]"), 60, roll="forward", holidays=hol)
    t_np = time.perf_counter() - t0
    # numpy rolls a non-working start forward and counts from it; align the convention: from d, the 60th day after
    base = np.busday_offset(
        np.busday_offset(np.array(days, dtype="datetime64[D]"), 0, roll="backward", holidays=hol), 60, holidays=hol
    )
    wrong = int(sum(a != b.astype(date) for a, b in zip(ours, base)))
    print(
        f"add_workdays x{len(days)}: ours {t_ours * 1e3:.1f} ms, numpy.busday_offset {t_np * 1e3:.2f} ms; "
        f"numpy differs on {wrong}/{len(days)} start dates (adjusted working days it cannot model)"
    )


def _db():
    from subsidence.db.migrate import upgrade
    from subsidence.db.session import make_engine

    d = tempfile.mkdtemp()
    eng = make_engine(f"sqlite:///{d}/bench.sqlite")
    upgrade(eng)
    return eng


def _county(eng, n_mines: int, n_problems: int):
    from subsidence.access.policy import Actor
    from subsidence.core.models import AdminArea, Enterprise, Mine, Unit
    from subsidence.db.session import transaction
    from subsidence.ledger.lifecycle import add_problem
    from subsidence.vocabulary import AreaLevel, ProblemCategory, Role, UnitKind

    with transaction(eng, "bench") as s:
        town = AdminArea(code="T-B", name_zh="基准镇", level=AreaLevel.TOWN)
        office = Unit(code="LGO", name_zh="办公室", kind=UnitKind.OFFICE)
        s.add_all([town, office, Unit(code="NRB", name_zh="自然资源局", kind=UnitKind.BUREAU)])
        s.flush()
        mines = []
        for i in range(n_mines):
            e = Enterprise(credit_code=f"E{i:05d}", name_zh=f"企业{i}")
            s.add(e)
            s.flush()
            m = Mine(licence_no=f"C{i:08d}", name_zh=f"矿{i}", enterprise_id=e.id, town_id=town.id)
            s.add(m)
            mines.append(m)
        s.flush()
        actor = Actor("bench", Role.OFFICE, unit_id=office.id)
        ids = [
            add_problem(
                s,
                actor,
                category=ProblemCategory.SUBSIDENCE_CRACKS,
                title=f"问题{k}",
                found_date=date(2024, 9, 12),
                mine=mines[k % n_mines],
            ).id
            for k in range(n_problems)
        ]
        return actor, ids, [m.id for m in mines]


def bench_notices() -> None:
    from sqlalchemy import select

    from subsidence.db.session import make_sessionmaker
    from subsidence.ledger.models import Problem, RectificationNotice
    from subsidence.ledger.notices import issue_notice

    eng = _db()
    actor, ids, _ = _county(eng, 10, 200)
    Session = make_sessionmaker(eng)
    chunks = [ids[i::8] for i in range(8)]
    barrier = threading.Barrier(8)
    errors = []

    def work(chunk):
        barrier.wait()
        for pid in chunk:
            try:
                with Session() as s:
                    issue_notice(s, s.get(Problem, pid), actor, issued_date=date(2024, 10, 8), workdays=30)
                    s.commit()
            except Exception as exc:  # noqa: BLE001 - counted and printed
                errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(c,)) for c in chunks]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt = time.perf_counter() - t0
    with Session() as s:
        seqs = sorted(s.scalars(select(RectificationNotice.seq)))
    dupes = len(seqs) - len(set(seqs))
    gaps = len(set(range(1, len(seqs) + 1)) - set(seqs))
    print(
        f"notices: {len(seqs)} issued by 8 threads in {dt:.2f} s ({len(seqs) / dt:.0f}/s, SQLite); "
        f"duplicates {dupes}, gaps {gaps}, errors {len(errors)}"
    )


def bench_gate() -> None:
    from subsidence.core.models import Mine
    from subsidence.db.session import make_sessionmaker
    from subsidence.gate.service import evaluate_gate, load_rules

    eng = _db()
    _, _, mines = _county(eng, 60, 600)
    load_rules()
    with make_sessionmaker(eng)() as s:
        mine = s.get(Mine, mines[0])
        evaluate_gate(s, mine, "new_licence", date(2024, 11, 1))
        n = 50
        t0 = time.perf_counter()
        for _ in range(n):
            evaluate_gate(s, mine, "new_licence", date(2024, 11, 1))
        dt = (time.perf_counter() - t0) / n
    print(f"gate: {dt * 1e3:.1f} ms per query ({len(load_rules())} rules, 600 problems, 60 mines, logged)")


if __name__ == "__main__":
    bench_workdays()
    bench_notices()
    bench_gate()
