// The task ledgers (/tasks): each section loads its JSON API and shows only the actions the API says the
// signed-in role may take on each record (the rows carry `can`, asked of the same policies the writes check).
import { api, csrfToken, esc, lang, showError } from './common.js';

const ZH = lang.startsWith('zh');
const L = (zh, en) => (ZH ? zh : en);
const page = document.querySelector('[data-testid=tasks-page]');
const sections = (page?.dataset.sections || '').split(',').filter(Boolean);
const YEAR = Number(page?.dataset.year);
const errEl = document.getElementById('tasks-error');
const okEl = document.getElementById('tasks-ok');

const TITLES = {
  fund: L('矿山地质环境治理恢复基金（计提与使用）', 'Restoration fund (accrual and use)'),
  water: L('保水开采方案', 'Water-preserving mining plans'),
  hazards: L('隐蔽致灾因素普查与“一患一方案”', 'Hidden disaster-causing factors and their plans'),
  buildings: L('已补偿搬迁建筑物拆除', 'Demolition of compensated buildings'),
  draws: L('双随机抽取', 'Double-random draws'),
  results: L('双随机抽查结果', 'Inspection results'),
  publication: L('年度评估与公开签发', 'Assessment and publication sign-off'),
};

function ok(msg) { errEl.hidden = true; okEl.hidden = false; okEl.textContent = msg; }
function fail(e) { okEl.hidden = true; showError(errEl, e); }
function sec(name) { return document.getElementById(`sec-${name}`); }
function body(name) { return sec(name).querySelector('.body'); }
const btn = (act, id, label, extra = '') => `<button type="button" data-act="${act}" data-id="${esc(id)}" ${extra}>${esc(label)}</button>`;

async function postForm(path, form) {
  const resp = await fetch(path, { method: 'POST', body: form, credentials: 'same-origin',
    headers: { Accept: 'application/json', 'X-CSRF-Token': csrfToken() } });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) { const e = new Error(data.message || `${resp.status}`); e.status = resp.status; throw e; }
  return data;
}

// ------------------------------------------------------------------------------------------ fund
async function fund() {
  const { accounts } = await api(`/api/fund/accounts?year=${YEAR}`);
  if (!accounts.length) { body('fund').innerHTML = `<p class="hint">${L('暂无基金账户', 'No fund accounts')}</p>`; return; }
  let html = '';
  for (const a of accounts) {
    const d = await api(`/api/fund/accounts/${a.id}?year=${YEAR}`);
    html += `<div class="task" data-account="${a.id}"><h3>${esc(a.mine_name)}（${esc(a.code)}）</h3>
      <p>${L('余额', 'Balance')} <b>${esc(a.balance)}</b> ${L('元', 'yuan')} · ${YEAR}${L('年计提', ' deposits')} ${esc(a.deposits)} · ${L('使用', 'spent')} ${esc(a.spending)}
      ${a.required ? ` · ${L('应计提', 'required')} ${esc(a.required)}` : ''}</p>
      <div class="scroll"><table><thead><tr><th>${L('凭证号', 'Voucher')}</th><th>${L('日期', 'Date')}</th><th>${L('类型', 'Kind')}</th><th>${L('金额（元）', 'Amount (yuan)')}</th><th>${L('用途', 'Works')}</th><th>${L('核实', 'Check')}</th></tr></thead><tbody>
      ${d.entries.map((e) => `<tr data-entry="${e.id}"><td>${esc(e.code)}</td><td>${esc(e.date)}</td><td>${esc(e.kind_zh)}</td><td>${esc(e.amount)}</td><td>${esc(e.works || e.problem || '')}</td>
        <td data-testid="review-${e.id}">${esc(e.review_zh)}${e.review?.note ? `（${esc(e.review.note)}）` : ''}
        ${e.can?.review ? btn('fund-confirm', e.id, L('核实无误', 'Confirm')) + btn('fund-return', e.id, L('退回', 'Return')) : ''}</td></tr>`).join('') || `<tr><td colspan="6" class="hint">${L('本年度暂无收支', 'No entries this year')}</td></tr>`}
      </tbody></table></div>
      ${a.can?.enter ? `<form class="filters" data-form="fund-entry" data-id="${a.id}">
        <label>${L('类型', 'Kind')}<select name="kind"><option value="deposit">${L('计提存入', 'Deposit')}</option><option value="spending">${L('治理支出', 'Spending')}</option><option value="withdrawal">${L('其他支取', 'Withdrawal')}</option></select></label>
        <label>${L('金额（元）', 'Amount (yuan)')}<input name="amount_yuan" required inputmode="decimal" placeholder="1250000.00"></label>
        <label>${L('用途/治理工程', 'Works')}<input name="works" maxlength="300"></label>
        <label>${L('凭证/批准文件', 'Reference')}<input name="reference" maxlength="200"></label>
        <button type="submit">${L('报送', 'Report')}</button></form>` : ''}</div>`;
  }
  body('fund').innerHTML = html;
}

