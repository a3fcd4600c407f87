// View events (seed 000): the last 100 attempts of one webhook, each
// expandable to its request and response; redeliver; dead letters.
import * as api from '../api.js';
import { attemptItem, humanError, markNewest } from '../attempt-view.js';
import { h, append, button, field, notice, pretty, select, statusLine, table, when } from '../dom.js';
import { poll } from '../poll.js';
import { replayButton } from './replay-dialog.js';

const OUTCOMES = ['success', 'http_error', 'timeout', 'connection_error', 'refused'];
const REFRESH_MS = 3000;

const keyOf = (a) => `${a.deliveryId}|${a.attempt}|${a.at}`;

async function attemptsTab(panel, webhookId, ctx) {
  const status = statusLine();
  const filter = select('outcome', [['', 'All outcomes'], ...OUTCOMES.map((o) => [o])], '');
  const listEl = h('div', { class: 'attempts', 'aria-label': 'Delivery attempts' });
  const count = h('span', { class: 'muted', 'aria-live': 'polite' });
  const none = h('p', { class: 'empty', hidden: true });
  const items = new Map();
  const apply = () => {
    let shown = 0;
    for (const el of listEl.children) {
      el.hidden = !!filter.value && el.dataset.outcome !== filter.value;
      if (!el.hidden) shown += 1;
    }
    count.textContent = `${shown} of ${listEl.children.length} attempts`;
    // An empty list says so: nothing yet, or nothing that matches the filter.
    none.textContent = listEl.children.length ? `No attempts match the outcome “${filter.value}”.` : 'No attempts yet.';
    none.hidden = shown > 0;
  };
  filter.addEventListener('change', apply);

  async function load() {
    const attempts = await api.list(`/webhooks/${api.enc(webhookId)}/events`);
    // Newest first; keep existing (possibly expanded) items, add new ones on top.
    const order = attempts.map((a) => {
      const key = keyOf(a);
      if (!items.has(key)) items.set(key, attemptItem({ webhookId, ...a }, ctx, status));
      return items.get(key);
    });
    const wanted = new Set(order);
    for (const [key, el] of items) if (!wanted.has(el)) { el.remove(); items.delete(key); }
    listEl.replaceChildren(...order);
    markNewest(order);
    apply();
  }
  append(panel, [
    h('div', { class: 'toolbar' }, field('Outcome', filter), button('Refresh', () => load().catch((e) => notice(status, e.message, 'error'))), count),
    status, listEl, none]);
  await load();
  poll(load, REFRESH_MS, ctx);
}

function deadLetterItem(d) {
  const attempts = d.attempts || [];
  return h('details', { class: 'attempt', 'data-delivery': d.deliveryId || '' },
    h('summary', {},
      h('span', { class: 'badge error', text: 'dead letter' }),
      h('strong', { text: d.event?.eventType || '' }),
      h('span', { text: d.reason || '' }),
      h('span', { class: 'muted', text: `${attempts.length} attempts` }),
      h('span', { class: 'muted', text: when(d.deadAt) }),
      h('code', { class: 'muted', text: d.deliveryId || '' })),
    h('div', { class: 'body' },
      h('h4', { text: 'Attempts' }),
      table([
        ['#', (a) => String(a.attempt)], ['At', (a) => when(a.at)],
        ['Outcome', (a) => h('span', { class: `badge ${a.outcome}`, text: a.outcome })],
        ['Status', (a) => (a.status ? String(a.status) : '—')],
        ['Error', (a) => (a.outcome === 'success' ? '' : h('span', { title: a.error || '', text: humanError(a) }))],
        ['ms', (a) => String(a.durationMs ?? '')],
      ], attempts),
      h('h4', { text: 'Event' }), h('pre', { 'aria-label': 'Dead letter event', text: pretty(d.event) })));
}

