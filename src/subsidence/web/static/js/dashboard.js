import { api, esc, t, table, lang, exportLinks } from './common.js';

const PCOLS = [['problem_code', ''], ['code', t('col.code')], ['title', t('col.title')], ['mine_name', t('col.mine')],
  ['town_name', t('col.town')], ['deadline', t('col.deadline')], ['days_left', t('col.days_left')], ['state_label', t('col.state')]].slice(1);

async function timeline() {
  const tl = await api('/api/dashboard/timeline');
  const el = document.getElementById('timeline');
  const start = new Date(tl.phases[0].start).getTime();
  const lastEnd = new Date(tl.phases[tl.phases.length - 2].end).getTime();
  const end = Math.max(lastEnd + 120 * 86400e3, new Date(tl.today).getTime() + 30 * 86400e3);
  const pos = (d) => (100 * (new Date(d).getTime() - start) / (end - start)).toFixed(2);
  el.innerHTML = '<div class="timeline">' + tl.phases.map((p) => {
    const l = pos(p.start), r = p.end ? pos(p.end) : 100;
    return `<div class="phase ${p.state}" style="left:${l}%;width:${Math.max(1, r - l)}%" title="${esc(p.start)} – ${esc(p.end || '…')}">` +
      `${esc(p.name)}<small>${esc(p.start)} – ${esc(p.end || '')}</small></div>`;
  }).join('') + `<div class="today" style="left:${Math.min(100, pos(tl.today))}%"><span>${esc(t('dash.today'))} ${esc(tl.today)}</span></div></div>`;
}

async function summary() {
  const s = await api('/api/dashboard/summary');
  document.getElementById('summary').innerHTML =
    `<div class="kpis"><div><b>${s.problems}</b>${esc(t('dash.problems'))}</div><div class="red"><b>${s.overdue}</b>${esc(t('dash.overdue'))}</div>` +
    `<div class="amber"><b>${s.due_soon}</b>${esc(t('dash.due_soon'))}</div></div>` +
    table(s.by_state, [['label', t('col.state')], ['count', '#']]);
}

async function progress(by = 'task') {
  const el = document.getElementById('progress');
  if (!el) return;
  const p = await api(`/api/dashboard/progress?by=${by}`);
  const cols = [['key', '#'], ['label', ''], ['found', '发现/found'], ['noticed', '通知/noticed'], ['rectifying', '整改中/rectifying'],
    ['submitted', '待验收/submitted'], ['accepted', '销号/accepted'], ['overdue', '逾期/overdue'], ['on_time', '按期/on time'], ['late', '超期/late']];
  el.innerHTML = table(p.items, cols) + p.items.map((r) =>
    `<div class="bar" title="${esc(r.label)}"><span>${esc(r.label)}</span><i style="width:${r.accepted_pct}%"></i><em>${r.accepted_pct}%</em></div>`).join('');
  const exp = document.querySelector('[data-export="/api/dashboard/progress"]') || document.querySelector('[data-export^="/api/dashboard/progress"]');
  if (exp) { exp.dataset.export = `/api/dashboard/progress?by=${by}`; delete exp.dataset.done; exportLinks(); }
}

async function lists() {
  const [o, d] = await Promise.all([api('/api/dashboard/overdue?limit=100'), api('/api/dashboard/due-soon?limit=100')]);
  const link = (r) => `/problems/${r.id}`;
  document.getElementById('overdue').innerHTML = table(o.items, PCOLS, { link });
  document.getElementById('due-soon').innerHTML = table(d.items, PCOLS, { link });
}

async function warnings() {
  const el = document.getElementById('warnings');
  const w = await api('/api/alarms?limit=30');
  if (!w.items.length) { el.innerHTML = `<p class="hint">${esc(t('dash.none'))}</p>`; return; }
  el.innerHTML = '<ul class="feed">' + w.items.map((a) => `<li class="lvl-${esc(a.level)}"><b>${esc(a.level_label || a.level)}</b> ` +
    `${esc(a.hazard_point || '')} ${esc(a.sensor || '')} ${esc(a.message || '')} <time>${esc((a.raised_at || '').slice(0, 16).replace('T', ' '))}</time>` +
    (a.acknowledged_by ? ` ✓ ${esc(a.acknowledged_by)}` : (a.can_ack ? ` <button data-ack="${a.id}">${esc(t('dash.ack'))}</button>` : ` <span class="muted">${esc(a.state_label || '')}</span>`)) + '</li>').join('') + '</ul>';
  el.querySelectorAll('button[data-ack]').forEach((b) => b.addEventListener('click', async () => {
    b.disabled = true;
    try { await api(`/api/alarms/${b.dataset.ack}/ack`, { method: 'POST' }); await warnings(); } catch (e) { b.disabled = false; alert(e.message); }
  }));
}

document.querySelectorAll('.tabs button').forEach((b) => b.addEventListener('click', () => {
  document.querySelectorAll('.tabs button').forEach((x) => x.classList.toggle('on', x === b));
  progress(b.dataset.by);
}));
Promise.all([timeline(), summary(), progress(), lists(), warnings()]).catch((e) => console.error(e))
  .finally(() => { document.body.dataset.ready = '1'; });
