// One flow: editor for filter, mappings and constants, a "test on sample"
// preview (POST /api/v1/flows/test, writes nothing) and the executions list.
import * as api from '../api.js';
import { h, append, button, checkbox, clearErrors, field, notice, pretty, select, showErrors, statusLine, table, when } from '../dom.js';
import { flash } from '../flash.js';
import { poll } from '../poll.js';
import { rows } from '../rows.js';

const REFRESH_MS = 3000;

function parseValue(text) {
  try { return JSON.parse(text); } catch { return text; }
}

export async function render(root, ctx) {
  const id = ctx.params[0];
  const [current, listeners] = await Promise.all([
    id ? api.get(`/flows/${api.enc(id)}`) : null,
    api.list('/listeners').catch(() => []),
  ]);
  const status = statusLine();
  const name = h('input', { name: 'name', value: current?.name || '', required: true });
  const description = h('textarea', { name: 'description', rows: 2, value: current?.description || '' });
  const listener = select('listenerId', [['', '— choose a listener —'], ...listeners.map((l) => [l.id, `${l.name} (${l.id})`])], current?.listenerId || '');
  const topic = h('input', { name: 'destinationTopic', value: current?.destinationTopic || '', placeholder: 'orders.inbound' });
  const filter = h('input', { name: 'filter', value: current?.filter || '', placeholder: "payload.status != 'draft'" });
  const mappings = rows('Mappings', 'mappings', [['To', 'to'], ['From', 'from']], current?.mappings || []);
  const constants = rows('Constants', 'constants', [['To', 'to'], ['Value (JSON or text)', 'value']],
    (current?.constants || []).map((c) => ({ to: c.to, value: typeof c.value === 'string' ? c.value : JSON.stringify(c.value) })));
  const enabled = checkbox('Enabled', { name: 'enabled', checked: current ? current.enabled : true });

  function spec() {
    return {
      name: name.value, description: description.value, listenerId: listener.value,
      destinationTopic: topic.value.trim(), filter: filter.value.trim() || null,
      mappings: mappings.values(),
      constants: constants.values().map((c) => ({ to: c.to, value: parseValue(c.value) })),
      enabled: enabled.querySelector('input').checked,
    };
  }

  const form = h('form', { class: 'card', 'aria-label': current ? 'Edit flow' : 'New flow' },
    field('Name', name, { name: 'name' }),
    field('Description', description, { name: 'description' }),
    h('div', { class: 'row' }, field('Listener', listener, { name: 'listenerId' }), field('Destination topic', topic, { name: 'destinationTopic' })),
    field('Filter (JMESPath)', filter, { name: 'filter', hint: 'Over {payload, headers, listenerId, deliveryId, receivedAt}; a falsy result skips the message.' }),
    mappings.element, constants.element, enabled, status,
    h('div', { class: 'actions' },
      ctx.canWrite ? h('button', { type: 'submit', class: 'primary', text: current ? 'Save flow' : 'Create flow' }) : null,
      h('a', { class: 'button', href: '#/flows', text: 'Back to flows' })));
  if (!ctx.canWrite) for (const el of form.querySelectorAll('input, select, textarea, button')) el.disabled = true;

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    notice(status, 'Saving…');
    try {
      const saved = current ? await api.put(`/flows/${api.enc(current.id)}`, spec()) : await api.post('/flows', spec());
      if (current) {
        notice(status, `Flow “${saved.name}” saved.`, 'ok');
      } else {
        flash(`Flow “${saved.name}” created.`);
        ctx.navigate(`#/flows/${api.enc(saved.id)}`);
      }
    } catch (err) { showErrors(form, err, status); }
  });

  append(root, [
    h('div', { class: 'page-head' }, h('h1', { text: current ? `Flow ${current.name}` : 'New flow' }),
      current ? h('code', { class: 'muted', text: current.id }) : null),
    form, await preview(spec, listeners, listener, form)]);
  if (current) root.append(await executions(current, ctx));
}

