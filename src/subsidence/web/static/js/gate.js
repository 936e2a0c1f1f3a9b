import { api, esc, t } from './common.js';

const form = document.getElementById('gate-form');
form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const fd = new FormData(form);
  const out = document.getElementById('gate-result');
  try {
    const d = await api('/api/gate?' + new URLSearchParams({ mine: fd.get('mine'), application: fd.get('application') }));
    const zh = (s) => String(s || '').split(' / ')[0];  // the service's "中文 / English": the page's half
    const item = (r) => `<li>${esc(zh(r.message))}${r.remedy ? `<br><b>${esc(t('gate.remedy'))}</b>${esc(zh(r.remedy))}` : ''}` +
      `<br><small>${esc(r.legal_basis || '')}</small></li>`;
    const group = (title, rows) => (rows && rows.length ? `<h3>${esc(title)}</h3><ol>` + rows.map(item).join('') + '</ol>' : '');
    out.innerHTML = `<p class="verdict ${d.allowed ? 'ok' : 'no'}" data-testid="gate-verdict">${esc(d.mine_name)} · ${esc(zh(d.application_label))}：` +
      `<b>${esc(d.outcome_label ? zh(d.outcome_label) : (d.allowed ? t('gate.allowed') : t('gate.refused')))}</b></p>` +
      group(t('gate.reasons'), d.reasons) + group(t('gate.missing'), d.not_evaluable) + group(t('gate.warnings'), d.warnings);
  } catch (e) { out.innerHTML = `<p class="error">${esc(e.message)}</p>`; }
});
