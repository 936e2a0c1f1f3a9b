// Mobile field form: note, measurement, photo and the phone's position (browser geolocation API).
import { api, esc, showError } from './common.js';

const form = document.getElementById('field-form');
const pos = document.getElementById('position');
document.getElementById('locate').addEventListener('click', () => {
  if (!navigator.geolocation) { pos.textContent = 'geolocation unavailable'; return; }
  pos.textContent = '…';
  navigator.geolocation.getCurrentPosition((p) => {
    form.lon.value = p.coords.longitude.toFixed(6);
    form.lat.value = p.coords.latitude.toFixed(6);
    form.accuracy_m.value = Math.round(p.coords.accuracy);
    pos.textContent = `${form.lon.value}, ${form.lat.value} (±${form.accuracy_m.value} m)`;
  }, (err) => { pos.textContent = esc(err.message); }, { enableHighAccuracy: true, timeout: 15000 });
});
form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const fd = new FormData(form);
  const hp = fd.get('hazard_point');
  fd.delete('hazard_point');
  for (const k of ['lon', 'lat', 'accuracy_m', 'crack_width_mm']) if (!fd.get(k)) fd.delete(k);
  const photo = fd.get('photo');
  if (photo && !photo.size) fd.delete('photo');
  fd.set('observed_at', new Date().toISOString());
  try {
    await api(`/api/hazard-points/${hp}/observations`, { method: 'POST', form: fd });
    form.querySelector('.ok').hidden = false; form.querySelector('.error').hidden = true; form.note.value = '';
  } catch (e) { showError(form.querySelector('.error'), e); }
});
