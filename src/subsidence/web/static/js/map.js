// The battle map (挂图作战): GeoJSON layers from /api/layers on a plain background (no tiles, no CDN).
// Labels are HTML markers, so no glyph server is needed; CJK renders with the system font.
import { api, esc, t, lang } from './common.js';
import { seriesChart } from './chart.js';

const REVIEW_COLOURS = ['match', ['get', 'review_state'], 'candidate', '#f28c28', 'confirmed', '#c8102e',
  'rejected', '#9e9e9e', 'merged', '#7b4fa0', 'split', '#7b4fa0', '#f28c28'];
const STABILITY_OPACITY = ['match', ['coalesce', ['get', 'stability'], 'none'], 'active', 0.65, 'declining', 0.45,
  'stable', 0.22, 'not_started', 0.3, 0.4];
const LEVEL_COLOURS = ['match', ['coalesce', ['get', 'warning_level'], 'none'], 'blue', '#1f6fd1', 'yellow', '#e0b000',
  'orange', '#e86a10', 'red', '#c8102e', '#4a4a4a'];

const STATE_COLOURS = ['match', ['get', 'state'], 'found', '#9e9e9e', 'notice_issued', '#f28c28', 'rectifying', '#2f6db5',
  'returned', '#7b4fa0', 'fixed_at_once', '#26a69a', 'submitted', '#00897b', 'accepted', '#2e7d32', '#666'];

// layer id -> MapLibre style layers drawn for it
const STYLES = {
  towns: [
    { type: 'fill', paint: { 'fill-color': '#fffdf6', 'fill-opacity': 0.4 } },
    { type: 'line', paint: { 'line-color': '#6d5d4b', 'line-width': 1.5, 'line-dasharray': [3, 2] } }],
  mining_rights: [
    { type: 'fill', paint: { 'fill-color': '#2f6db5', 'fill-opacity': 0.10 } },
    { type: 'line', paint: { 'line-color': '#2f6db5', 'line-width': 1.2 } }],
  panels: [
    { type: 'fill', paint: { 'fill-color': '#555', 'fill-opacity': 0.25 } },
    { type: 'line', paint: { 'line-color': '#333', 'line-width': 0.6 } }],
  subsidence_areas: [
    { type: 'fill', paint: { 'fill-color': REVIEW_COLOURS, 'fill-opacity': STABILITY_OPACITY } },
    { type: 'line', paint: { 'line-color': REVIEW_COLOURS, 'line-width': 1.2 } }],
  vegetation: [
    { type: 'fill', paint: { 'fill-color': ['match', ['coalesce', ['get', 'kind'], ['get', 'change'], 'loss'], 'recovery', '#3c9d3c', 'gain', '#3c9d3c', '#a0522d'], 'fill-opacity': 0.45 } }],
  buildings: [
    { type: 'fill', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': '#8d6e63', 'fill-opacity': 0.7 } },
    { type: 'circle', filter: ['==', ['geometry-type'], 'Point'], paint: { 'circle-radius': 4, 'circle-color': '#8d6e63', 'circle-stroke-color': '#fff', 'circle-stroke-width': 1 } }],
  wells: [
    { type: 'circle', paint: { 'circle-radius': 4.5, 'circle-color': '#00897b', 'circle-stroke-color': '#fff', 'circle-stroke-width': 1 } }],
  hazard_points: [
    { type: 'circle', paint: { 'circle-radius': 7, 'circle-color': LEVEL_COLOURS, 'circle-stroke-color': '#fff', 'circle-stroke-width': 1.5 } }],
  planned_parcels: [
    { type: 'line', paint: { 'line-color': '#6a1b9a', 'line-width': 1, 'line-dasharray': [2, 2] } }],
  reported_parcels: [
    { type: 'fill', paint: { 'fill-color': ['match', ['get', 'state'], 'rejected', '#b71c1c', '#ffb300'], 'fill-opacity': 0.5 } }],
  verified_parcels: [
    { type: 'fill', paint: { 'fill-color': '#2e7d32', 'fill-opacity': 0.55 } }],
  // problems: fill by state, a thick red ring when overdue
  problems: [
    { type: 'circle', paint: { 'circle-radius': ['case', ['get', 'overdue'], 7, 5.5], 'circle-color': STATE_COLOURS,
      'circle-stroke-color': ['case', ['get', 'overdue'], '#c8102e', '#ffffff'], 'circle-stroke-width': ['case', ['get', 'overdue'], 3, 1] } }],
};
const ORDER = ['towns', 'mining_rights', 'panels', 'planned_parcels', 'subsidence_areas', 'vegetation', 'reported_parcels',
  'verified_parcels', 'buildings', 'wells', 'hazard_points', 'problems'];
const DETAIL = { mining_rights: (id) => `/api/mines/${id}`, subsidence_areas: (id) => `/api/subsidence-areas/${id}`,
  hazard_points: (id) => `/api/hazard-points/${id}`, problems: (id) => `/api/problems/${id}` };
const HISTORY = { towns: 'town', panels: 'panel', wells: 'well', buildings: 'building', vegetation: null,
  reported_parcels: 'treated_parcel', verified_parcels: 'treated_parcel', planned_parcels: 'plan_parcel' };
const LEGEND = [
  ['#c8102e', '沉陷区（专家确认）', 'subsidence area (confirmed)'], ['#f28c28', '沉陷区（待评审）', 'subsidence area (candidate)'],
  ['#2f6db5', '采矿权范围', 'mining right'], ['#555', '工作面', 'panel'],
  ['#1f6fd1', '蓝色预警', 'blue'], ['#e0b000', '黄色预警', 'yellow'], ['#e86a10', '橙色预警', 'orange'], ['#c8102e', '红色预警', 'red'],
  ['#6a1b9a', '方案治理复垦地块', 'planned parcel'], ['#ffb300', '企业上报治理地块', 'reported parcel'],
  ['#2e7d32', '核查通过地块', 'verified parcel'], ['#b71c1c', '核查不通过地块', 'rejected parcel'],
  ['#9e9e9e', '问题：已发现', 'problem: found'], ['#f28c28', '问题：已下达整改通知', 'problem: notice issued'],
  ['#2f6db5', '问题：整改中', 'problem: rectifying'], ['#00897b', '问题：待验收', 'problem: awaiting acceptance'],
  ['#2e7d32', '问题：已验收销号', 'problem: accepted'], ['#ffffff;border:3px solid #c8102e', '问题：逾期（红圈）', 'problem: overdue (red ring)'],
  ['#4a4a4a', '隐患点（无预警）', 'hazard point (no warning)'], ['#00897b', '地下水监测井', 'groundwater well'], ['#8d6e63', '已补偿建筑物', 'compensated building'],
];

window.__layerCounts = {};
const styleLayers = {}; // layer id -> [style layer ids]
const labelMarkers = [];

function bboxOf(features) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => { if (typeof c[0] === 'number') { b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]); b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]); } else c.forEach(walk); };
  features.forEach((f) => f.geometry && walk(f.geometry.coordinates));
  return b;
}

