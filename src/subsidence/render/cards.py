"""The two cards of the mass-monitoring system as printable Chinese HTML (→ PDF with the CJK font embedded):

- 地质灾害防灾工作明白卡 (work card), one per hazard point, for the responsible person and the monitors;
- 地质灾害防灾避险明白卡 (evacuation card), one per threatened household, printed in three copies
  (household, village, issuing unit), each with a receipt line to sign.

Pure rendering: the caller passes plain dicts (built by ``services.cards``); nothing here touches the DB.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, select_autoescape

_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))

_STYLE = """
<style>
  html { line-height: 1.35; }
  h1 { margin-bottom: 3mm; }
  h2 { margin: 3mm 0 1mm 0; }
  th, td { padding: 1.1mm 2mm; }
  .card { page-break-after: always; }
  .card:last-child { page-break-after: auto; }
  td.k { width: 24%; background: #f4f4f4; white-space: nowrap; }
  .copy { float: right; border: 0.8pt solid #a00; color: #a00; padding: 0.5mm 2mm; font-size: 9pt; }
  .signal { font-weight: bold; }
  .receipt td { height: 11mm; }
  .small { font-size: 9pt; color: #444; }
</style>
"""

WORK_CARD = _ENV.from_string(
    """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>地质灾害防灾工作明白卡 {{ hp.code }}</title>"""
    + _STYLE
    + """</head>
<body><div class="card">
<h1>地质灾害防灾工作明白卡</h1>
<p class="doc-no">卡号：{{ card_code }}　　发放日期：{{ issued_cn }}</p>
{% if illustrative %}<p class="illustrative">示例数据（演示用，非真实）</p>{% endif %}
<h2>一、隐患点基本情况</h2>
<table>
<tr><td class="k">隐患点名称及编号</td><td>{{ hp.name }}（{{ hp.code }}）</td>
    <td class="k">灾害类型</td><td>{{ hazard_type }}</td></tr>
<tr><td class="k">地理位置</td><td colspan="3">{{ location }}</td></tr>
<tr><td class="k">规模</td><td>{{ scale }}</td><td class="k">稳定性</td><td>{{ hp.stability or "—" }}</td></tr>
<tr><td class="k">诱发因素</td><td colspan="3">{{ hp.triggers or "—" }}</td></tr>
<tr><td class="k">威胁对象</td><td colspan="3">{{ hp.threatened_households }} 户 {{ hp.threatened_people }} 人，
    威胁财产约 {{ "%.1f"|format(hp.threatened_property_10k_yuan or 0) }} 万元</td></tr>
<tr><td class="k">险情等级</td><td colspan="3">{{ grade }}</td></tr>
</table>
<h2>二、监测预警</h2>
<table>
<tr><td class="k">群测群防责任人</td><td>{{ contact("responsible") }}</td></tr>
<tr><td class="k">监测人</td><td>{{ contact("monitor") }}</td></tr>
<tr><td class="k">监测方法</td><td>{{ hp.monitoring_method or "—" }}</td></tr>
<tr><td class="k">监测频次</td><td>{{ hp.monitoring_frequency or "—" }}</td></tr>
<tr><td class="k">监测仪器</td><td>{{ sensor_kinds or "人工监测" }}</td></tr>
<tr><td class="k">预警信号</td><td class="signal">{{ hp.warning_signal or "—" }}</td></tr>
<tr><td class="k">预警信号发布人</td><td>{{ contact("warning") }}</td></tr>
<tr><td class="k">预警级别</td><td>蓝色（注意级）→ 黄色（警示级）→ 橙色（警戒级）→ 红色（警报级）；
    橙色及以上立即组织撤离</td></tr>
</table>
<h2>三、应急避险</h2>
<table>
<tr><td class="k">撤离路线</td><td>{{ hp.evacuation_route_text or "—" }}</td></tr>
<tr><td class="k">避险场所</td><td>{{ hp.shelter_name or "—" }}</td></tr>
<tr><td class="k">抢险救援单位</td><td>{{ hp.rescue_unit or "—" }}{% if hp.rescue_unit_phone %}（{{ hp.rescue_unit_phone }}）{% endif %}</td></tr>
<tr><td class="k">镇人民政府</td><td>{{ contact("town") }}</td></tr>
<tr><td class="k">旗自然资源局</td><td>{{ contact("bureau") }}</td></tr>
</table>
<p class="sign">发卡单位（盖章）：{{ issuing_unit }}　　　持卡人签字：＿＿＿＿＿＿</p>
<p class="small">本卡由群测群防责任人及监测人持有。人员以岗位称谓记载；电话如有变动请及时报发卡单位更新。</p>
</div></body></html>"""
)

HOUSEHOLD_CARD = _ENV.from_string(
    """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>地质灾害防灾避险明白卡</title>"""
    + _STYLE
    + """</head>
<body>{% for copy in copies %}<div class="card">
<span class="copy">{{ copy }}</span>
<h1>地质灾害防灾避险明白卡</h1>
{% if illustrative %}<p class="illustrative">示例数据（演示用，非真实）</p>{% endif %}
<h2>一、家庭基本情况</h2>
<table>
<tr><td class="k">户主姓名</td><td>{{ householder or "＿＿＿＿＿＿（发卡时填写）" }}</td>
    <td class="k">家庭人数</td><td>{{ h.people }} 人</td></tr>
<tr><td class="k">住址</td><td colspan="3">{{ address }}</td></tr>
<tr><td class="k">房屋类型</td><td>{{ h.house_type or "—" }}</td><td class="k">联系电话</td><td>{{ h.phone or "＿＿＿＿＿＿" }}</td></tr>
</table>
<h2>二、您家面临的危险</h2>
<table>
<tr><td class="k">隐患点</td><td>{{ hp.name }}</td><td class="k">灾害类型</td><td>{{ hazard_type }}（{{ scale_plain }}）</td></tr>
<tr><td class="k">危险程度</td><td colspan="3">{{ grade_plain }}</td></tr>
<tr><td class="k">可能发生</td><td colspan="3">{{ danger_text }}</td></tr>
<tr><td class="k">容易引发的情况</td><td colspan="3">{{ hp.triggers or "降雨、冻融、附近采矿活动" }}</td></tr>
<tr><td class="k">平时注意</td><td colspan="3">雨季和夜间多留意房前屋后有没有新的裂缝、下沉、房屋开裂或异常声响；
    发现异常立即告诉监测人，不要靠近裂缝和塌陷坑。</td></tr>
</table>
<h2>三、听到预警怎么办</h2>
<table>
<tr><td class="k">预警信号</td><td class="signal">{{ hp.warning_signal or "敲锣、鸣哨或广播喊话" }}</td></tr>
<tr><td class="k">发预警的人</td><td>{{ contact("warning") }}</td></tr>
<tr><td class="k">监测人</td><td>{{ contact("monitor") }}</td></tr>
<tr><td class="k">群测群防责任人</td><td>{{ contact("responsible") }}</td></tr>
<tr><td class="k">听到后</td><td>立即带上家人（先老人、孩子和病人）按下面的路线撤离，不要回家取东西。</td></tr>
</table>
<h2>四、往哪里撤、到哪里安置</h2>
<table>
<tr><td class="k">撤离路线</td><td>{{ hp.evacuation_route_text or "听从监测人和村干部指挥撤离" }}</td></tr>
<tr><td class="k">安置地点</td><td>{{ hp.shelter_name or "—" }}</td></tr>
<tr><td class="k">救援电话</td><td>{{ hp.rescue_unit or "—" }}{% if hp.rescue_unit_phone %}（{{ hp.rescue_unit_phone }}）{% endif %}；
    紧急情况拨打 119、120</td></tr>
<tr><td class="k">镇人民政府</td><td>{{ contact("town") }}</td></tr>
</table>
<table class="receipt"><tr><td class="k">签收（{{ copy }}）</td><td>签字：＿＿＿＿＿＿＿＿　　日期：＿＿＿＿年＿＿月＿＿日</td></tr></table>
<p class="sign">发卡单位（盖章）：{{ issuing_unit }}　　发卡日期：{{ issued_cn }}</p>
<p class="small">本卡一式三份：住户、村委会、发卡单位各执一份。请把本卡贴在家中显眼处。</p>
</div>{% endfor %}</body></html>"""
)

#: plain-language consequences per hazard type (what a householder should picture)
DANGER_TEXT = {
    "landslide": "山坡上的土石突然往下滑，冲毁房屋、道路",
    "collapse": "陡坎、崖壁上的土石突然塌落，砸坏房屋、伤人",
    "debris_flow": "大雨后山沟里泥浆夹着石块冲下来，冲毁房屋",
    "ground_fissure": "地面裂开口子并不断变宽，房屋墙体开裂、倾斜甚至倒塌",
    "subsidence_pit": "地面突然下沉、出现塌陷坑，人畜掉落，房屋倒塌",
    "road_collapse": "路面突然塌陷，车辆和行人掉落",
}
GRADE_PLAIN = {"I": "特大型（非常危险）", "II": "大型（很危险）", "III": "中型（较危险）", "IV": "小型（有危险）"}
SCALE_PLAIN = {"small": "规模小", "medium": "规模中等", "large": "规模大", "giant": "规模特别大"}

COPY_LABELS = {"household": "住户留存", "village": "村委会留存", "issuer": "发卡单位留存"}


#: hazard-point fields naming the role when no contact row exists for it
_ROLE_FIELDS = {"responsible": "responsible_role", "monitor": "monitor_role", "warning": "warning_giver_role"}


def _contact_fn(contacts: list[dict[str, Any]], hp: Any = None):
    def contact(role: str) -> str:
        items = [c for c in contacts if c["role"] == role]
        if not items:
            field = _ROLE_FIELDS.get(role)
            value = getattr(hp, field, None) if (hp is not None and field) else None
            return value or "—"
        return "；".join(f"{c['title']}{'　电话 ' + c['phone'] if c.get('phone') else ''}" for c in items)

    return contact


def work_card_html(ctx: dict[str, Any]) -> str:
    """``ctx``: hp (object or dict with the hazard fields), hazard_type, scale, grade, location, contacts
    (list of {role, title, phone}), sensors (text), card_code, issued, issuing_unit, illustrative."""
    from subsidence.render.gongwen import date_cn

    kinds: dict[str, int] = {}
    for item in [x for x in (ctx.get("sensors") or "").split("、") if x.strip()]:
        kind = item.rsplit(" ", 1)[0]  # "GNSS监测站 GN-03" → the kind; sensor numbers stay in the register
        kinds[kind] = kinds.get(kind, 0) + 1
    extra = {"issued_cn": date_cn(ctx.get("issued")), "sensor_kinds": "、".join(f"{k}{n}台" for k, n in kinds.items())}
    return WORK_CARD.render(**(ctx | extra), contact=_contact_fn(ctx.get("contacts", []), ctx.get("hp")))


def household_card_html(ctx: dict[str, Any]) -> str:
    """``ctx`` as for the work card plus h (household), address and optionally ``householder`` (the
    householder's name, printed on the card the household keeps; the ledger stores roles only, so without it
    the card has a blank to fill in by hand). Renders the three copies, in plain words, without internal codes
    (household and hazard-point numbers stay in the register; only the card's serial number is printed)."""
    from subsidence.render.gongwen import date_cn

    copies = [COPY_LABELS[c] for c in ctx.get("holders", ("household", "village", "issuer"))]
    hp = ctx.get("hp")
    h = ctx.get("h")
    htype = getattr(getattr(hp, "hazard_type", None), "value", None) or ""
    grade = getattr(hp, "danger_grade", None) or ""
    extra = {
        "householder": ctx.get("householder") or getattr(h, "head_name", None),
        "danger_text": DANGER_TEXT.get(htype, "地面变形，房屋受损"),
        "grade_plain": GRADE_PLAIN.get(grade, ctx.get("grade") or "—"),
        "scale_plain": SCALE_PLAIN.get(getattr(hp, "scale", None) or "", getattr(hp, "scale", None) or "规模待查"),
        "issued_cn": date_cn(ctx.get("issued")),
    }
    return HOUSEHOLD_CARD.render(
        **(ctx | extra), copies=copies, contact=_contact_fn(ctx.get("contacts", []), ctx.get("hp"))
    )