// ------------------------------------------------------------------------------------------ water
async function water() {
  const { plans } = await api('/api/water-plans');
  body('water').innerHTML = !plans.length ? `<p class="hint">${L('暂无保水开采方案要求', 'No plans required')}</p>` :
    `<div class="scroll"><table><thead><tr><th>${L('方案', 'Plan')}</th><th>${L('矿山', 'Mine')}</th><th>${L('状态', 'State')}</th><th>${L('批复期限', 'Due')}</th><th>${L('批复文号 / 审查意见', 'Approval / note')}</th><th></th></tr></thead><tbody>
    ${plans.map((p) => `<tr data-plan="${p.id}"><td>${esc(p.code)}</td><td>${esc(p.mine_name)}</td><td data-testid="water-state-${p.id}">${esc(p.state_zh)}</td><td>${esc(p.due || '')}</td><td>${esc(p.approval_no || p.review_note || '')}</td><td>
      ${p.can.submit ? btn('water-submit', p.id, L('报送方案', 'Submit')) : ''}
      ${p.can.review ? `<input data-approval="${p.id}" placeholder="${L('批复文号', 'Approval no.')}" maxlength="100"> ${btn('water-approve', p.id, L('批准', 'Approve'))} ${btn('water-return', p.id, L('退回', 'Return'))}` : ''}
      ${p.can.implemented ? btn('water-done', p.id, L('已实施', 'Carried out')) : ''}</td></tr>`).join('')}</tbody></table></div>`;
}

// ------------------------------------------------------------------------------------------ hidden factors
async function hazards() {
  const { factors, types } = await api('/api/hidden-factors');
  const mines = [...new Map(factors.map((f) => [f.mine, f])).values()];
  const rows = factors.map((f) => `<div class="task ${f.overdue ? 'overdue' : ''}" data-factor="${f.id}">
    <h3>${esc(f.type_zh)} · ${esc(f.code)}</h3><p>${esc(f.mine_name)} · ${esc(f.location || '')} ${f.plan_due ? `· ${L('方案报批期限', 'plan due')} ${esc(f.plan_due)}` : ''}</p>
    <p data-testid="plan-state-${f.id}">${f.plan ? `${L('方案', 'Plan')} ${esc(f.plan.code)}：<b>${esc(f.plan.state_zh)}</b> ${f.plan.review_result ? `（${L('审查意见', 'review')}：${esc(f.plan.review_result)}）` : ''}` : (f.is_problem ? L('未报送方案', 'no plan yet') : L('无需方案', 'no plan needed'))}</p>
    ${f.plan ? `<p class="prose">${esc(f.plan.measures)}</p>` : ''}
    ${f.can.submit ? `<form data-form="plan" data-id="${f.id}" class="filters"><label>${L('整改措施', 'Measures')}<textarea name="measures" required maxlength="8000" rows="2"></textarea></label>
      <label>${L('整改期限', 'Deadline')}<input type="date" name="rectify_deadline"></label><button type="submit">${L('报送一患一方案', 'Submit the plan')}</button></form>` : ''}
    ${f.can.review ? `<form data-form="plan-review" data-id="${f.plan.id}" class="filters"><label>${L('审查意见', 'Review')}<input name="result" required maxlength="4000"></label>
      <button type="submit" name="approve" value="1">${L('审查通过', 'Approve')}</button><button type="submit" name="approve" value="0">${L('退回修改', 'Return')}</button></form>` : ''}
    ${f.can.complete ? btn('plan-complete', f.plan.id, L('整改完成', 'Rectified')) : ''}</div>`).join('');
  const add = `<details class="card inner"><summary>${L('录入普查发现', 'Record a census finding')}</summary>
    <form data-form="factor" class="filters"><label>${L('矿山', 'Mine')}<select name="mine_id">${(window.__mines || []).map((m) => `<option value="${m.id}">${esc(m.name)}</option>`).join('')}</select></label>
    <label>${L('类型', 'Type')}<select name="factor_type">${types.map((t) => `<option value="${esc(t.value)}">${esc(t.label)}</option>`).join('')}</select></label>
    <label>${L('位置', 'Location')}<input name="location" maxlength="300"></label><label>${L('描述', 'Description')}<input name="description" maxlength="4000"></label>
    <button type="submit">${L('录入', 'Record')}</button></form></details>`;
  body('hazards').innerHTML = (rows || `<p class="hint">${L('暂无普查记录', 'No census findings')}</p>`) + (window.__mines?.length ? add : '');
  void mines;
}