function init() {
  if (!window.maplibregl) { document.getElementById('map').textContent = t('map.no_webgl'); return; }
  const map = new maplibregl.Map({
    container: 'map',
    style: { version: 8, sources: {}, layers: [{ id: 'background', type: 'background', paint: { 'background-color': '#eef1ea' } }] },
    center: [109.75, 39.4], zoom: 8.6, attributionControl: false,
    localIdeographFontFamily: '"Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif',
  });
  window.__map = map;
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
  map.on('load', () => addBasemap(map).catch((e) => console.warn('basemap', e))
    .then(() => loadLayers(map)).catch((e) => console.error(e)));
  map.on('error', (e) => console.warn('map error', e?.error?.message || e));
}

// The office's own basemap (imagery / topographic map) when one is imported; none: the plain background.
async function addBasemap(map) {
  const { basemap } = await api('/api/basemap');
  window.__basemap = basemap;
  if (!basemap) return;
  map.addSource('basemap', { type: 'raster', tiles: [location.origin + basemap.tiles], tileSize: basemap.tile_size,
    minzoom: basemap.minzoom, maxzoom: basemap.maxzoom, bounds: basemap.bounds, attribution: basemap.attribution || '' });
  map.addLayer({ id: 'basemap', type: 'raster', source: 'basemap' });
}

