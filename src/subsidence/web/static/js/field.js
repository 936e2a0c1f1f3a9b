// Mobile field form: note, crack width, macro signs, photo and the phone's position (browser geolocation).
// After saving, the form is cleared and the page shows the report at the top of "my reports".
import { api, esc, showError, t } from './common.js';

const form = document.getElementById('field-form');
const pos = document.getElementById('position');
document.getElementById('locate').addEventListener('click', () => {
  if (!navigator.geolocation) { pos.textContent = t('field.no_geo'); return; }
  pos.textContent = '…';
  navigator.geolocation.getCurrentPosition((p) => {
    form.lon.value = p.coords.longitude.toFixed(6);
    form.lat.value = p.coords.latitude.toFixed(6);
    form.accuracy_m.value = Math.round(p.coords.accuracy);
    pos.textContent = `${form.lon.value}, ${form.lat.value} (±${form.accuracy_m.value} m)`;
  }, (err) => { pos.textContent = err.message; }, { enableHighAccuracy: true, timeout: 15000 });
});

const LEVEL = { 1: t('level.1'), 2: t('level.2'), 3: t('level.3'), 4: t('level.4') };

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const fd = new FormData(form);
  const hp = fd.get('hazard_point');
  const hpLabel = form.hazard_point.selectedOptions[0]?.textContent || '';
  fd.delete('hazard_point');
  for (const k of ['lon', 'lat', 'accuracy_m', 'crack_width_mm']) if (!fd.get(k)) fd.delete(k);
  const photo = fd.get('photo');
  if (photo && !photo.size) fd.delete('photo');
  fd.set('observed_at', new Date().toISOString());
  const ok = form.querySelector('.ok');
  try {
    const res = await api(`/api/hazard-points/${hp}/observations`, { method: 'POST', form: fd });
    const o = res.observation;
    const alarms = (o.alarms || []).map((a) => LEVEL[a.level]).filter(Boolean);
    ok.textContent = t('field.saved') + (alarms.length ? ` · ${t('field.raised')} ${alarms.join('、')}` : '');
    ok.hidden = false;
    form.querySelector('.error').hidden = true;
    const keep = form.hazard_point.value;
    form.reset();  // a cleared form for the next report (the hazard point stays chosen)
    form.hazard_point.value = keep;
    pos.textContent = '';
    const li = document.createElement('li');
    li.innerHTML = (o.photo ? `<img src="/api/field-photos/${esc(o.photo.sha256)}" alt="">` : '') +
      `<b>${esc(hpLabel.split(' ')[0])}</b> <time>${esc(new Date(o.received_at).toLocaleString('zh-CN', { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false }))}</time><br>${esc(o.note)}` +
      (alarms.length ? `<br><b>${esc(alarms.join('、'))}</b>` : '');
    const list = document.getElementById('reports');
    list.querySelector('.hint')?.remove();
    list.prepend(li);
  } catch (e) { ok.hidden = true; showError(form.querySelector('.error'), e); }
});