// ------------------------------------------------------------------------------------------ buildings
async function buildings() {
  const { buildings: rows, progress, statuses } = await api('/api/buildings');
  const prog = progress.map((r) => `<span class="badge ${r.overdue ? 'red' : r.behind_schedule ? 'amber' : 'green'}">${esc(r.town_name)} ${r.demolished}/${r.total}（${r.percent_demolished}%）</span>`).join('');
  body('buildings').innerHTML = `<p>${prog}</p>` + (!rows.length ? `<p class="hint">${L('暂无已补偿建筑物', 'No compensated buildings')}</p>` :
    rows.map((b) => `<div class="task ${b.reoccupied ? 'overdue' : ''}" data-building="${b.id}"><h3>${esc(b.code)} · ${esc(b.town_name || '')}${esc(b.village || '')}</h3>
      <p><b data-testid="bld-state-${b.id}">${esc(b.status_zh)}</b>${b.demolished_date ? ` ${esc(b.demolished_date)}` : ''} · ${L('期限', 'due')} ${esc(b.deadline)}
      ${b.reoccupied ? ` · <b class="error">${L('回流居住', 're-occupied')}</b>` : ''}</p>
      <p class="photos">${b.photos.map((p) => `<a href="${p.url}" target="_blank"><img src="${p.url}" alt="${L('照片', 'photo')}" width="96" height="72" style="object-fit:cover;border-radius:4px"></a>`).join(' ')}</p>
      ${b.can.record_demolition ? `<form data-form="demolition" data-id="${b.id}" class="filters" enctype="multipart/form-data">
        <label>${L('拆除进度', 'Progress')}<select name="status">${statuses.map((s) => `<option value="${esc(s.value)}" ${s.value === 'demolished' ? 'selected' : ''}>${esc(s.label)}</option>`).join('')}</select></label>
        <label>${L('拆除后照片', 'Photos')}<input type="file" name="photos" accept="image/jpeg,image/png" multiple capture="environment"></label>
        <button type="submit">${L('记录拆除', 'Record')}</button></form>` : ''}
      ${b.can.record_reoccupation ? `<form data-form="reoccupation" data-id="${b.id}" class="filters"><input type="hidden" name="reoccupied" value="${b.reoccupied ? 'false' : 'true'}">
        <label>${L('情况说明', 'Note')}<input name="note" maxlength="2000"></label><button type="submit">${b.reoccupied ? L('已劝离', 'Residents left') : L('发现回流居住', 'Residents returned')}</button></form>` : ''}</div>`).join(''));
}

