import { api, esc, t, table } from './common.js';

const PCOLS = [['code', t('col.code')], ['title', t('col.title')], ['mine_name', t('col.mine')], ['town_name', t('col.town')],
  ['lead_unit_name', t('col.lead')], ['deadline', t('col.deadline')], ['days_left', t('col.days_left')], ['state_label', t('col.state')]];

async function timeline() {
  const tl = await api('/api/dashboard/timeline');
  const el = document.getElementById('timeline');
  const start = new Date(tl.phases[0].start).getTime();
  const lastEnd = new Date(tl.phases[tl.phases.length - 2].end).getTime();
  const end = Math.max(lastEnd + 120 * 86400e3, new Date(tl.today).getTime() + 30 * 86400e3);
  const pos = (d) => (100 * (new Date(d).getTime() - start) / (end - start)).toFixed(2);
  const state = { past: t('dash.phase_past'), current: t('dash.phase_current'), future: t('dash.phase_future') };
  // a bar on wide screens; a list (same facts) on narrow ones, so every name and date stays readable
  el.innerHTML = '<div class="timeline">' + tl.phases.map((p) => {
    const l = pos(p.start), r = p.end ? pos(p.end) : 100;
    return `<div class="phase ${p.state}" style="left:${l}%;width:${Math.max(1, r - l)}%" title="${esc(p.name)} ${esc(p.start)} – ${esc(p.end || '…')}">` +
      `${esc(p.name)}<small>${esc(p.start)} – ${esc(p.end || '…')}</small></div>`;
  }).join('') + `<div class="today" style="left:${Math.min(100, pos(tl.today))}%"><span>${esc(t('dash.today'))} ${esc(tl.today)}</span></div></div>` +
    '<ol class="phases">' + tl.phases.map((p) => `<li class="${p.state}"><b>${esc(p.name)}</b> ${esc(p.start)} – ${esc(p.end || '…')} · ${esc(state[p.state])}</li>`).join('') +
    `<li class="current">${esc(t('dash.today'))} ${esc(tl.today)}</li></ol>`;
}

async function summary() {
  const s = await api('/api/dashboard/summary');
  document.getElementById('summary').innerHTML =
    `<div class="kpis"><div><b>${s.problems}</b>${esc(t('dash.problems'))}</div><div class="red"><b data-testid="kpi-overdue">${s.overdue}</b>${esc(t('dash.overdue'))}</div>` +
    `<div class="amber"><b>${s.due_soon}</b>${esc(t('dash.due_soon'))}</div></div>` +
    '<p class="muted">' + s.by_state.map((r) => `${esc(r.label)} ${r.count}`).join(' · ') + '</p>';
}

const COUNT_COLS = () => [['label', ''], ['found', t('p.found')], ['rectifying', t('p.rectifying')], ['submitted', t('p.submitted')],
  ['accepted', t('p.accepted')], ['accepted_pct', t('p.accepted_pct')], ['overdue', t('dash.overdue')]];

function countTable(items, { sortOverdue = false } = {}) {
  const rows = sortOverdue ? [...items].sort((a, b) => b.overdue - a.overdue || b.found - a.found) : items;
  if (!rows.length) return `<p class="hint">${esc(t('dash.none'))}</p>`;
  const cols = COUNT_COLS();
  return '<table><thead><tr>' + cols.map(([k, l]) => `<th class="${k === 'label' ? '' : 'num'}">${esc(l)}</th>`).join('') + '</tr></thead><tbody>' +
    rows.map((r) => '<tr>' + cols.map(([k]) => {
      const v = k === 'accepted_pct' ? `${r[k]}%` : r[k];
      return `<td class="${k === 'label' ? '' : 'num'} ${k === 'overdue' && r.overdue > 0 ? 'red' : ''}">${esc(v)}</td>`;
    }).join('') + '</tr>').join('') + '</tbody></table>';
}

async function deptTown() {
  const dep = document.getElementById('by-department');
  if (!dep) return;
  const [d, tw] = await Promise.all([api('/api/dashboard/progress?by=department'), api('/api/dashboard/progress?by=town')]);
  dep.innerHTML = countTable(d.items, { sortOverdue: true });
  document.getElementById('by-town').innerHTML = countTable(tw.items, { sortOverdue: true });
}

async function progress() {
  const el = document.getElementById('progress');
  if (!el) return;
  const p = await api('/api/dashboard/progress?by=task');
  el.innerHTML = countTable(p.items) + p.items.map((r) =>
    `<div class="bar" title="${esc(r.label)}"><span>${esc(r.label)}</span><i style="width:${r.accepted_pct}%"></i><em>${r.accepted_pct}%</em></div>`).join('');
}

async function lists() {
  const [o, d] = await Promise.all([api('/api/dashboard/overdue?limit=100'), api('/api/dashboard/due-soon?limit=100')]);
  const link = (r) => `/problems/${r.id}`;
  document.getElementById('overdue').innerHTML = table(o.items, PCOLS, { link });
  document.getElementById('due-soon').innerHTML = table(d.items, PCOLS, { link });
}

async function warnings() {
  const el = document.getElementById('warnings');
  const w = await api('/api/alarms?limit=50');
  const open = w.items.filter((a) => a.state === 'open');
  document.getElementById('warn-count').textContent = `${open.length} ${t('dash.open_alarms')}`;
  if (!w.items.length) { el.innerHTML = `<p class="hint">${esc(t('dash.none'))}</p>`; return; }
  el.innerHTML = '<ul class="feed">' + w.items.map((a) => `<li class="lvl-${esc(a.level)}"><b>${esc(a.level_label || a.level)}</b> ` +
    `${esc(a.hazard_point || '')} ${esc(a.kind_label || '')} ${esc(a.message || '')} <time>${esc((a.raised_at || '').slice(0, 16).replace('T', ' '))}</time> ` +
    (a.acknowledged_by ? `<span class="muted">${esc(a.state_label || '')} ${esc(a.acknowledged_by)}</span>`
      : (a.can_ack ? `<button data-ack="${a.id}">${esc(t('dash.ack'))}</button>` : `<span class="muted">${esc(a.state_label || '')}</span>`)) + '</li>').join('') + '</ul>';
  el.querySelectorAll('button[data-ack]').forEach((b) => b.addEventListener('click', async () => {
    b.disabled = true;
    try { await api(`/api/alarms/${b.dataset.ack}/ack`, { method: 'POST' }); await warnings(); } catch (e) { b.disabled = false; alert(e.message); }
  }));
}

Promise.all([summary(), deptTown(), lists(), progress(), timeline(), warnings()]).catch((e) => console.error(e))
  .finally(() => { document.body.dataset.ready = '1'; });
