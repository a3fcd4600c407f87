// Send event: publish a test event through POST /api/v1/events.
import * as api from '../api.js';
import { h, append, field, notice, showErrors, clearErrors, statusLine } from '../dom.js';

export async function render(root, ctx) {
  append(root, [h('h1', { text: 'Send event' })]);
  if (!await api.supports('POST', '/events')) {
    append(root, [h('p', { class: 'notice warn', role: 'status', text: 'Publishing events is not available on this server (it has no POST /api/v1/events). Produce to an events.* topic with a Kafka client instead.' })]);
    return;
  }
  if (!ctx.canPublish) {
    append(root, [h('p', { class: 'notice warn', role: 'status', text: `Your role (${ctx.role}) may not publish events; an admin or publisher token can.` })]);
    return;
  }
  let types = [];
  try { types = (await api.list('/event-types')).map((t) => t.eventType).filter(Boolean); } catch { /* free text */ }
  const eventType = h('input', { name: 'eventType', required: true, list: 'known-types', placeholder: 'order.created' });
  const known = h('datalist', { id: 'known-types' }, types.map((t) => h('option', { value: t })));
  const entityId = h('input', { name: 'entityId', required: true, placeholder: '42' });
  const entity = h('textarea', { name: 'entity', rows: 6, placeholder: '{"id": 42, "total": 9.5}' });
  const eventId = h('input', { name: 'eventId', placeholder: 'generated when empty' });
  const topic = h('input', { name: 'topic', placeholder: 'events.api' });
  const status = statusLine();
  const result = h('div');
  const form = h('form', { class: 'card', 'aria-label': 'Send event' },
    h('div', { class: 'row' }, field('Event type', eventType, { name: 'eventType' }), field('Entity ID', entityId, { name: 'entityId' })),
    known,
    field('Entity (JSON, optional)', entity, { name: 'entity' }),
    h('div', { class: 'row' }, field('Event ID (optional)', eventId, { name: 'eventId' }), field('Topic (optional)', topic, { name: 'topic', hint: 'Default events.api; must match the event-topic pattern.' })),
    status,
    h('button', { type: 'submit', class: 'primary', text: 'Send event' }));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const body = { eventType: eventType.value.trim(), entityId: entityId.value.trim() };
    if (entity.value.trim()) {
      try { body.entity = JSON.parse(entity.value); } catch (exc) {
        showErrors(form, { details: [{ field: 'entity', message: `not valid JSON: ${exc.message}` }] }, status);
        return;
      }
    }
    if (eventId.value.trim()) body.eventId = eventId.value.trim();
    if (topic.value.trim()) body.topic = topic.value.trim();
    notice(status, 'Publishing…');
    try {
      const ack = await api.post('/events', body);
      notice(status, `Published event ${ack.eventId} to ${ack.topic} (partition ${ack.partition}, offset ${ack.offset}).`, 'ok');
      result.replaceChildren(h('pre', { 'aria-label': 'Publish result', text: JSON.stringify(ack, null, 2) }));
    } catch (err) {
      // A single event's 422 names the field at the start of its message.
      const named = /^(eventType|entityId|eventId|entity|topic)\b/.exec(err.message || '');
      const details = err.details || (named ? [{ field: named[1], message: err.message }] : undefined);
      showErrors(form, { details, message: err.message }, status);
    }
  });
  append(root, [form, result]);
}