// ------------------------------------------------------------------------------------------ draws and results
const STATE = { published: L('已公布抽取池', 'pool published'), seeded: L('已录入种子', 'seeded'), drawn: L('已抽取', 'drawn') };
async function draws() {
  const { draws: rows, items } = await api('/api/draws');
  body('draws').innerHTML = `<div class="scroll"><table><thead><tr><th>${L('编号', 'Code')}</th><th>${L('事项', 'Item')}</th><th>${L('状态', 'State')}</th><th>${L('对象数', 'Objects')}</th><th>${L('抽中', 'Drawn')}</th><th>SHA-256</th><th></th></tr></thead><tbody>
    ${rows.map((d) => `<tr><td>${esc(d.code)}</td><td>${esc(d.item)}</td><td>${esc(STATE[d.state] || d.state)}</td><td>${d.objects}</td><td>${d.drawn ?? ''}</td><td><code>${esc(d.pool_sha256.slice(0, 12))}…</code></td>
      <td>${d.state === 'published' ? `<form data-form="seed" data-id="${esc(d.code)}" class="filters"><input name="source" placeholder="${L('种子来源', 'source')}" required><input name="value" placeholder="${L('开奖号码', 'value')}" required><input name="source_time" type="datetime-local" required><button type="submit">${L('录入种子', 'Enter seed')}</button></form>` : ''}
      ${d.state === 'seeded' ? btn('draw-run', d.code, L('执行抽取', 'Run')) : ''}
      ${d.state === 'drawn' && d.picks ? `<form data-form="result" data-id="${esc(d.code)}" class="filters"><select name="mine">${d.picks.map((p) => `<option value="${esc(p.key)}">${esc(p.name || p.key)}</option>`).join('')}</select>
        <input type="date" name="inspected" required><select name="outcome"><option value="compliant">${L('未发现问题', 'compliant')}</option><option value="problems">${L('发现问题', 'problems found')}</option><option value="not_inspected">${L('未检查', 'not inspected')}</option></select>
        <input name="findings" placeholder="${L('检查发现（内部）', 'findings (internal)')}" maxlength="8000"><input name="public_summary" placeholder="${L('公开摘要', 'public summary')}" maxlength="2000">
        <button type="submit">${L('录入结果', 'Record result')}</button></form>` : ''}</td></tr>`).join('') || `<tr><td colspan="7" class="hint">${L('暂无抽取', 'No draws')}</td></tr>`}</tbody></table></div>
    <details class="card inner"><summary>${L('公布新的抽取池', 'Publish a new pool')}</summary><form data-form="draw" class="filters">
      <label>${L('抽查事项', 'Item')}<select name="item">${items.map((i) => `<option value="${esc(i.code)}">${esc(i.name)}</option>`).join('')}</select></label>
      <label>${L('公开随机种子来源', 'Seed source')}<input name="seed_source" required maxlength="300"></label>
      <label>${L('种子不早于', 'Seed not before')}<input type="datetime-local" name="seed_not_before" required></label>
      <button type="submit">${L('公布', 'Publish')}</button></form></details>`;
}

async function results() {
  const { results: rows } = await api('/api/inspection-results');
  const canPublish = sections.includes('publication');
  body('results').innerHTML = `<div class="scroll"><table><thead><tr><th>${L('矿山', 'Mine')}</th><th>${L('事项', 'Item')}</th><th>${L('检查日期', 'Date')}</th><th>${L('结果', 'Outcome')}</th><th>${L('公开', 'Public')}</th></tr></thead><tbody>
    ${rows.map((r) => `<tr class="${r.overdue ? 'overdue' : ''}"><td>${esc(r.mine_name)}</td><td>${esc(r.item)}</td><td>${esc(r.inspected_date)}</td><td>${esc(r.outcome_zh)}</td>
      <td>${r.published_date ? `${L('拟公开', 'marked')} ${esc(r.published_date)}` : (canPublish ? btn('result-publish', r.id, L('拟公开', 'Mark for publication')) : L('未公开', 'not public'))}
      ${r.overdue ? ` <b class="error">${L('超过公开期限', 'past the deadline')}</b>` : ''}</td></tr>`).join('') || `<tr><td colspan="5" class="hint">${L('暂无结果', 'No results')}</td></tr>`}</tbody></table></div>`;
}