async function loadLayers(map) {
  const { layers } = await api('/api/layers');
  const byId = Object.fromEntries(layers.map((l) => [l.id, l]));
  const list = document.getElementById('layer-list');
  const all = [];
  for (const id of ORDER.filter((x) => byId[x]).concat(layers.map((l) => l.id).filter((x) => !ORDER.includes(x)))) {
    const meta = byId[id];
    const fc = await api(`/api/layers/${id}`);
    window.__layerCounts[id] = fc.features.length;
    all.push(...fc.features);
    map.addSource(id, { type: 'geojson', data: fc, promoteId: 'id' });
    styleLayers[id] = [];
    (STYLES[id] || [{ type: 'line', paint: { 'line-color': '#444' } }]).forEach((s, i) => {
      const lid = `${id}-${i}`;
      map.addLayer({ id: lid, source: id, type: s.type, paint: s.paint, ...(s.filter ? { filter: s.filter } : {}) });
      styleLayers[id].push(lid);
    });
    const row = document.createElement('label');
    row.className = 'layer';
    row.innerHTML = `<input type="checkbox" checked data-layer="${esc(id)}"> ${esc(meta.title)} <span class="count">${fc.features.length}</span>` +
      ` <a class="dl" href="${esc(meta.gpkg)}" title="${esc(t('map.download'))}">⤓</a>`;
    list.appendChild(row);
    if (id === 'towns' || id === 'mining_rights') addLabels(map, id, fc.features);
  }
  const hidden = new Set();
  const labelsByZoom = () => {
    const z = map.getZoom();
    labelMarkers.forEach((m) => {
      const show = !hidden.has(m.layer) && (m.layer !== 'mining_rights' || z >= 10);
      m.el.style.display = show ? '' : 'none';
    });
  };
  list.addEventListener('change', (ev) => {
    const id = ev.target.dataset.layer;
    if (!id) return;
    const vis = ev.target.checked ? 'visible' : 'none';
    styleLayers[id].forEach((lid) => map.setLayoutProperty(lid, 'visibility', vis));
    if (ev.target.checked) hidden.delete(id); else hidden.add(id);
    labelsByZoom();
  });
  map.on('zoomend', labelsByZoom);
  const b = bboxOf(all);
  if (isFinite(b[0])) map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 30, duration: 0 });
  labelsByZoom();
  legend();
  filters(map);
  const clickable = Object.values(styleLayers).flat();
  map.on('click', (e) => {
    const f = map.queryRenderedFeatures(e.point, { layers: clickable })
      .sort((a, b) => ORDER.indexOf(b.source) - ORDER.indexOf(a.source))[0];
    if (f) showRecord(f.source, f);
  });
  map.on('mousemove', (e) => { map.getCanvas().style.cursor = map.queryRenderedFeatures(e.point, { layers: clickable }).length ? 'pointer' : ''; });
  map.once('idle', () => { window.__mapReady = true; document.body.dataset.mapReady = '1'; });
  map.triggerRepaint();
}

function addLabels(map, layer, features) {
  for (const f of features) {
    const b = bboxOf([f]);
    const el = document.createElement('div');
    el.className = `maplabel ${layer}`;
    el.textContent = f.properties.name;
    const mk = new maplibregl.Marker({ element: el }).setLngLat([(b[0] + b[2]) / 2, (b[1] + b[3]) / 2]).addTo(map);
    labelMarkers.push({ layer, el, mk });
  }
}

function legend() {
  document.getElementById('legend').innerHTML = LEGEND.map(([c, zh, en]) =>
    `<div><span class="sw" style="background:${c}"></span>${esc(lang === 'en' ? en : zh)}</div>`).join('');
}

function filters(map) {
  const state = {};
  document.querySelectorAll('select[data-filter]').forEach((sel) => sel.addEventListener('change', () => {
    state[sel.dataset.filter] = sel.value;
    const area = ['all', ...['review_state', 'stability'].filter((k) => state[k]).map((k) => ['==', ['get', k], state[k]])];
    (styleLayers.subsidence_areas || []).forEach((lid) => map.setFilter(lid, area.length > 1 ? area : null));
    const hz = state.hazard_type ? ['==', ['get', 'hazard_type'], state.hazard_type] : null;
    (styleLayers.hazard_points || []).forEach((lid) => map.setFilter(lid, hz));
  }));
}

const HIDE = new Set(['link', 'id', 'illustrative', 'name_zh', 'history', 'series', 'sensors', 'problems', 'fund', 'can_observe',
  'town_id', 'mine_id', 'enterprise_id', 'hazard_type', 'review_state', 'stability', 'source', 'status', 'kind',
  'demolition_status', 'mining_method', 'problems_total']);
