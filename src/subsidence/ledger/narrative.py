"""A problem's history in words (for its page): who did what, when, in the reader's language.

The audit trail stores machine facts (``state: found → notice_issued``); a town cadre reads
"领导小组办公室 office 下达限期整改通知书：状态 已发现 → 已下达整改通知". Field names, states and transitions
are translated; values that are codes of a known vocabulary become their labels.
"""

from __future__ import annotations

from typing import Any

from subsidence.ledger.lifecycle import TRANSITIONS
from subsidence.vocabulary import ProblemCategory, ProblemSource, ProblemState, Role

#: problem fields as people call them (zh, en); fields not listed are not worth a line (ids, flags)
FIELDS: dict[str, tuple[str, str]] = {
    "state": ("状态", "state"),
    "deadline": ("整改期限", "deadline"),
    "title": ("问题", "problem"),
    "description": ("问题描述", "description"),
    "requirement": ("整改要求", "requirement"),
    "category": ("任务", "task"),
    "source": ("发现方式", "found by"),
    "found_date": ("发现日期", "found"),
    "closed_date": ("销号日期", "closed"),
    "submitted_date": ("申请验收日期", "submitted"),
    "acceptance_due": ("验收期限", "acceptance due"),
    "code": ("编号", "code"),
}
ACTIONS: dict[str, tuple[str, str]] = {
    "insert": ("登记问题", "recorded the problem"),
    "update": ("修改", "changed"),
    "milestone_done": ("完成时间节点", "completed a milestone"),
    "extension_requested": ("申请延期", "asked for more time"),
    "extension_decided": ("审批延期申请", "decided on more time"),
    "delete": ("删除", "deleted"),
}


def _value(field: str, v: Any, zh: bool) -> str:
    if v is None or v == "":
        return "无" if zh else "none"
    try:
        if field == "state":
            return ProblemState(v).label("zh" if zh else "en")
        if field == "category":
            return ProblemCategory(v).label("zh" if zh else "en")
        if field == "source":
            return ProblemSource(v).label("zh" if zh else "en")
    except ValueError:
        pass
    return str(v)


def who(actor: str, lang: str) -> str:
    """``"office:office"`` → ``"领导小组办公室 office"``; system and script names stay as they are."""
    role, _, name = (actor or "").partition(":")
    try:
        return f"{Role(role).label(lang)} {name}".strip()
    except ValueError:
        return actor or ""


def describe(event: dict[str, Any], lang: str = "zh-CN") -> str:
    """One audit event of a problem as a sentence (without time and actor)."""
    zh = lang.startswith("zh")
    action = event.get("action", "")
    before, after = event.get("before") or {}, event.get("after") or {}
    if action == "transition":
        t = TRANSITIONS.get(str(after.get("transition", "")))
        head = (t.label_zh if zh else t.label_en) if t else str(after.get("transition", ""))
        parts = [
            (
                f"{'状态' if zh else 'state'} {_value('state', before.get('state'), zh)} → "
                f"{_value('state', after.get('state'), zh)}"
            )
        ]
        if after.get("notice"):
            parts.append(f"{'通知书' if zh else 'notice'} {after['notice']}")
        if after.get("deadline"):
            parts.append(f"{'期限' if zh else 'deadline'} {after['deadline']}")
        if after.get("on"):
            parts.append(f"{'日期' if zh else 'on'} {after['on']}")
    else:
        head = (ACTIONS.get(action) or (action, action))[0 if zh else 1]
        parts = []
        if action != "insert":
            for k, v in after.items():
                if k in FIELDS:
                    name = FIELDS[k][0 if zh else 1]
                    parts.append(f"{name} {_value(k, before.get(k), zh)} → {_value(k, v, zh)}")
        else:
            for k in ("title", "deadline"):
                if after.get(k):
                    parts.append(f"{FIELDS[k][0 if zh else 1]} {_value(k, after[k], zh)}")
    text = head + ("：" if zh else ": ") + ("；" if zh else "; ").join(parts) if parts else head
    if event.get("reason"):
        text += f"（{event['reason']}）" if zh else f" ({event['reason']})"
    return text


