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

WORK_CARD = _ENV.from_string("""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>地质灾害防灾工作明白卡 {{ hp.code }}</title>""" + _STYLE + """</head>
<body><div class="card">
<h1>地质灾害防灾工作明白卡</h1>
<p class="doc-no">卡号：{{ card_code }}　　发放日期：{{ issued }}</p>
{% if illustrative %}<p class="illustrative">示例数据（演示用，非真实）/ illustrative demo data</p>{% endif %}
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
<tr><td class="k">监测仪器</td><td>{{ sensors or "人工监测" }}</td></tr>
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
</div></body></html>""")

HOUSEHOLD_CARD = _ENV.from_string("""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>地质灾害防灾避险明白卡 {{ h.code }}</title>""" + _STYLE + """</head>
<body>{% for copy in copies %}<div class="card">
<span class="copy">{{ copy }}</span>
<h1>地质灾害防灾避险明白卡</h1>
<p class="doc-no">卡号：{{ card_code }}　　发放日期：{{ issued }}</p>
{% if illustrative %}<p class="illustrative">示例数据（演示用，非真实）/ illustrative demo data</p>{% endif %}
<h2>一、家庭基本情况</h2>
<table>
<tr><td class="k">户编号</td><td>{{ h.code }}</td><td class="k">户主</td><td>{{ h.head_role or "户主" }}</td></tr>
<tr><td class="k">家庭人数</td><td>{{ h.people }} 人</td><td class="k">房屋类型</td><td>{{ h.house_type or "—" }}</td></tr>
<tr><td class="k">住址</td><td colspan="3">{{ address }}</td></tr>
</table>
<h2>二、灾害基本情况</h2>
<table>
<tr><td class="k">隐患点</td><td>{{ hp.name }}（{{ hp.code }}）</td><td class="k">灾害类型</td><td>{{ hazard_type }}</td></tr>
<tr><td class="k">规模</td><td>{{ scale }}</td><td class="k">险情等级</td><td>{{ grade }}</td></tr>
<tr><td class="k">诱发因素</td><td colspan="3">{{ hp.triggers or "—" }}</td></tr>
<tr><td class="k">本住户注意事项</td><td colspan="3">雨季及夜间加强观察房前屋后裂缝、沉陷和异常声响；
    发现险情立即报告监测人，听到预警信号立即撤离。</td></tr>
</table>
<h2>三、监测与预警</h2>
<table>
<tr><td class="k">监测人</td><td>{{ contact("monitor") }}</td></tr>
<tr><td class="k">群测群防责任人</td><td>{{ contact("responsible") }}</td></tr>
<tr><td class="k">预警信号</td><td class="signal">{{ hp.warning_signal or "—" }}</td></tr>
<tr><td class="k">预警信号发布人</td><td>{{ contact("warning") }}</td></tr>
</table>
<h2>四、撤离与安置</h2>
<table>
<tr><td class="k">撤离路线</td><td>{{ hp.evacuation_route_text or "—" }}</td></tr>
<tr><td class="k">安置场所</td><td>{{ hp.shelter_name or "—" }}</td></tr>
<tr><td class="k">救护单位</td><td>{{ hp.rescue_unit or "—" }}{% if hp.rescue_unit_phone %}（{{ hp.rescue_unit_phone }}）{% endif %}</td></tr>
<tr><td class="k">镇人民政府</td><td>{{ contact("town") }}</td></tr>
</table>
<table class="receipt"><tr><td class="k">签收（{{ copy }}）</td><td>签字：＿＿＿＿＿＿＿＿　　日期：＿＿＿＿年＿＿月＿＿日</td></tr></table>
<p class="sign">发卡单位（盖章）：{{ issuing_unit }}</p>
<p class="small">本卡一式三份：住户、村委会、发卡单位各执一份。</p>
</div>{% endfor %}</body></html>""")

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
    return WORK_CARD.render(**ctx, contact=_contact_fn(ctx.get("contacts", []), ctx.get("hp")))


def household_card_html(ctx: dict[str, Any]) -> str:
    """``ctx`` as for the work card plus h (household) and address; renders the three copies."""
    copies = [COPY_LABELS[c] for c in ctx.get("holders", ("household", "village", "issuer"))]
    return HOUSEHOLD_CARD.render(**ctx, copies=copies, contact=_contact_fn(ctx.get("contacts", []), ctx.get("hp")))
