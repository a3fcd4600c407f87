// One delivery attempt as View events and Find delivery show it: a summary
// line (outcome, a plain-words reason, attempt number, what triggered it,
// the next attempt), expanding to the request and response; the raw error
// kept behind "Technical detail".
import * as api from './api.js';
import { h, button, headersTable, notice, pretty, when } from './dom.js';

// Why a delivery was made (the log's `trigger`): every kind but a routed
// event restarts at attempt 1, so it is marked.
const TRIGGERS = {
  redelivery: ['manual redelivery', 'Sent again by hand (Redeliver): the same delivery id, counted from attempt 1 again.'],
  recovery: ['recovered', 'A dead letter sent again by "Recover": the same delivery id, counted from attempt 1 again.'],
  replay: ['replay', 'Delivered again by a replay of past events: the same delivery id, counted from attempt 1 again.'],
  ping: ['ping', 'A test event sent with Ping; never retried.'],
};

const hostOf = (a) => {
  try { return new URL(a.request?.url).host; } catch { return ''; }
};

// The failure in plain words; the raw error stays available beside it.
export function humanError(a) {
  const raw = a.error || '';
  const host = hostOf(a) || 'the endpoint';
  switch (a.outcome) {
    case 'success': return '';
    case 'http_error': return a.response?.status || a.status ? `Answered HTTP ${a.response?.status || a.status}` : 'Answered with an error';
    case 'timeout': return `No answer from ${host} within the delivery timeout`;
    case 'refused': return `Not sent: ${host} is an address webhooks may not be sent to`;
    case 'connection_error':
      if (/name or service not known|nodename nor servname|name resolution|no address associated|getaddrinfo|DNS/i.test(raw)) {
        return `The host name of ${host} could not be resolved`;
      }
      if (/certificate|SSLError|SSLCert|handshake|TLSV/i.test(raw)) return `The secure connection (TLS) to ${host} failed`;
      if (/disconnect|reset by peer|connection reset|broken pipe/i.test(raw)) return `${host} closed the connection without answering`;
      return `Could not connect to ${host}`;
    default: return raw ? 'Failed' : '';
  }
}

export function triggerBadge(trigger) {
  const known = TRIGGERS[trigger];
  if (!known) return null;
  return h('span', { class: 'badge manual', title: known[1], text: known[0] });
}

function requestView(req) {
  if (!req) return h('p', { class: 'empty', text: 'No request recorded.' });
  const type = Object.entries(req.headers || {}).find(([name]) => name.toLowerCase() === 'content-type')?.[1] || '';
  const title = type.toLowerCase().startsWith('application/cloudevents+json') ? 'Request body: CloudEvent (structured mode)' : 'Request body';
  return h('div', { class: 'request' },
    h('p', {}, h('code', { class: 'url', text: `${req.method} ${req.url}` })),
    h('h4', { text: 'Request headers' }), headersTable(req.headers),
    h('h4', { text: title }), h('pre', { 'aria-label': 'Request body', text: pretty(req.body) || '(empty)' }));
}

function responseView(res) {
  if (!res) return h('p', { class: 'empty', text: 'No response.' });
  return h('div', { class: 'response' },
    h('p', {}, h('code', { text: `HTTP ${res.status}` })),
    h('h4', { text: 'Response headers' }), headersTable(res.headers),
    h('h4', { text: 'Response body' }), h('pre', { 'aria-label': 'Response body', text: pretty(res.body) || '(empty)' }));
}

// What follows a failed attempt. `.next-step` is shown on a delivery's
// newest attempt only (the page hides it on the others: they were retried).
function nextStep(a) {
  if (a.nextAttemptAt) return h('span', { class: 'next-step', text: `next attempt ${when(a.nextAttemptAt)}` });
  if (a.deadLetterReason) return h('span', { class: 'next-step final', text: 'no more attempts' });
  return null;
}

// `status` is the page's status line (redeliver reports there).
export function attemptItem(a, ctx, status) {
  const redeliver = ctx.canWrite ? button('Redeliver', async () => {
    try {
      await api.post(`/webhooks/${api.enc(a.webhookId)}/events/${api.enc(a.deliveryId)}/redeliver`);
      notice(status, `Redelivery of ${a.deliveryId} queued.`, 'ok');
    } catch (err) { notice(status, `Redeliver failed: ${err.message}`, 'error'); }
  }, { label: `Redeliver ${a.deliveryId}` }) : null;
  const problem = humanError(a);
  return h('details', { class: 'attempt', 'data-outcome': a.outcome, 'data-delivery': a.deliveryId, 'data-trigger': a.trigger || 'event' },
    h('summary', {},
      h('span', { class: `badge ${a.outcome}`, text: a.outcome }),
      problem ? h('span', { class: 'problem', text: problem }) : h('span', { text: a.response ? `HTTP ${a.response.status}` : '' }),
      h('strong', { text: a.eventType || '' }),
      h('span', { class: 'muted', text: `attempt ${a.attempt}` }),
      triggerBadge(a.trigger),
      nextStep(a),
      h('span', { class: 'muted', text: when(a.at) }),
      h('span', { class: 'muted', text: a.durationMs !== undefined ? `${a.durationMs} ms` : '' }),
      h('code', { class: 'muted', text: a.deliveryId })),
    h('div', { class: 'body' },
      h('p', {}, 'Event ', h('code', { text: a.eventId || '' }), ' ',
        h('a', { href: `#/deliveries/${api.enc(a.eventId || '')}`, text: 'find it in every webhook' })),
      a.deadLetterReason ? h('p', { class: 'notice warn', text: `No more attempts: ${a.deadLetterReason}.` }) : null,
      a.error ? h('details', { class: 'raw-error' }, h('summary', { text: 'Technical detail' }), h('code', { text: a.error })) : null,
      h('div', { class: 'two' },
        h('section', { 'aria-label': 'Request' }, h('h3', { text: 'Request' }), requestView(a.request)),
        h('section', { 'aria-label': 'Response' }, h('h3', { text: 'Response' }), responseView(a.response))),
      h('div', { class: 'actions' }, redeliver)));
}

// Show `.next-step` only on each delivery's newest attempt (items newest first).
export function markNewest(items) {
  const seen = new Set();
  for (const el of items) {
    const step = el.querySelector?.(':scope > summary > .next-step');
    const delivery = el.dataset?.delivery;
    if (step) step.hidden = seen.has(delivery);
    if (delivery) seen.add(delivery);
  }
}
