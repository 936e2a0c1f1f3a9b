import { api, esc, t } from './common.js';

const form = document.getElementById('gate-form');
form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const fd = new FormData(form);
  const out = document.getElementById('gate-result');
  try {
    const d = await api('/api/gate?' + new URLSearchParams({ mine: fd.get('mine'), application: fd.get('application') }));
    out.innerHTML = `<p class="verdict ${d.allowed ? 'ok' : 'no'}">${esc(d.mine_name)} · ${esc(d.application_label)}：` +
      `<b>${esc(d.allowed ? t('gate.allowed') : t('gate.refused'))}</b></p>` +
      (d.reasons.length ? '<ol>' + d.reasons.map((r) => `<li>${esc(r.message)}<br><small>${esc(r.legal_basis)}</small></li>`).join('') + '</ol>' : '');
  } catch (e) { out.innerHTML = `<p class="error">${esc(e.message)}</p>`; }
});