async function preview(spec, listeners, listenerSelect, form) {
  const section = h('section', { class: 'card', 'aria-label': 'Test on sample' }, h('h2', { text: 'Test on sample' }));
  if (!await api.supports('POST', '/flows/test')) {
    section.append(h('p', { class: 'notice warn', text: 'Previews are not available on this server (no POST /api/v1/flows/test).' }));
    return section;
  }
  const sampleOf = (lid) => listeners.find((l) => l.id === lid)?.sampleData;
  const initial = sampleOf(listenerSelect.value);
  const payload = h('textarea', { name: 'samplePayload', rows: 8, value: initial === undefined || initial === null ? '' : JSON.stringify(initial, null, 2) });
  listenerSelect.addEventListener('change', () => {
    const s = sampleOf(listenerSelect.value);
    if (!payload.value.trim() && s !== undefined && s !== null) payload.value = JSON.stringify(s, null, 2);
  });
  const status = statusLine();
  const output = h('div');
  const run = button('Test on sample', async () => {
    let sample;
    try { sample = JSON.parse(payload.value || 'null'); } catch (exc) {
      notice(status, `Sample payload is not JSON: ${exc.message}`, 'error');
      return;
    }
    const flow = spec();
    if (!flow.listenerId) delete flow.listenerId;
    clearErrors(form);
    try {
      const answer = await api.post('/flows/test', { flow, trigger: { payload: sample, headers: {} } });
      const kind = answer.status === 'executed' ? 'ok' : answer.status === 'skipped' ? 'warn' : 'error';
      const why = answer.status === 'skipped' ? ' — the filter is false for this sample' : (answer.error ? ` — ${answer.error}` : '');
      notice(status, `Result: ${answer.status}${why}`, kind);
      output.replaceChildren(h('h3', { text: `Output message${answer.destinationTopic ? ` (to ${answer.destinationTopic})` : ''}` }),
        h('pre', { 'aria-label': 'Flow output', text: answer.output === null || answer.output === undefined ? '(none)' : pretty(answer.output) }));
    } catch (err) {
      // Errors name fields of the flow under test ("flow.filter"): show them on the form.
      const details = (err.details || []).map((d) => ({ ...d, field: String(d.field || '').replace(/^flow\.?/, '') }));
      showErrors(form, { details, message: err.message }, status);
    }
  }, { kind: 'primary' });
  append(section, [field('Sample trigger payload (JSON)', payload), run, status, output]);
  return section;
}

// The flow's runs, newest first, refreshed while the page is shown. An
// inbound log row links to its run (#/flows/<id>/executions/<eventId>): that
// run is marked and opened.
async function executions(flow, ctx) {
  const chosen = ctx.params[1];
  const holder = h('div');
  const updated = h('p', { class: 'hint', text: `Refreshes every ${REFRESH_MS / 1000} s.` });
  const open = new Set(chosen ? [chosen] : []);
  const row = (e) => {
    const details = h('details', { open: open.has(e.eventId) },
      h('summary', { text: e.entity?.error || 'entity' }), h('pre', { text: pretty(e.entity) }));
    details.addEventListener('toggle', () => { if (details.open) open.add(e.eventId); else open.delete(e.eventId); });
    return details;
  };
  let shown = null;
  async function load() {
    const list = await api.list(`/flows/${api.enc(flow.id)}/executions`);
    const seen = list.map((e) => e.eventId).join(' ');
    if (seen !== shown) {
      shown = seen;
      holder.replaceChildren(table([
        ['When', (e) => when(e.timestamp)],
        ['Result', (e) => h('span', { class: `badge ${e.eventType === 'flow.executed' ? 'ok' : 'failed'}`, text: e.eventType })],
        ['Inbound delivery', (e) => h('code', { text: e.entity?.triggerDeliveryId || '' })],
        ['Details', row],
      ], list, { empty: 'No executions yet.' }));
      for (const tr of holder.querySelectorAll('tbody tr')) {
        const index = [...tr.parentElement.children].indexOf(tr);
        if (list[index]?.eventId === chosen) {
          tr.classList.add('chosen');
          tr.setAttribute('aria-current', 'true');
        }
      }
    }
  }
  await load();
  poll(load, REFRESH_MS, ctx);
  const section = h('section', { class: 'card', 'aria-label': 'Executions' }, h('h2', { text: 'Executions' }), holder, updated);
  if (chosen) requestAnimationFrame(() => section.querySelector('tr.chosen')?.scrollIntoView({ block: 'center' }));
  return section;
}
