// Shared helpers: JSON API calls with the CSRF header, messages, escaping, export links, sign-out.
export const messages = JSON.parse(document.getElementById('messages')?.textContent || '{}');
export const t = (key) => messages[key] ?? key;
export const lang = document.documentElement.lang.startsWith('zh') ? 'zh-CN' : 'en';

function cookie(name) {
  const m = document.cookie.match(new RegExp('(?:^|; )' + name + '=([^;]*)'));
  return m ? decodeURIComponent(m[1]) : '';
}

export function csrfToken() {
  return cookie('subsidence_csrf') || document.querySelector('meta[name=csrf-token]')?.content || '';
}

export async function api(path, { method = 'GET', json, form } = {}) {
  const headers = { Accept: 'application/json' };
  let body;
  if (json !== undefined) { headers['Content-Type'] = 'application/json'; body = JSON.stringify(json); }
  if (form !== undefined) { body = form; }
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken();
  const sep = path.includes('?') ? '&' : '?';
  const resp = await fetch(path + (method === 'GET' && !path.includes('lang=') ? `${sep}lang=${lang}` : ''),
    { method, headers, body, credentials: 'same-origin' });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    if (resp.status === 401 && !location.pathname.startsWith('/login')) {
      location.href = '/login?next=' + encodeURIComponent(location.pathname);
    }
    const err = new Error(data.message || `${resp.status}`);
    err.status = resp.status;
    throw err;
  }
  return data;
}

export const esc = (v) => String(v ?? '').replace(/[&<>"']/g,
  (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

export function showError(el, err) {
  if (!el) { console.error(err); return; }
  el.hidden = false;
  el.textContent = `${t('common.error')}: ${err.message || err}`;
}

export function table(rows, cols, { link } = {}) {
  if (!rows.length) return `<p class="hint">${esc(t('dash.none'))}</p>`;
  const head = cols.map(([, label]) => `<th>${esc(label)}</th>`).join('');
  const body = rows.map((r) => `<tr class="${r.overdue ? 'overdue' : ''}">` + cols.map(([k], i) => {
    const v = esc(r[k] === true ? '✓' : r[k] === false ? '' : r[k]);
    return `<td>${i === 0 && link ? `<a href="${link(r)}">${v}</a>` : v}</td>`;
  }).join('') + '</tr>').join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

export function exportLinks(root = document) {
  root.querySelectorAll('[data-export]').forEach((el) => {
    if (el.dataset.done) return;
    el.dataset.done = '1';
    const base = el.dataset.export;
    const sep = base.includes('?') ? '&' : '?';
    el.innerHTML = `${esc(t('dash.export'))}: <a href="${base}${sep}format=csv&lang=${lang}">CSV</a> ` +
      `<a href="${base}${sep}format=xlsx&lang=${lang}">XLSX</a>`;
  });
}

document.getElementById('logout')?.addEventListener('click', async () => {
  try { await api('/api/auth/logout', { method: 'POST' }); } finally { location.href = '/login'; }
});
exportLinks();

// file inputs: our own button text in the page's language (the browser's own says "Choose File")
document.querySelectorAll('label.file input[type=file]').forEach((inp) => {
  const name = inp.parentElement.querySelector('.filename');
  const empty = name ? name.textContent : '';
  const show = () => { if (name) name.textContent = inp.files && inp.files.length ? inp.files[0].name : empty; };
  inp.addEventListener('change', show);
  inp.form?.addEventListener('reset', () => setTimeout(show));
});
