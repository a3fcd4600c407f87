// The webhook form's filter editor (beside the event picker) and its
// rate-limit field. A filter is tried before it is saved: on a sample event
// (POST /filters/test) or on the newest real traffic (POST /filters/backtest).
import * as api from '../api.js';
import { h, append, button, clear, field, notice, pretty, statusLine } from '../dom.js';

const SAMPLE = {
  eventId: 'e-123', eventType: 'order.created', entityId: '42',
  entity: { id: 42, total: 129.5, status: 'paid', tags: ['vip'] },
  entityUrl: 'https://shop.example/orders/42', timestamp: '2026-11-23T10:00:00Z',
};

// A filter that is not JSON reads like a server validation error, so the
// form shows it at the field.
function invalid(fieldName, message) {
  const err = new Error(message);
  err.details = [{ field: fieldName, message }];
  return err;
}

function parse(textarea, fieldName) {
  const text = textarea.value.trim();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch (exc) {
    throw invalid(fieldName, `not JSON: ${exc.message}`);
  }
}

// `events()` and `tenantId()` give the form's current choices (backtests
// look at the traffic this webhook would receive).
export function filterEditor(current, { events, tenantId }) {
  const text = h('textarea', {
    name: 'filter', rows: 5, spellcheck: false, 'aria-label': 'Filter (JSON)',
    placeholder: '{"entity": {"total": {"$gte": 100}}}',
    value: current?.filter ? JSON.stringify(current.filter, null, 2) : '',
  });
  const sample = h('textarea', { name: 'filterSample', rows: 8, spellcheck: false, value: JSON.stringify(SAMPLE, null, 2) });
  const status = statusLine();
  const examples = h('div', { class: 'filter-examples', 'aria-label': 'Matching recent events' });
  const errorEl = h('p', { class: 'field-error', role: 'alert', hidden: true });

  async function attempt(work) {
    errorEl.hidden = true;
    clear(examples);
    try {
      await work();
    } catch (err) {
      const message = err.details?.[0] ? `${err.details[0].field}: ${err.details[0].message}` : err.message;
      notice(status, message, 'error');
    }
  }

  const testSample = button('Test on a sample', () => attempt(async () => {
    const filter = parse(text, 'filter') || {};
    const event = parse(sample, 'sample') || {};
    const { matches } = await api.post('/filters/test', { filter, event });
    notice(status, matches ? 'The sample matches: it would be delivered.' : 'The sample does not match: it would not be delivered.', matches ? 'ok' : 'warn');
  }));
  const tryRecent = button('Try on recent traffic', () => attempt(async () => {
    notice(status, 'Reading recent events…');
    const filter = parse(text, 'filter') || {};
    const body = { filter, events: events(), limit: 1000 };
    if (tenantId()) body.tenantId = tenantId();
    const result = await api.post('/filters/backtest', body);
    notice(status, `Matched ${result.matched} of ${result.scanned} recent events.`, result.matched ? 'ok' : 'warn');
    if (!result.examples.length) {
      examples.append(h('p', { class: 'empty', text: result.scanned ? 'No recent event matches this filter.' : 'No recent events of these types to try it on.' }));
    }
    append(examples, result.examples.map((e) => h('details', { class: 'example' },
      h('summary', {}, h('code', { text: e.eventId }), ` ${e.eventType} `, h('span', { class: 'muted', text: e.timestamp })),
      h('pre', { text: pretty(e) }))));
  }));

  const element = h('fieldset', { class: 'group', 'data-field': 'filter' },
    h('legend', { text: 'Filter (optional)' }),
    h('p', { class: 'hint', text: 'Deliver only events this JSON matches: fields of the event (eventType, entity, tenantId, …), a value for equal, or operators $eq $neq $gt $gte $lt $lte $in $nin $startsWith $endsWith $exist, $and $or $not. Empty: every event.' }),
    errorEl, text,
    h('details', {}, h('summary', { text: 'Sample event' }), sample),
    h('div', { class: 'actions' }, testSample, tryRecent),
    status, examples);
  return { element, value: () => parse(text, 'filter') };
}

export function rateLimitField(current) {
  const requests = h('input', { name: 'rateLimit.requests', type: 'number', min: 1, max: 100000, value: current?.rateLimit?.requests ?? '', placeholder: 'no limit' });
  const perSeconds = h('input', { name: 'rateLimit.perSeconds', type: 'number', min: 0.001, step: 'any', value: current?.rateLimit?.perSeconds ?? 1 });
  const element = h('fieldset', { class: 'group', 'data-field': 'rateLimit' },
    h('legend', { text: 'Rate limit (optional)' }),
    h('p', { class: 'field-error', role: 'alert', hidden: true }),
    h('div', { class: 'row' },
      field('Requests', requests, { name: 'rateLimit.requests' }),
      field('Per seconds', perSeconds, { name: 'rateLimit.perSeconds', hint: 'At most this many attempts (retries included) start in any such window; the rest wait.' })));
  const value = () => (requests.value === '' ? null : { requests: Number(requests.value), perSeconds: Number(perSeconds.value || 1) });
  return { element, value };
}
