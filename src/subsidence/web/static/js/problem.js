import { api, showError } from './common.js';

const root = document.getElementById('problem');
const id = root.dataset.id;
const errEl = root.querySelector('.error');
const done = () => location.reload();

root.querySelectorAll('button.transition').forEach((b) => b.addEventListener('click', async () => {
  const reason = document.getElementById('reason')?.value || null;
  try { await api(`/api/problems/${id}/transitions`, { method: 'POST', json: { name: b.dataset.name, reason } }); done(); }
  catch (e) { showError(errEl, e); }
}));

document.getElementById('notice-form')?.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const fd = new FormData(ev.target);
  try {
    await api(`/api/problems/${id}/notices`, { method: 'POST', json: { deadline: fd.get('deadline'), requirement: fd.get('requirement') || null } });
    done();
  } catch (e) { showError(errEl, e); }
});

document.getElementById('acceptance-form')?.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const fd = new FormData(ev.target);
  const passed = ev.submitter?.value === 'true';
  const inspectors = String(fd.get('inspectors') || '').split('\n').map((s) => s.trim()).filter(Boolean);
  try { await api(`/api/problems/${id}/acceptance`, { method: 'POST', json: { passed, inspectors, reasons: fd.get('reasons') || null } }); done(); }
  catch (e) { showError(errEl, e); }
});

document.getElementById('evidence-form')?.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const fd = new FormData(ev.target);
  try { await api(`/api/problems/${id}/evidence`, { method: 'POST', form: fd }); done(); }
  catch (e) { showError(errEl, e); }
});

document.getElementById('extension-form')?.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const fd = new FormData(ev.target);
  try {
    await api(`/api/problems/${id}/extensions`, { method: 'POST', json: { requested_deadline: fd.get('requested_deadline'), reason: fd.get('reason') } });
    done();
  } catch (e) { showError(errEl, e); }
});

document.getElementById('extension-decision')?.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const fd = new FormData(ev.target);
  try {
    await api(`/api/problems/${id}/extensions/${ev.target.dataset.seq}/decision`, { method: 'POST', json: { approve: ev.submitter?.value === 'true', reason: fd.get('reason') } });
    done();
  } catch (e) { showError(errEl, e); }
});

root.querySelectorAll('form.milestone-done').forEach((f) => f.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const ids = [...f.querySelector('select').selectedOptions].map((o) => Number(o.value));
  try { await api(`/api/problems/${id}/milestones/${f.dataset.seq}/done`, { method: 'POST', json: { evidence_ids: ids } }); done(); }
  catch (e) { showError(errEl, e); }
}));
