// Overview: live numbers from GET /api/v1/stats (windows of 5 and 60 minutes,
// a per-minute series for the charts, per-webhook figures, consumer lag),
// refreshed every few seconds.
import * as api from '../api.js';
import { h, append, ago, copyText, table } from '../dom.js';
import { bar, tile } from '../charts.js';
import { poll } from '../poll.js';

const REFRESH_MS = 3000;
const LAG_ROWS = 8;

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const fmt = (v, digits = 0) => (typeof v === 'number' && Number.isFinite(v) ? v.toLocaleString(undefined, { maximumFractionDigits: digits }) : '—');
const percent = (r) => (typeof r === 'number' ? `${(r * 100).toFixed(1)} %` : '—');

// consumerLag: {approximate, note, groups: [{group, topic, lag}], error?}
const lagGroups = (lag) => (Array.isArray(lag?.groups) ? lag.groups : []);
const lagTotal = (lag) => lagGroups(lag).reduce((a, g) => a + num(g.lag), 0);

const outcomesOf = (deliveries) => Object.entries(deliveries || {}).filter(([k]) => k !== 'total');
const failuresOf = (deliveries) => num(deliveries?.total) - num(deliveries?.success);

// A command shown for copying, with a Copy button.
function command(label, text) {
  const pre = h('pre', { class: 'command', 'aria-label': label, text });
  const copy = h('button', { type: 'button', text: 'Copy', 'aria-label': `Copy: ${label}`,
    onclick: async () => { copy.textContent = await copyText(text) ? 'Copied' : 'Select it to copy'; } });
  return h('div', { class: 'command-box' }, pre, copy);
}

// For a server with no webhook yet: where to start.
function gettingStarted(ctx) {
  const base = `${window.location.origin}/api/v1`;
  const auth = '-H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json"';
  const createWebhook = `curl -X POST ${base}/webhooks ${auth} \\
  -d '{"name": "my endpoint", "url": "https://example.com/hook", "events": ["order.created"]}'`;
  const sendEvent = `curl -X POST ${base}/events ${auth} \\
  -d '{"eventType": "order.created", "entityId": "42", "entity": {"id": 42, "total": 9.5}}'`;
  const cli = `.venv/bin/hookstream send-event order.created --data '{"id": 42, "total": 9.5}' --api-url ${window.location.origin}`;
  return h('section', { class: 'card getting-started', 'aria-label': 'Getting started' },
    h('h2', { text: 'Getting started' }),
    h('p', { text: 'No webhooks yet. Two steps to a first delivery:' }),
    h('ol', {},
      h('li', {},
        h('strong', { text: 'Create a webhook' }), ' — the endpoint that receives your events. ',
        ctx.canWrite ? h('a', { class: 'button primary', href: '#/webhooks/new', text: 'Add webhook' }) : h('span', { class: 'muted', text: '(an admin token can)' }),
        h('p', { class: 'hint', text: 'Or through the API (TOKEN is your admin token):' }),
        command('Create a webhook with curl', createWebhook)),
      h('li', {},
        h('strong', { text: 'Send an event' }), ' — any producer writing to an events.* topic, or the API. ',
        ctx.canPublish ? h('a', { class: 'button', href: '#/send', text: 'Send event' }) : null,
        command('Send an event with curl', sendEvent),
        h('p', { class: 'hint', text: 'Or with the command line (it finds the token make run keeps):' }),
        command('Send an event with the hookstream command', cli))),
    h('p', {}, 'Then open the webhook\'s ', h('em', { text: 'View events' }), ' to see the request and the answer.'));
}

