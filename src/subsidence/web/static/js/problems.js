import { api, t, table } from './common.js';

const form = document.getElementById('problem-filter');
let offset = 0;
const limit = 50;
const COLS = [['code', t('col.code')], ['category_label', t('col.category')], ['title', t('col.title')], ['mine_name', t('col.mine')],
  ['town_name', t('col.town')], ['lead_unit_name', t('col.lead')], ['deadline', t('col.deadline')], ['state_label', t('col.state')],
  ['overdue_label', t('col.overdue')]];

async function load() {
  const fd = new FormData(form);
  const q = new URLSearchParams({ limit, offset });
  for (const [k, v] of fd.entries()) if (v) q.set(k, v);
  const data = await api('/api/problems?' + q);
  data.items.forEach((r) => { r.overdue_label = r.overdue ? t('dash.overdue') : ''; });
  document.getElementById('problem-list').innerHTML = table(data.items, COLS, { link: (r) => `/problems/${r.id}` });
  document.getElementById('pageinfo').textContent = ` ${offset + 1}–${offset + data.items.length} / ${data.total} `;
  document.querySelector('[data-export="/api/problems"]')?.querySelectorAll('a').forEach((a) => {
    const u = new URL(a.href); for (const [k, v] of q) if (!['limit', 'offset'].includes(k)) u.searchParams.set(k, v); a.href = u;
  });
  document.getElementById('next').disabled = offset + limit >= data.total;
  document.getElementById('prev').disabled = offset === 0;
}
form.addEventListener('submit', (e) => { e.preventDefault(); offset = 0; load(); });
document.getElementById('next').addEventListener('click', () => { offset += limit; load(); });
document.getElementById('prev').addEventListener('click', () => { offset = Math.max(0, offset - limit); load(); });
load();
