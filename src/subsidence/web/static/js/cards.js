// The card page (/cards, phone-sized): per hazard point its households, each with its evacuation card
// (避险明白卡) and the three copies; issue a missing card, record each copy's signed receipt on the spot.
import { api, esc, lang, showError } from './common.js';

const L = (zh, en) => (lang.startsWith('zh') ? zh : en);
const list = document.getElementById('cards-list');
const errEl = document.getElementById('cards-error');
const okEl = document.getElementById('cards-ok');
const STATUS = { no_card: L('未发卡', 'no card'), not_signed: L('住户未签收', 'not signed for'), signed: L('已签收', 'signed') };

function copies(card) {
  return card.copies.map((c) => `<li>${esc(c.holder_zh)}：${c.signed_at ? `<b class="ok">${esc(c.signed_by)} ${esc(c.signed_at.slice(0, 10))}</b>`
    : (card.can_receipt ? `<form class="receipt" data-card="${card.id}" data-holder="${esc(c.holder)}"><input name="signed_by" required maxlength="200" placeholder="${L('签收人（如：户主）', 'Signer (e.g. head of household)')}"><button type="submit">${L('记录签收', 'Record receipt')}</button></form>` : L('未签收', 'not signed'))}</li>`).join('');
}

async function load() {
  const d = await api('/api/cards');
  document.getElementById('cards-summary').textContent = L(`共 ${d.hazard_points.length} 个隐患点，${d.missing} 户尚未持有已签收的避险明白卡`,
    `${d.hazard_points.length} hazard points; ${d.missing} households without a signed card`);
  list.innerHTML = d.hazard_points.map((p, i) => `<details class="task" data-hp="${p.id}" ${(i === 0 || p.households.some((h) => h.status !== 'signed')) ? 'open' : ''}>
    <summary><b>${esc(p.code)} ${esc(p.name)}</b> · ${L('未签收', 'unsigned')} ${p.households.filter((h) => h.status !== 'signed').length}/${p.households.length}</summary>
    <p>${L('工作明白卡', 'Work card')}：${p.work_card ? `${esc(p.work_card.code)} <a href="${p.work_card.pdf}" target="_blank">PDF</a>` : (d.can_issue ? `<button type="button" data-work="${p.id}">${L('发放工作明白卡', 'Issue the work card')}</button>` : L('未发放', 'not issued'))}</p>
    <ul class="reports">${p.households.map((h) => `<li data-household="${h.id}"><b>${esc(h.code)}</b> ${esc(h.village || '')} · ${h.people}${L('人', ' people')} ·
      <span data-testid="hh-status-${h.id}">${esc(STATUS[h.status] || h.status)}</span>
      ${h.card ? `<br>${esc(h.card.code)} <a href="${h.card.pdf}" target="_blank">PDF</a><ul class="plain">${copies(h.card)}</ul>`
        : (d.can_issue ? `<br><button type="button" data-issue="${h.id}">${L('发放避险明白卡', 'Issue the card')}</button>` : '')}</li>`).join('') || `<li class="hint">${L('无受威胁户', 'No households')}</li>`}</ul></details>`).join('')
    || `<p class="hint">${L('您负责的范围内没有隐患点', 'No hazard points in your scope')}</p>`;
  document.body.dataset.ready = '1';
}

async function act(fn, msg) {
  let error = null;
  try { await fn(); } catch (e) { error = e; }
  await load();
  if (error) { okEl.hidden = true; showError(errEl, error); } else { errEl.hidden = true; okEl.hidden = false; okEl.textContent = msg; }
}

list.addEventListener('click', (ev) => {
  const b = ev.target.closest('button[data-issue],button[data-work]');
  if (!b) return;
  b.disabled = true;
  if (b.dataset.issue) act(() => api(`/api/households/${b.dataset.issue}/card`, { method: 'POST', json: {} }), L('已发卡（一式三份）', 'Card issued (three copies)'));
  else act(() => api(`/api/hazard-points/${b.dataset.work}/work-card`, { method: 'POST', json: {} }), L('已发放工作明白卡', 'Work card issued'));
});

list.addEventListener('submit', (ev) => {
  const f = ev.target.closest('form.receipt');
  if (!f) return;
  ev.preventDefault();
  const signed = new FormData(f).get('signed_by');
  act(() => api(`/api/cards/${f.dataset.card}/receipts`, { method: 'POST', json: { holder: f.dataset.holder, signed_by: signed } }),
    L('签收已记录', 'Receipt recorded'));
});

load().catch((e) => showError(errEl, e));