const LABELS = {
  code: ['编号', 'Code'], name: ['名称', 'Name'], licence_no: ['许可证号', 'Licence'], enterprise_name: ['企业', 'Enterprise'],
  town_name: ['镇', 'Town'], status_label: ['状态', 'Status'], capacity_mt_per_yr: ['产能 Mt/a', 'Capacity Mt/yr'],
  licence_valid_to: ['许可证有效期至', 'Licence valid to'], title: ['问题', 'Problem'], state_label: ['状态', 'State'],
  deadline: ['整改期限', 'Deadline'], overdue: ['逾期', 'Overdue'], mine_name: ['矿山', 'Mine'], lead_unit_name: ['牵头单位', 'Lead unit'], open_problems: ['未销号问题', 'Open problems'],
  hazard_type_label: ['隐患类型', 'Type'], village: ['村', 'Village'], scale: ['规模', 'Scale'],
  threatened_households: ['威胁户数', 'Households'], threatened_people: ['威胁人数', 'People'],
  threatened_property_10k_yuan: ['威胁财产（万元）', 'Property (10k yuan)'], monitoring_method: ['监测方法', 'Monitoring'],
  monitoring_frequency: ['监测频率', 'Frequency'], responsible_role: ['群测群防责任人', 'Responsible'],
  monitor_role: ['监测人', 'Monitor'], warning_signal: ['预警信号', 'Warning signal'], rescue_unit: ['抢险单位', 'Rescue unit'],
  warning_level: ['预警级别', 'Warning level'], source_label: ['来源', 'Source'], review_state_label: ['评审状态', 'Review'],
  stability_label: ['稳定性', 'Stability'], area_ha: ['面积（公顷）', 'Area (ha)'], max_subsidence_mm: ['最大下沉（毫米）', 'Max subsidence (mm)'],
  mean_subsidence_mm: ['平均下沉（毫米）', 'Mean subsidence (mm)'], volume_m3: ['下沉体积（立方米）', 'Volume (m³)'],
  mean_rate_mm_per_yr: ['平均速率（毫米/年）', 'Mean rate (mm/yr)'], treated: ['已治理', 'Treated'], first_seen: ['首次发现', 'First seen'],
  last_seen: ['最近监测', 'Last seen'], notes: ['备注', 'Notes'], seam: ['煤层', 'Seam'], thickness_m: ['采厚（米）', 'Thickness (m)'],
  depth_dip_m: ['采深（米）', 'Depth (m)'], start_date: ['开采开始', 'Start'], end_date: ['开采结束', 'End'],
  aquifer: ['含水层', 'Aquifer'], baseline_depth_to_water_m: ['基准水位埋深（米）', 'Baseline depth to water (m)'],
  reoccupied: ['返迁居住', 'Re-occupied'], demolition_status_label: ['拆除状态', 'Demolition'], kind_label: ['类型', 'Kind'],
  over_goaf_ha: ['采空区上方（公顷）', 'Over goaf (ha)'], mean_delta_ndvi: ['NDVI 变化', 'ΔNDVI'], date_before: ['前时相', 'Before'],
  date_after: ['后时相', 'After'], stability: ['稳定性', 'Stability'],
};
const label = (k) => (LABELS[k] ? LABELS[k][lang === 'en' ? 1 : 0] : k);
const fmt = (v) => (typeof v === 'number' && !Number.isInteger(v) ? (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2)) : v);

// values that are codes, shown as words
const VALUE_WORDS = { warning_level: { blue: ['蓝色预警', 'blue'], yellow: ['黄色预警', 'yellow'], orange: ['橙色预警', 'orange'], red: ['红色预警', 'red'] } };
const word = (k, v) => (VALUE_WORDS[k] && VALUE_WORDS[k][v] ? VALUE_WORDS[k][v][lang === 'en' ? 1 : 0] : v);

function factsTable(obj) {
  return '<table class="facts">' + Object.entries(obj).filter(([k, v]) => !HIDE.has(k) && v !== null && v !== '' && typeof v !== 'object')
    .map(([k, v]) => `<tr><th>${esc(label(k))}</th><td>${esc(v === true ? '✓' : v === false ? '✗' : fmt(word(k, v)))}</td></tr>`).join('') + '</table>';
}

const ACTION_WORDS = { insert: ['登记', 'recorded'], update: ['修改', 'changed'], delete: ['删除', 'deleted'],
  field_observation: ['群测群防巡查报告', 'field report'], transition: ['状态变更', 'state change'] };
const SIGN_WORDS = { new_cracks: ['新增裂缝', 'new cracks'], bulging: ['地面鼓胀', 'bulging'], seepage: ['渗水、泉水浑浊', 'seepage'],
  sounds: ['异响', 'sounds'], tilting: ['树木、墙体倾斜', 'tilting'] };
