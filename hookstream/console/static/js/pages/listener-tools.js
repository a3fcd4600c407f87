// A listener's inbound log and its "test with sample data" dry run.
import * as api from '../api.js';
import { h, append, button, field, headersTable, notice, pretty, statusLine, when } from '../dom.js';
import { poll } from '../poll.js';

const REFRESH_MS = 3000;

function verdict(r) {
  const v = r.verification ?? r.verified;
  if (typeof v === 'boolean') return v ? 'verified' : 'not verified';
  if (v && typeof v === 'object') return v.ok === false || v.verified === false ? 'not verified' : (v.result || (v.ok || v.verified ? 'verified' : ''));
  return typeof v === 'string' ? v : '';
}

const keyOf = (r) => `${r.receivedAt || r.at}|${r.requestId || r.id || r.deliveryId || ''}|${r.status}`;

// Links to the flow runs a request started (they appear a moment after it).
function runLinks(r) {
  return (r.flowRuns || []).map((run) => h('a', {
    class: `run badge ${run.status === 'executed' ? 'ok' : 'failed'}`,
    href: `#/flows/${api.enc(run.flowId)}/executions/${api.enc(run.executionId)}`,
    'aria-label': `Flow run: ${run.flowName} ${run.status}`,
    text: `${run.flowName}: ${run.status}`,
  }));
}
const runsKey = (r) => (r.flowRuns || []).map((run) => `${run.executionId}:${run.status}`).join(' ');

export async function inboundLog(listener, ctx) {
  const section = h('section', { class: 'card', 'aria-label': 'Inbound log' }, h('h2', { text: 'Inbound log' }));
  if (!await api.supports('GET', '/listeners/{id}/requests')) {
    section.append(h('p', { class: 'notice warn', text: 'The inbound log is not available on this server (no GET /api/v1/listeners/{id}/requests).' }));
    return section;
  }
  const listEl = h('div', { 'aria-label': 'Inbound requests' });
  const items = new Map();
  async function load() {
    const requests = await api.list(`/listeners/${api.enc(listener.id)}/requests`);
    const order = requests.map((r) => {
      const key = keyOf(r);
      if (!items.has(key)) {
        const ok = r.status >= 200 && r.status < 300;
        const runs = h('span', { class: 'runs' });
        const item = h('details', { class: 'attempt', 'data-status': String(r.status) },
          h('summary', {},
            h('span', { class: `badge ${ok ? 'ok' : 'error'}`, text: String(r.status) }),
            h('code', { class: 'method', text: r.method || '' }),
            h('span', { text: verdict(r) }),
            h('span', { text: r.reason || r.error || '' }),
            runs,
            h('span', { class: 'muted', text: when(r.receivedAt || r.at) }),
            h('code', { class: 'muted', text: r.deliveryId || '' })),
          h('div', { class: 'body' },
            h('h4', { text: 'Headers' }), headersTable(r.headers),
            h('h4', { text: `Body${r.truncated ? ' (cut)' : ''}` }), h('pre', { 'aria-label': 'Inbound body', text: pretty(r.body ?? r.payload) || '(empty)' })));
        item.runs = runs;
        item.runsKey = null;
        items.set(key, item);
      }
      const item = items.get(key);
      if (item.runsKey !== runsKey(r)) {
        item.runsKey = runsKey(r);
        item.runs.replaceChildren(...runLinks(r));
      }
      return item;
    });
    listEl.replaceChildren(...(order.length ? order : [h('p', { class: 'empty', text: 'No requests received yet.' })]));
  }
  append(section, [h('div', { class: 'actions' }, button('Refresh log', () => load())), listEl]);
  await load();
  poll(load, REFRESH_MS, ctx);
  return section;
}

// "Name: value" lines (or a JSON object) → headers object.
export function parseHeaders(text) {
  const trimmed = text.trim();
  if (!trimmed) return {};
  if (trimmed.startsWith('{')) return JSON.parse(trimmed);
  const out = {};
  for (const line of trimmed.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0) out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

export async function sampleTest(listener, ctx) {
  const section = h('section', { class: 'card', 'aria-label': 'Test with sample data' }, h('h2', { text: 'Test with sample data' }));
  if (!await api.supports('POST', '/listeners/{id}/test')) {
    section.append(h('p', { class: 'notice warn', text: 'Dry runs are not available on this server (no POST /api/v1/listeners/{id}/test).' }));
    return section;
  }
  const headers = h('textarea', { name: 'sampleHeaders', rows: 4, placeholder: 'Content-Type: application/json\nX-Hub-Signature-256: sha256=…' });
  const body = h('textarea', { name: 'sampleBody', rows: 6,
    value: listener.sampleData === null || listener.sampleData === undefined ? '' : JSON.stringify(listener.sampleData, null, 2) });
  const urlToken = h('input', { name: 'urlToken', autocomplete: 'off' });
  const tokenField = field('URL token', urlToken, { hint: 'The token at the end of the secret URL (from Generate URL).' });
  tokenField.hidden = listener.verification?.type !== 'secret_url';
  const status = statusLine();
  const result = h('div');
  const run = button('Run test', async () => {
    let parsedHeaders;
    try { parsedHeaders = parseHeaders(headers.value); } catch (exc) {
      notice(status, `Headers: ${exc.message}`, 'error');
      return;
    }
    const sample = { headers: parsedHeaders, body: body.value };
    if (urlToken.value) sample.urlToken = urlToken.value;
    try {
      const answer = await api.post(`/listeners/${api.enc(listener.id)}/test`, sample);
      const verdictText = answer.verified === true ? 'passed' : answer.verified === false ? 'failed' : 'not checked';
      const accepted = answer.status >= 200 && answer.status < 300;
      notice(status, `Verification: ${verdictText}; the ingress would answer ${answer.status}${answer.reason ? ` — ${answer.reason}` : ''}`, accepted ? 'ok' : 'error');
      result.replaceChildren(
        h('h3', { text: 'Parsed JSON' }),
        h('pre', { 'aria-label': 'Parsed JSON', text: answer.payload === undefined || answer.payload === null ? '(none)' : pretty(answer.payload) }));
    } catch (err) { notice(status, `Test failed: ${err.message}`, 'error'); }
  }, { kind: 'primary' });
  append(section, [
    field('Sample headers', headers, { hint: 'One “Name: value” per line, or a JSON object.' }),
    field('Sample body', body),
    tokenField, run, status, result]);
  return section;
}