// ------------------------------------------------------------------------------------------ publication
function pubBlock(kind, st, year) {
  const pub = st.published;
  const draft = kind === 'assessment_lists'
    ? `<p>${L('表扬', 'Praise')}：${esc((st.draft.praise || []).map((r) => `${r.mine_name}（${r.score}）`).join('、') || L('无', 'none'))}</p>
       <p>${L('曝光', 'Exposure')}：${esc((st.draft.exposure || []).map((r) => `${r.mine_name}（${r.score}）`).join('、') || L('无', 'none'))}</p>`
    : `<p>${L('拟公开结果', 'Results to publish')}：${(st.draft.results || []).length}</p>`;
  return `<div class="task ${st.up_to_date ? '' : 'soon'}" data-testid="pub-${kind}"><h3>${esc(st.kind_zh)}${year ? `（${year}${L('年度', '')}）` : ''}</h3>
    <p data-testid="pub-status-${kind}">${pub ? `${L('公众现在看到第', 'The public sees version')} ${pub.version} ${L('版', '')}，${L('签发人', 'signed by')} ${esc(pub.signed_by)}，${esc(pub.signed_at.slice(0, 16).replace('T', ' '))}，SHA-256 <code>${esc(pub.sha256.slice(0, 16))}…</code>` : L('尚未签发：公众看不到', 'Not signed off: not public')}</p>
    <p>${st.up_to_date ? `<span class="badge green">${L('公开内容与当前数据一致', 'public = current data')}</span>` : `<span class="badge amber">${L('当前数据与公开内容不同，待签发', 'current data differ from what is public')}</span>`}</p>
    ${draft}<p class="hint">${L('待签发版本', 'Draft')} SHA-256 <code>${esc(st.draft_sha256.slice(0, 16))}…</code></p>
    ${st.up_to_date ? '' : `<form data-form="sign-off" data-kind="${kind}" data-year="${year || ''}" data-sha="${esc(st.draft_sha256)}" class="filters"><label>${L('签发说明', 'Note')}<input name="note" maxlength="2000"></label><button type="submit">${L('审阅无误，签发公开', 'Sign off for publication')}</button></form>`}</div>`;
}

async function publication() {
  const year = YEAR - 1;
  const a = await api(`/api/publications/assessment_lists?year=${year}`);
  const r = await api('/api/publications/inspection_results');
  body('publication').innerHTML = `<form data-form="assess" class="filters"><label>${L('评估年度', 'Year')}<input type="number" name="year" value="${year}" min="2000" max="2100"></label>
    <button type="submit">${L('运行年度评估', 'Run the assessment')}</button><span class="hint">${L('运行评估只改变待签发内容，公众看到的内容在签发后才更新', 'Running it changes the draft only; the public sees it after the sign-off')}</span></form>` +
    pubBlock('assessment_lists', a, year) + pubBlock('inspection_results', r);
}

const LOADERS = { fund, water, hazards, buildings, draws, results, publication };

async function load(name) {
  sec(name).querySelector('h2').textContent = TITLES[name];
  try { await LOADERS[name](); } catch (e) { body(name).innerHTML = `<p class="error">${esc(e.message)}</p>`; }
}

async function act(fn, msg, ...names) {
  let error = null;
  try { await fn(); } catch (e) { error = e; }
  for (const n of names) if (sections.includes(n)) await load(n);
  if (error) fail(error); else ok(msg);  // after the reload: what the message says is on the page
}

const localIso = (v) => (v ? new Date(v).toISOString() : null);

page?.addEventListener('click', async (ev) => {
  const b = ev.target.closest('button[data-act]');
  if (!b) return;
  const id = b.dataset.id;
  const J = (path, json) => api(path, { method: 'POST', json });
  const handlers = {
    'fund-confirm': () => act(() => J(`/api/fund/entries/${id}/review`, { confirmed: true }), L('已核实', 'Confirmed'), 'fund'),
    'fund-return': () => act(() => J(`/api/fund/entries/${id}/review`, { confirmed: false, note: prompt(L('退回原因', 'Reason')) || '' }), L('已退回', 'Returned'), 'fund'),
    'water-submit': () => act(() => J(`/api/water-plans/${id}/submit`), L('方案已报送', 'Submitted'), 'water'),
    'water-approve': () => act(() => J(`/api/water-plans/${id}/review`, { approve: true, approval_no: page.querySelector(`[data-approval="${id}"]`).value }), L('已批准', 'Approved'), 'water'),
    'water-return': () => act(() => J(`/api/water-plans/${id}/review`, { approve: false, note: page.querySelector(`[data-approval="${id}"]`).value }), L('已退回', 'Returned'), 'water'),
    'water-done': () => act(() => J(`/api/water-plans/${id}/implemented`), L('已记录实施', 'Recorded'), 'water'),
    'plan-complete': () => act(() => J(`/api/rectification-plans/${id}/complete`), L('已记录整改完成', 'Recorded'), 'hazards'),
    'draw-run': () => act(() => J(`/api/draws/${id}/run`), L('抽取完成', 'Drawn'), 'draws'),
    'result-publish': () => act(() => J(`/api/inspection-results/${id}/publish`), L('已标记拟公开，签发后公众可见', 'Marked; public after the sign-off'), 'results', 'publication'),
  };
  b.disabled = true;
  try { await handlers[b.dataset.act]?.(); } finally { b.disabled = false; }
});

