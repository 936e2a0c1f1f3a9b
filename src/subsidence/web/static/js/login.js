import { api, showError } from './common.js';

const form = document.getElementById('login-form');
form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const fd = new FormData(form);
  try {
    await api('/api/auth/login', { method: 'POST', json: { username: fd.get('username'), password: fd.get('password') } });
    location.href = form.dataset.next || '/';
  } catch (err) { showError(form.querySelector('.error'), err); }
});