const LEVEL_WORDS = { 1: ['蓝色预警', 'blue'], 2: ['黄色预警', 'yellow'], 3: ['橙色预警', 'orange'], 4: ['红色预警', 'red'] };
const w = (pair) => (pair ? pair[lang === 'en' ? 1 : 0] : '');

function historyItem(h) {
  const who = esc(h.actor);
  let text = esc(w(ACTION_WORDS[h.action]) || h.action);
  const a = h.after || {};
  if (h.action === 'field_observation') {
    const bits = [];
    if (a.note) bits.push(esc(a.note));
    if (a.crack_width_mm != null) bits.push(`${lang === 'en' ? 'crack' : '裂缝宽'} ${esc(a.crack_width_mm)} mm`);
    if (a.signs && a.signs.length) bits.push(a.signs.map((s) => esc(w(SIGN_WORDS[s]) || s)).join('、'));
    if (a.alarms && a.alarms.length) bits.push(a.alarms.map((x) => `<b class="lvl-${x.level}">${esc(w(LEVEL_WORDS[x.level]))}</b>`).join(' '));
    text += '：' + bits.join('；');
    if (a.photo && a.photo.sha256) text += ` <a href="/api/field-photos/${esc(a.photo.sha256)}" target="_blank"><img class="hthumb" src="/api/field-photos/${esc(a.photo.sha256)}" alt=""></a>`;
  }
  return `<li><time>${esc(h.at.slice(0, 16).replace('T', ' '))}</time> ${who} · ${text}${h.reason && h.action !== 'field_observation' ? ' · ' + esc(h.reason) : ''}</li>`;
}

function historyList(items) {
  if (!items || !items.length) return `<p class="hint">${esc(t('dash.none'))}</p>`;
  return '<ol class="history">' + items.slice(-30).reverse().map(historyItem).join('') + '</ol>';
}

async function showRecord(layer, feature) {
  const panel = document.getElementById('record');
  const id = feature.properties.id;
  panel.innerHTML = `<p class="hint">${esc(t('common.loading'))}</p>`;
  try {
    let rec = { ...feature.properties };
    let history = [];
    if (DETAIL[layer]) { rec = await api(DETAIL[layer](id)); history = rec.history; }
    else if (HISTORY[layer]) { history = (await api(`/api/history/${HISTORY[layer]}/${id}`)).items; }
    if (layer === 'problems') rec = { code: rec.code, title: rec.title, state_label: rec.state_label, deadline: rec.deadline,
      overdue: rec.overdue, mine_name: rec.mine_name, town_name: rec.town_name, lead_unit_name: rec.lead_unit_name,
      link: `/problems/${id}`, history: [] };
    panel.innerHTML = `<h2 data-testid="record-title">${esc(rec.name || rec.title || rec.code || id)}</h2>` +
      (rec.link ? `<p><a href="${esc(rec.link)}" data-testid="record-link">${esc(t('portal.open'))}</a></p>` : '') +
      `<h3>${esc(t('map.record'))}</h3>${factsTable(rec)}<div class="charts"></div>` +
      (rec.problems ? `<h3>${esc(t('nav.problems'))}</h3><ul class="plain">${rec.problems.slice(0, 20).map((p) =>
        `<li><a href="/problems/${p.id}">${esc(p.code)}</a> ${esc(p.title)} · ${esc(p.state_label)}</li>`).join('')}</ul>` : '') +
      `<h3>${esc(t('map.history'))}</h3>${historyList(history)}`;
    const charts = panel.querySelector('.charts');
    for (const s of rec.series && Array.isArray(rec.series) ? rec.series : []) {
      charts.appendChild(seriesChart(s, { title: s.sensor }));
    }
    if (rec.series && !Array.isArray(rec.series)) {
      const s = rec.series;
      if (s.points && s.points.length) charts.appendChild(seriesChart({ ...s, points: s.points.map((p) => ({ ...p, v: -p.v })) }, { title: t('map.series_pim') }));
      if (s.profile && s.profile.length) charts.appendChild(seriesChart({ unit: s.unit, points: s.profile.map((p) => ({ x: p.x, v: -p.v })) }, { title: t('map.profile_pim'), numeric: true }));
    }
  } catch (err) {
    panel.innerHTML = `<p class="error">${esc(err.message)}</p>`;
  }
}

init();