def in_words(events: list[dict[str, Any]], lang: str = "zh-CN") -> list[dict[str, Any]]:
    """The events (oldest first, from :func:`subsidence.core.history.audit_trail`) as ``{at, who, text}``,
    newest first. The row updates a transition makes in the same second are folded into it, and updates of
    fields nobody reads (ids, flags) are left out."""
    moments = {ev.get("at", "")[:19] for ev in events if ev.get("action") == "transition"}
    mirrored = {"state", "deadline", "closed_date", "submitted_date", "acceptance_due"}
    out = []
    for ev in events:
        if ev.get("action") == "update":
            keys = set(ev.get("after") or {})
            if ev.get("at", "")[:19] in moments and keys <= mirrored:
                continue  # the row change a transition made; the transition already says it
            if not keys & set(FIELDS):
                continue
        out.append(
            {
                "at": ev.get("at", "")[:16].replace("T", " "),
                "who": who(ev.get("actor", ""), lang),
                "text": describe(ev, lang),
            }
        )
    return out[::-1]


#: the evidence an acceptance (验收) looks for, per task (the plan's "what must happen", docs/domain.md §3).
#: [verify] Lists drawn from the tasks' wording; settled by the office's acceptance checklist (验收要点).
EVIDENCE_NEEDED: dict[str, tuple[str, str]] = {
    "1": (
        "治理前后同一位置的照片（带拍摄位置和时间）、裂缝充填或塌陷坑回填施工记录、监理或核查意见",
        (
            "before/after photos from the same spot (with position and time), the filling/backfilling works record, "
            "the supervisor's or checker's opinion"
        ),
    ),
    "2": (
        "基金计提凭证、基金使用台账和支出凭证（银行流水）",
        "fund accrual vouchers, the use ledger and payment records",
    ),
    "3": (
        "枯死树木清理前后照片、补植补种（宜林则林、宜草则草）记录",
        "photos before/after clearing dead trees, the re-planting record",
    ),
    "4": (
        "拆除前后同一位置的照片、拆除确认单、补偿协议",
        ("photos before/after demolition from the same spot, the demolition record, the compensation agreement"),
    ),
    "5": (
        "经批准的保水开采方案、实施记录和地下水位监测数据",
        ("the approved water-preserving mining plan, its implementation record and groundwater-level data"),
    ),
    "6": (
        "明白卡、避险卡发放签收单，群测群防责任人名单，巡查记录",
        ("card receipts (明白卡/避险卡), the named mass-monitoring persons, patrol records"),
    ),
    "7": (
        "隐蔽致灾因素普查报告、一问题一方案的整改方案及审查意见",
        ("the hidden-hazard survey report, the per-problem plan and its review"),
    ),
}

#: what the responsible party does next, by state
NEXT_STEP: dict[str, tuple[str, str]] = {
    "found": ("等待整改通知书，或立行立改后上传佐证", "await the notice, or fix at once and upload evidence"),
    "notice_issued": ("按通知书要求开始整改", "start the rectification the notice requires"),
    "rectifying": ("整改完成后上传佐证材料并申请验收", "when done, upload the evidence and ask for acceptance"),
    "returned": ("按退回理由补充整改和佐证后重新申请验收", "rectify what the return names, add evidence, ask again"),
    "fixed_at_once": ("等待验收", "await acceptance"),
    "submitted": ("等待验收（领导小组办公室）", "await the office's acceptance"),
    "accepted": ("已验收销号", "accepted and closed"),
    "withdrawn": ("已撤销", "withdrawn"),
}


def guidance(category: str, state: str, lang: str = "zh-CN") -> dict[str, str]:
    """``{"next": ..., "evidence": ...}`` for a problem of task ``category`` in ``state``."""
    i = 0 if lang.startswith("zh") else 1
    return {
        "next": (NEXT_STEP.get(state) or ("", ""))[i],
        "evidence": (EVIDENCE_NEEDED.get(str(category)) or ("", ""))[i],
    }
