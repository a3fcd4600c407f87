// Overview: live numbers from GET /api/v1/stats, refreshed every few seconds,
// with sparklines of what this page has seen since it opened.
import * as api from '../api.js';
import { h, append, table } from '../dom.js';
import { bar, tile } from '../charts.js';

const REFRESH_MS = 3000;
const KEEP = 60;

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const fmt = (v, digits = 0) => (typeof v === 'number' && Number.isFinite(v) ? v.toLocaleString(undefined, { maximumFractionDigits: digits }) : '—');
const sum = (obj) => Object.values(obj || {}).reduce((a, v) => a + num(typeof v === 'object' ? v?.value : v), 0);

// One window of the stats ("5m" or "60m"), whatever nesting the server uses.
function windowOf(stats, name) {
  return stats?.windows?.[name] || stats?.[name] || stats?.[`last${name}`] || stats;
}

function lagTotal(stats) {
  const lag = stats?.lag ?? stats?.consumerLag;
  if (typeof lag === 'number') return lag;
  if (Array.isArray(lag)) return lag.reduce((a, r) => a + num(r.lag), 0);
  if (lag && typeof lag === 'object') return sum(lag);
  return null;
}

export async function render(root, ctx) {
  append(root, [h('h1', { text: 'Overview' })]);
  if (!await api.supports('GET', '/stats')) {
    append(root, [h('p', { class: 'notice warn', role: 'status', text: 'Live statistics are not available on this server (it has no GET /api/v1/stats). The Webhooks and View events pages still work.' })]);
    return;
  }
  const history = { eventsPerSecond: [], deliveries: [], failures: [], lag: [] };
  const live = h('div', { 'aria-live': 'off' });
  const updated = h('p', { class: 'muted', role: 'status' });
  append(root, [updated, live]);
  let previous = null;

  async function refresh() {
    const stats = await api.get('/stats');
    const now = Date.now();
    const w5 = windowOf(stats, '5m');
    const eventsIn = num(w5?.eventsIn ?? w5?.events);
    const outcomes = w5?.deliveries || w5?.deliveriesByOutcome || {};
    const delivered = sum(outcomes);
    const failed = delivered - num(outcomes.success);
    let rate = w5?.eventsPerSecond ?? stats?.eventsPerSecond;
    if (rate === undefined && previous) {
      const total = num(stats?.totals?.eventsIn);
      rate = previous.total !== undefined ? Math.max(0, total - previous.total) / ((now - previous.at) / 1000) : undefined;
    }
    if (rate === undefined) rate = eventsIn / 300;
    previous = { at: now, total: stats?.totals?.eventsIn };
    const lag = lagTotal(stats);
    const push = (key, v) => { history[key].push(v); if (history[key].length > KEEP) history[key].shift(); };
    push('eventsPerSecond', num(rate));
    push('deliveries', delivered);
    push('failures', failed);
    push('lag', num(lag));

    const w60 = windowOf(stats, '60m');
    const tiles = h('div', { class: 'tiles' },
      tile('Events/s', fmt(rate, 2), `${fmt(eventsIn)} events in 5 min, ${fmt(num(w60?.eventsIn ?? w60?.events))} in 60 min`, history.eventsPerSecond),
      tile('Deliveries (5 min)', fmt(delivered), `${fmt(failed)} not successful`, history.deliveries),
      tile('Retries (5 min)', fmt(w5?.retries ?? w5?.retriesScheduled), `${fmt(w60?.retries ?? w60?.retriesScheduled)} in 60 min`),
      tile('Dead letters (5 min)', fmt(w5?.deadLetters), `${fmt(w60?.deadLetters)} in 60 min`),
      tile('Consumer lag', fmt(lag), 'messages behind, all topics', history.lag));
    const max = Math.max(1, ...Object.values(outcomes).map(num));
    const byOutcome = h('section', { class: 'card', 'aria-label': 'Deliveries by outcome' },
      h('h2', { text: 'Deliveries by outcome (5 min)' }),
      Object.keys(outcomes).length
        ? h('div', { class: 'bars' }, Object.entries(outcomes).map(([k, v]) => bar(k, num(v), max, k === 'success' ? 'success' : 'bad')))
        : h('p', { class: 'empty', text: 'No deliveries in the last 5 minutes.' }));
    const webhooks = [...(stats?.webhooks || [])]
      .map((w) => ({ ...w, failures: num(w.failures ?? w.failed ?? (num(w.attempts ?? w.total) - num(w.successes ?? w.success))) }))
      .filter((w) => w.failures > 0)
      .sort((a, b) => b.failures - a.failures)
      .slice(0, 10);
    const failing = h('section', { class: 'card', 'aria-label': 'Webhooks failing most' },
      h('h2', { text: 'Webhooks failing most' }),
      table([
        ['Webhook', (w) => h('a', { href: `#/webhooks/${api.enc(w.id || w.webhookId)}/events`, text: w.name || w.id || w.webhookId })],
        ['Failures', (w) => fmt(w.failures)],
        ['Success ratio', (w) => (typeof w.successRatio === 'number' ? `${(w.successRatio * 100).toFixed(1)} %` : '—')],
        ['Last delivery', (w) => String(w.lastDelivery?.outcome || w.lastOutcome || '—')],
      ], webhooks, { empty: 'No webhook is failing. ' }));
    const lagRows = Array.isArray(stats?.lag) ? stats.lag : Object.entries(stats?.lag || {}).map(([topic, v]) => ({ topic, lag: typeof v === 'object' ? v.lag ?? sum(v) : v }));
    const lagCard = h('section', { class: 'card', 'aria-label': 'Consumer lag' },
      h('h2', { text: 'Consumer lag by topic' }),
      table([['Topic', (r) => h('code', { text: r.topic || '' })], ['Lag', (r) => fmt(num(r.lag))]], lagRows, { empty: 'No lag reported.' }));
    live.replaceChildren(tiles, h('div', { class: 'two' }, byOutcome, failing), lagCard);
    updated.textContent = `Updated ${new Date().toLocaleTimeString()} · refreshes every ${REFRESH_MS / 1000} s`;
  }

  await refresh();
  const timer = setInterval(() => { refresh().catch((err) => { updated.textContent = `Refresh failed: ${err.message}`; }); }, REFRESH_MS);
  ctx.onLeave(() => clearInterval(timer));
}
