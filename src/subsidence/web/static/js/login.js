import { api, showError } from './common.js';

const form = document.getElementById('login-form');
form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const fd = new FormData(form);
  try {
    await api('/api/auth/login', { method: 'POST', json: { username: fd.get('username'), password: fd.get('password') } });
    location.href = sameSite(form.dataset.next);
  } catch (err) { showError(form.querySelector('.error'), err); }
});

/** Only a path on this site: "//host", "/\\host" and anything with a scheme go to "/". */
function sameSite(next) {
  if (!next || !next.startsWith('/') || next.startsWith('//') || /[\\\s]/.test(next)) return '/';
  const url = new URL(next, location.origin);
  return url.origin === location.origin ? url.pathname + url.search + url.hash : '/';
}
