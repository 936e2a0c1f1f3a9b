// The public map: the published assessment lists and inspection results at their mines (no tiles, no CDN).
import { api, esc, t } from './common.js';

const COLOURS = ['match', ['coalesce', ['get', 'listing'], 'none'], 'praise', '#2e7d32', 'exposure', '#c8102e', '#2f6db5'];

function record(p) {
  const el = document.getElementById('public-record');
  const list = p.listing ? `${p.listing === 'praise' ? t('public.praise') : t('public.exposure')} · ${t('public.year')} ${p.year} · ` +
    `${t('public.score')} ${p.score}${p.rank ? ` · ${t('public.rank')} ${p.rank}` : ''}` : '';
  const insp = JSON.parse(typeof p.inspections === 'string' ? p.inspections : JSON.stringify(p.inspections || []));
  el.className = '';
  el.innerHTML = `<h3 data-testid="public-record-title">${esc(p.mine_name || p.mine)}</h3>` + (list ? `<p>${esc(list)}</p>` : '') +
    (insp.length ? '<ul class="plain">' + insp.map((i) => `<li>${esc(i.date)} ${esc(i.item)}：${esc(i.outcome)} ${esc(i.summary || '')}</li>`).join('') + '</ul>' : '');
}

async function init() {
  const fc = await api('/api/public/map');
  window.__publicCount = fc.features.length;
  if (!window.maplibregl) { document.body.dataset.ready = '1'; return; }
  const map = new maplibregl.Map({
    container: 'public-map', attributionControl: false, center: [109.75, 39.4], zoom: 8.4,
    style: { version: 8, sources: {}, layers: [{ id: 'bg', type: 'background', paint: { 'background-color': '#eef1ea' } }] },
  });
  window.__publicMap = map;
  map.on('load', () => {
    map.addSource('published', { type: 'geojson', data: fc });
    map.addLayer({ id: 'published', type: 'circle', source: 'published',
      paint: { 'circle-radius': 8, 'circle-color': COLOURS, 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 } });
    const b = [Infinity, Infinity, -Infinity, -Infinity];
    fc.features.forEach((f) => { const [x, y] = f.geometry.coordinates; b[0] = Math.min(b[0], x); b[1] = Math.min(b[1], y); b[2] = Math.max(b[2], x); b[3] = Math.max(b[3], y); });
    if (isFinite(b[0])) map.fitBounds([[b[0] - 0.05, b[1] - 0.05], [b[2] + 0.05, b[3] + 0.05]], { duration: 0, maxZoom: 11 });
    for (const f of fc.features) {  // a label per point: name and, when listed, year and score
      const el = document.createElement('div');
      el.className = 'maplabel';
      const p = f.properties;
      el.textContent = `${p.mine_name || p.mine}${p.listing ? ` · ${p.year} · ${p.score}` : ''}`;
      new maplibregl.Marker({ element: el, offset: [0, -16] }).setLngLat(f.geometry.coordinates).addTo(map);
    }
    map.on('click', 'published', (e) => record(e.features[0].properties));
    map.once('idle', () => { document.body.dataset.ready = '1'; });
  });
}
init().catch((e) => { console.error(e); document.body.dataset.ready = '1'; });
