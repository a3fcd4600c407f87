// Find delivery: one event's or one delivery's attempts across every
// webhook the token may see (GET /api/v1/deliveries), like Svix's message
// view. The query is in the address (#/deliveries/<id>), so a result can be
// linked to and reloaded.
import * as api from '../api.js';
import { attemptItem, markNewest } from '../attempt-view.js';
import { h, append, field, statusLine } from '../dom.js';

// Delivery ids are dlv_ + 32 hex digits (X-Etl-Webhook-Event-Id); anything else is an event id.
const isDeliveryId = (text) => /^dlv_[0-9a-f]{32}$/.test(text);

export async function render(root, ctx) {
  const wanted = (ctx.params[0] || '').trim();
  const input = h('input', { type: 'search', name: 'q', value: wanted, required: true, autocomplete: 'off', placeholder: 'e-123 or dlv_…' });
  const form = h('form', { class: 'toolbar search', role: 'search', 'aria-label': 'Find a delivery' },
    field('Event id or delivery id', input, { hint: 'The eventId your producer sent, or the X-Etl-Webhook-Event-Id a receiver got.' }),
    h('button', { type: 'submit', class: 'primary', text: 'Find' }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (text) ctx.navigate(`#/deliveries/${api.enc(text)}`);
  });
  const status = statusLine();
  const results = h('div', { class: 'results', 'aria-label': 'Attempts found' });
  append(root, [
    h('div', { class: 'page-head' }, h('h1', { text: 'Find delivery' })),
    h('p', { class: 'muted', text: ctx.tenant
      ? 'Every attempt of an event, or of one delivery, to your webhooks.'
      : 'Every attempt of an event, or of one delivery, to any webhook.' }),
    form, status, results]);
  if (!await api.supports('GET', '/deliveries')) {
    results.append(h('p', { class: 'notice warn', text: 'Finding deliveries is not available on this server (no GET /api/v1/deliveries).' }));
    return;
  }
  if (!wanted) {
    input.focus();
    return;
  }
  const query = isDeliveryId(wanted) ? `deliveryId=${api.enc(wanted)}` : `eventId=${api.enc(wanted)}`;
  const [attempts, webhooks] = await Promise.all([
    api.list(`/deliveries?${query}`),
    api.list('/webhooks').catch(() => []),
  ]);
  const names = new Map(webhooks.map((w) => [w.id, w.name]));
  if (!attempts.length) {
    results.append(h('p', { class: 'empty', text: `No delivery matches “${wanted}”. The search covers each webhook's last 100 attempts.` }));
    return;
  }
  const byWebhook = new Map();
  for (const a of attempts) {
    if (!byWebhook.has(a.webhookId)) byWebhook.set(a.webhookId, []);
    byWebhook.get(a.webhookId).push(a);
  }
  const count = attempts.length === 1 ? '1 attempt' : `${attempts.length} attempts`;
  const hooks = byWebhook.size === 1 ? '1 webhook' : `${byWebhook.size} webhooks`;
  results.append(h('p', { class: 'muted', role: 'status', text: `${count} to ${hooks}, newest first.` }));
  for (const [webhookId, found] of byWebhook) {
    const name = names.get(webhookId) || webhookId;
    const items = found.map((a) => attemptItem(a, ctx, status));
    markNewest(items);
    results.append(h('section', { class: 'card found', 'aria-label': `Attempts to ${name}` },
      h('h2', {}, h('a', { href: `#/webhooks/${api.enc(webhookId)}/events`, text: name }), ' ',
        h('code', { class: 'muted', text: webhookId })),
      items));
  }
}