async function deadLettersTab(panel, webhookId, ctx) {
  if (!await api.supports('GET', '/webhooks/{id}/dead-letters')) {
    panel.append(h('p', { class: 'notice warn', text: 'Dead letters are not available on this server (no GET /api/v1/webhooks/{id}/dead-letters).' }));
    return;
  }
  const status = statusLine();
  const listEl = h('div', { 'aria-label': 'Dead letters' });
  const more = button('Load more', () => load(next).catch((e) => notice(status, e.message, 'error')));
  let next = null;
  const base = `/webhooks/${api.enc(webhookId)}/dead-letters`;
  // First page replaces the list (auto-refresh); later pages append.
  async function load(cursor = null) {
    const answer = await api.get(cursor ? `${base}?cursor=${api.enc(cursor)}` : base);
    const items = (answer?.data || []).map(deadLetterItem);
    if (!cursor) {
      if (listEl.querySelector('details[open]')) return; // do not fold what the user opened
      listEl.replaceChildren(...(items.length ? items : [h('p', { class: 'empty', text: 'No dead letters.' })]));
    } else listEl.append(...items);
    next = answer?.nextCursor || null;
    more.hidden = !next;
  }
  const since = h('input', { type: 'datetime-local', name: 'since', step: 1 });
  const hourAgo = new Date(Date.now() - 3600e3);
  since.value = new Date(hourAgo.getTime() - hourAgo.getTimezoneOffset() * 60e3).toISOString().slice(0, 19);
  const recover = ctx.canWrite && await api.supports('POST', '/webhooks/{id}/recover')
    ? h('form', { class: 'toolbar', 'aria-label': 'Recover dead letters' },
      field('Recover since', since, { name: 'since', hint: 'Your local time. Every dead letter since then is delivered again, with its delivery id.' }),
      h('button', { type: 'submit', class: 'primary', text: 'Recover' }))
    : null;
  recover?.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const iso = new Date(since.value).toISOString();
      const answer = await api.post(`/webhooks/${api.enc(webhookId)}/recover`, { since: iso });
      notice(status, `Recovery queued: ${answer?.queued ?? '?'} dead letters.`, 'ok');
    } catch (err) { notice(status, `Recover failed: ${err.message}`, 'error'); }
  });
  append(panel, [recover, h('div', { class: 'actions' }, button('Refresh dead letters', () => load())), status, listEl, more]);
  await load();
  poll(load, REFRESH_MS, ctx);
}

export async function render(root, ctx) {
  const id = ctx.params[0];
  const webhook = await api.get(`/webhooks/${api.enc(id)}`);
  const tabs = [['Attempts', attemptsTab], ['Dead letters', deadLettersTab]];
  const panels = tabs.map(([name]) => h('div', { role: 'tabpanel', id: `panel-${name.replace(' ', '-')}`, 'aria-label': name }));
  const loaded = new Set();
  const tabButtons = tabs.map(([name, fill], i) => h('button', {
    type: 'button', role: 'tab', id: `tab-${i}`, 'aria-controls': panels[i].id, text: name,
    onclick: () => select_(i),
  }));
  async function select_(i) {
    tabButtons.forEach((b, j) => {
      b.setAttribute('aria-selected', String(i === j));
      b.tabIndex = i === j ? 0 : -1;
      panels[j].hidden = i !== j;
    });
    if (!loaded.has(i)) {
      loaded.add(i);
      try { await tabs[i][1](panels[i], id, ctx); } catch (err) {
        panels[i].append(h('p', { class: 'notice error', text: err.message }));
      }
    }
  }
  const tablist = h('div', { role: 'tablist', 'aria-label': 'Deliveries' }, tabButtons);
  tablist.addEventListener('keydown', (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const next = (tabButtons.indexOf(document.activeElement) + step + tabs.length) % tabs.length;
    tabButtons[next].focus();
    select_(next);
  });
  append(root, [
    h('div', { class: 'page-head' },
      h('h1', { text: `View events: ${webhook.name}` }),
      ctx.canWrite ? replayButton(webhook) : null,
      h('a', { class: 'button', href: '#/webhooks', text: 'Back to webhooks' })),
    h('p', { class: 'muted' }, h('code', { text: `${webhook.method} ${webhook.url}` }), webhook.enabled ? '' : ` — disabled${webhook.disabledReason ? `: ${webhook.disabledReason}` : ''}`),
    tablist, panels]);
  await select_(0);
}