page?.addEventListener('submit', async (ev) => {
  const f = ev.target.closest('form[data-form]');
  if (!f) return;
  ev.preventDefault();
  const fd = new FormData(f);
  const v = Object.fromEntries(fd.entries());
  const id = f.dataset.id;
  const J = (path, json) => api(path, { method: 'POST', json });
  const clean = (o) => Object.fromEntries(Object.entries(o).filter(([, x]) => x !== '' && x != null));
  const forms = {
    'fund-entry': () => act(() => J(`/api/fund/accounts/${id}/entries`, clean(v)), L('已报送，待自然资源局核实', 'Reported; awaiting the bureau\'s check'), 'fund'),
    plan: () => act(() => J(`/api/hidden-factors/${id}/plan`, clean(v)), L('方案已报送，待应急管理局审查', 'Submitted for the EMB\'s review'), 'hazards'),
    'plan-review': () => act(() => J(`/api/rectification-plans/${id}/review`, { approve: ev.submitter?.value === '1', result: v.result }), L('审查意见已记录', 'Review recorded'), 'hazards'),
    factor: () => act(() => J('/api/hidden-factors', { ...clean(v), mine_id: Number(v.mine_id), census_year: YEAR }), L('已录入', 'Recorded'), 'hazards'),
    demolition: () => act(() => postForm(`/api/buildings/${id}/demolition`, fd), L('拆除已记录', 'Demolition recorded'), 'buildings'),
    reoccupation: () => act(() => postForm(`/api/buildings/${id}/reoccupation`, fd), L('已记录', 'Recorded'), 'buildings'),
    result: () => act(() => J(`/api/draws/${id}/results`, clean(v)), L('结果已录入；拟公开并签发后公众可见', 'Recorded; public after marking and the sign-off'), 'draws', 'results'),
    draw: () => act(() => J('/api/draws', { ...v, seed_not_before: localIso(v.seed_not_before) }), L('抽取池已公布', 'Pool published'), 'draws'),
    seed: () => act(() => J(`/api/draws/${id}/seed`, { ...v, source_time: localIso(v.source_time) }), L('种子已录入', 'Seed entered'), 'draws'),
    assess: () => act(() => J(`/api/assessment/${Number(v.year)}/run`), L('评估已运行；签发前公众看到的内容不变', 'Assessed; the public lists change only after the sign-off'), 'publication'),
    'sign-off': () => act(() => J(`/api/publications/${f.dataset.kind}/sign-off`, clean({ year: f.dataset.year ? Number(f.dataset.year) : null, expected_sha256: f.dataset.sha, note: v.note })), L('已签发，公众现在可以看到', 'Signed off: now public'), 'publication'),
  };
  const sub = f.querySelectorAll('button');
  sub.forEach((x) => { x.disabled = true; });
  try { await forms[f.dataset.form]?.(); } finally { sub.forEach((x) => { x.disabled = false; }); }
});

async function init() {
  if (sections.includes('hazards')) {
    try { window.__mines = (await api('/api/mines')).items?.map((m) => ({ id: m.id, name: m.name_zh || m.name || m.licence_no })) || []; } catch { window.__mines = []; }
  }
  for (const s of sections) await load(s);
  document.body.dataset.ready = '1';
}
init();