export async function render(root, ctx) {
  append(root, [h('h1', { text: 'Overview' })]);
  if (!await api.supports('GET', '/stats')) {
    append(root, [h('p', { class: 'notice warn', role: 'status', text: 'Live statistics are not available on this server (it has no GET /api/v1/stats). The Webhooks and View events pages still work.' })]);
    return;
  }
  const start = h('div');
  const live = h('div');
  const updated = h('p', { class: 'muted', role: 'status' });
  // Consumer-group internals, for operators: folded away, and kept open
  // across refreshes once opened.
  const lagBody = h('div');
  const advanced = h('details', { class: 'advanced card' },
    h('summary', { text: 'Advanced: consumer lag by group and topic' }), lagBody);
  append(root, [start, updated, live, advanced]);
  const lagHistory = [];

  async function refresh() {
    const stats = await api.get('/stats');
    const w5 = stats?.windows?.['5m'] || {};
    const w60 = stats?.windows?.['60m'] || {};
    const series = stats?.series || [];
    const perMinute = (pick) => series.map(pick);
    const lag = stats?.consumerLag;
    const behind = lag && !lag.error ? lagTotal(lag) : undefined;
    if (behind !== undefined) { lagHistory.push(behind); if (lagHistory.length > 60) lagHistory.shift(); }

    const tiles = h('div', { class: 'tiles' },
      tile('Events/s', fmt(num(w5.eventsIn) / 300, 2), `${fmt(w5.eventsIn)} events in 5 min, ${fmt(w60.eventsIn)} in 60 min`, perMinute((m) => num(m.eventsIn))),
      tile('Deliveries (5 min)', fmt(w5.deliveries?.total), `${fmt(failuresOf(w5.deliveries))} not successful; ${fmt(w60.deliveries?.total)} in 60 min`, perMinute((m) => num(m.deliveries?.total))),
      tile('Failed attempts (5 min)', fmt(failuresOf(w5.deliveries)), `${fmt(failuresOf(w60.deliveries))} in 60 min`, perMinute((m) => failuresOf(m.deliveries))),
      tile('Retries (5 min)', fmt(w5.retries), `${fmt(w60.retries)} in 60 min`, perMinute((m) => num(m.retries))),
      tile('Dead letters (5 min)', fmt(w5.deadLetters), `${fmt(w60.deadLetters)} in 60 min`, perMinute((m) => num(m.deadLetters))),
      tile('Consumer lag', behind === undefined ? '—' : fmt(behind), behind === undefined ? (lag?.error || 'not reported') : `messages behind, all topics${lag.approximate ? ' (approximate)' : ''}`, lagHistory));

    const outcomes = outcomesOf(w5.deliveries);
    const max = Math.max(1, ...outcomes.map(([, v]) => num(v)));
    const byOutcome = h('section', { class: 'card', 'aria-label': 'Deliveries by outcome' },
      h('h2', { text: 'Deliveries by outcome (5 min)' }),
      h('div', { class: 'bars' }, outcomes.map(([k, v]) => bar(k, num(v), max, k === 'success' ? 'success' : 'bad'))));

    const failing = (stats?.webhooks || [])
      .map((w) => ({ ...w, failures: num(w.last60m?.attempts) - num(w.last60m?.successes) }))
      .filter((w) => w.failures > 0 || w.enabled === false)
      .sort((a, b) => b.failures - a.failures)
      .slice(0, 10);
    const failingCard = h('section', { class: 'card', 'aria-label': 'Webhooks failing most' },
      h('h2', { text: 'Webhooks failing most (60 min)' }),
      table([
        ['Webhook', (w) => h('a', { href: `#/webhooks/${api.enc(w.webhookId)}/events`, text: w.name || w.webhookId })],
        ['Failed', (w) => fmt(w.failures)],
        ['Success', (w) => percent(w.last60m?.successRatio)],
        ['Last', (w) => `${w.lastOutcome || '—'} ${w.lastDeliveryAt ? ago(w.lastDeliveryAt) : ''}`.trim()],
        ['Status', (w) => h('span', { class: `badge ${w.enabled === false ? 'off' : 'ok'}`, text: w.enabled === false ? 'disabled' : 'enabled' })],
      ], failing, { empty: 'No webhook failed in the last hour.' }));

    const lagCard = lag ? h('section', { 'aria-label': 'Consumer lag' },
      lag.error ? h('p', { class: 'notice error', text: lag.error }) : null,
      table([
        ['Group', (g) => h('code', { text: g.group || '' })],
        ['Topic', (g) => h('code', { text: g.topic || '' })],
        ['Lag', (g) => fmt(num(g.lag))],
      ], [...lagGroups(lag)].sort((a, b) => num(b.lag) - num(a.lag)).slice(0, LAG_ROWS), { empty: 'Nothing behind.' }),
      lagGroups(lag).length > LAG_ROWS ? h('p', { class: 'hint', text: `The ${LAG_ROWS} topics furthest behind of ${lagGroups(lag).length}.` }) : null,
      lag.note ? h('p', { class: 'hint', text: lag.note }) : null) : null;
    const empty = Array.isArray(stats?.webhooks) && stats.webhooks.length === 0;
    if (empty && !start.firstChild) start.append(gettingStarted(ctx));
    if (!empty) start.replaceChildren();
    live.replaceChildren(tiles, h('div', { class: 'two' }, byOutcome, failingCard));
    lagBody.replaceChildren(lagCard || h('p', { class: 'empty', text: 'Consumer lag is not reported.' }));
    updated.textContent = `Updated ${new Date().toLocaleTimeString()} · refreshes every ${REFRESH_MS / 1000} s · charts: per minute, last 60 minutes`;
  }

  await refresh();
  poll(refresh, REFRESH_MS, ctx, (err) => { updated.textContent = `Refresh failed: ${err.message}`; });
}
