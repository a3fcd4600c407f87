// Create or edit a webhook: every field of the API, errors shown at the field.
import * as api from '../api.js';
import { h, append, button, checkbox, field, notice, select, showErrors, clearErrors, statusLine } from '../dom.js';
import { flash } from '../flash.js';
import { rows } from '../rows.js';
import { filterEditor, rateLimitField } from './webhook-filter.js';

export function whsec() {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

export async function render(root, ctx) {
  const id = ctx.params[0];
  const current = id ? await api.get(`/webhooks/${api.enc(id)}`) : null;
  let seenTypes = [];
  try { seenTypes = (await api.list('/event-types')).map((t) => t.eventType).filter(Boolean); } catch { /* free text still works */ }

  const readOnly = !ctx.canWrite;
  const status = statusLine();
  const name = h('input', { name: 'name', value: current?.name || '', required: true });
  const url = h('input', { name: 'url', type: 'url', value: current?.url || '', required: true, placeholder: 'https://example.com/hook' });
  const method = select('method', [['POST'], ['GET']], current?.method || 'POST');
  const contentType = select('contentType', [['application/json'], ['application/x-www-form-urlencoded']], current?.contentType || 'application/json');
  // cloudevents: the body is a structured-mode CloudEvent (a JSON POST), signed like the etl body.
  const payloadFormat = select('payloadFormat', [['etl', 'etl (the event fields)'], ['cloudevents', 'CloudEvents 1.0 (structured mode)']], current?.payloadFormat || 'etl');
  const includeEntity = checkbox('Include entity', { name: 'includeEntity', checked: !!current?.includeEntity });
  const enabled = checkbox('Enabled', { name: 'enabled', checked: current ? current.enabled : true });

  // Events: all, or chosen ones (seen types as checkboxes plus free text).
  const chosen = new Set(current && current.events[0] !== '*' ? current.events : []);
  const allRadio = h('input', { type: 'radio', name: 'eventsMode', id: 'events-all', value: 'all', checked: chosen.size === 0 });
  const someRadio = h('input', { type: 'radio', name: 'eventsMode', id: 'events-some', value: 'some', checked: chosen.size > 0 });
  const typeBoxes = [...new Set([...seenTypes, ...chosen])].sort().map((t) => checkbox(t, { name: `event:${t}`, checked: chosen.has(t) }));
  const others = h('input', { name: 'otherEvents', placeholder: 'order.created, order.paid' });
  const picker = h('div', { class: 'event-picker', hidden: chosen.size === 0 },
    typeBoxes.length ? typeBoxes : h('p', { class: 'hint', text: 'No event types seen yet; type them below.' }),
    field('Other event types (comma-separated)', others));
  const syncPicker = () => { picker.hidden = !someRadio.checked; };
  allRadio.addEventListener('change', syncPicker);
  someRadio.addEventListener('change', syncPicker);
  const events = h('fieldset', { class: 'field', 'data-field': 'events' },
    h('legend', { text: 'Events' }),
    h('p', { class: 'field-error', role: 'alert', hidden: true }),
    h('div', { class: 'check' }, allRadio, h('label', { for: 'events-all', text: 'All events' })),
    h('div', { class: 'check' }, someRadio, h('label', { for: 'events-some', text: 'Select individual events' })),
    picker);

  // The events as chosen now (the filter editor backtests on those).
  const chosenEvents = () => {
    if (allRadio.checked) return ['*'];
    const picked = typeBoxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.name.slice(6));
    const typed = others.value.split(',').map((s) => s.trim()).filter(Boolean);
    return [...new Set([...picked, ...typed])];
  };
  const filter = filterEditor(current, { events: chosenEvents, tenantId: () => current?.tenantId || null });
  const rateLimit = rateLimitField(current);

  // Secret and signature scheme.
  const secret = h('input', { name: 'secret', type: 'text', autocomplete: 'off', placeholder: current?.hasSecret ? 'leave empty to keep the current secret' : '' });
  const removeSecret = current?.hasSecret ? checkbox('Remove the secret', { name: 'removeSecret' }) : null;
  const scheme = select('signatureScheme', [['etl', 'etl (X-Etl-Webhook-Signature, HMAC-SHA1)'], ['standard-webhooks', 'Standard Webhooks (whsec_ secret)']], current?.signatureScheme || 'etl');
  const generate = button('Generate whsec_ secret', () => { secret.value = whsec(); scheme.value = 'standard-webhooks'; });

  // Basic auth.
  const user = h('input', { name: 'username', autocomplete: 'off', value: current?.basicAuth?.username || '' });
  const pass = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', placeholder: current?.basicAuth ? 'leave empty to keep' : '' });
  const removeAuth = current?.basicAuth ? checkbox('Remove basic auth', { name: 'removeBasicAuth' }) : null;

  const headers = rows('Custom headers', 'headers', [['Header name', 'name'], ['Header value', 'value']],
    Object.entries(current?.headers || {}).map(([n, v]) => ({ name: n, value: v })));
  const description = h('textarea', { name: 'description', rows: 3, value: current?.description || '' });
  const concurrency = h('input', { name: 'concurrency', type: 'number', min: 1, max: 1000, value: current?.concurrency ?? '', placeholder: 'server default' });

  const form = h('form', { class: 'card', 'aria-label': current ? 'Edit webhook' : 'New webhook' },
    field('Name', name, { name: 'name' }),
    field('URL', url, { name: 'url' }),
    h('div', { class: 'row' }, field('Method', method, { name: 'method' }), field('Content type', contentType, { name: 'contentType' })),
    field('Payload format', payloadFormat, { name: 'payloadFormat', hint: 'CloudEvents sends application/cloudevents+json (POST, JSON): id = the delivery id, data = the entity.' }),
    includeEntity, enabled, h('div', { class: 'two' }, events, filter.element),
    h('fieldset', { class: 'group' },
      h('legend', { text: 'Signing' }),
      field('Secret', secret, { name: 'secret', hint: current?.hasSecret ? `A secret is set${current.previousSecretExpiresAt ? `; the previous one signs until ${current.previousSecretExpiresAt}` : ''}. A new value rotates it (the old one keeps signing for 24 h).` : 'Set to sign each request.' }),
      removeSecret,
      field('Signature scheme', scheme, { name: 'signatureScheme' }),
      generate),
    h('fieldset', { class: 'group', 'data-field': 'basicAuth' },
      h('legend', { text: 'Basic authentication' }),
      h('div', { class: 'row' }, field('Username', user, { name: 'basicAuth.username' }), field('Password', pass, { name: 'basicAuth.password' })),
      removeAuth),
    headers.element,
    field('Description', description, { name: 'description' }),
    field('Concurrency', concurrency, { name: 'concurrency', hint: 'Most requests in flight to this endpoint at once. Empty: the server default.' }),
    rateLimit.element,
    status,
    h('div', { class: 'actions' },
      readOnly ? null : h('button', { type: 'submit', class: 'primary', text: current ? 'Save webhook' : 'Create webhook' }),
      current ? h('a', { class: 'button', href: `#/webhooks/${api.enc(current.id)}/events`, text: 'View events' }) : null,
      h('a', { class: 'button', href: '#/webhooks', text: 'Back to webhooks' })));
  if (readOnly) for (const el of form.querySelectorAll('input, select, textarea, fieldset button')) el.disabled = true;

  function body() {
    const data = {
      name: name.value, url: url.value, method: method.value, contentType: contentType.value,
      payloadFormat: payloadFormat.value,
      includeEntity: includeEntity.querySelector('input').checked,
      enabled: enabled.querySelector('input').checked,
      signatureScheme: scheme.value, description: description.value,
      headers: Object.fromEntries(headers.values().filter((r) => r.name).map((r) => [r.name, r.value])),
    };
    data.concurrency = concurrency.value === '' ? null : Number(concurrency.value);
    data.events = chosenEvents();
    data.filter = filter.value();
    data.rateLimit = rateLimit.value();
    if (removeSecret?.querySelector('input').checked) data.secret = null;
    else if (secret.value) data.secret = secret.value;
    else if (!current) data.secret = null;
    if (removeAuth?.querySelector('input').checked) data.basicAuth = null;
    else if (user.value && pass.value) data.basicAuth = { username: user.value, password: pass.value };
    // A new username alone: the server keeps the stored password.
    else if (current?.basicAuth && user.value && user.value !== current.basicAuth.username) data.basicAuth = { username: user.value };
    else if (!current && (user.value || pass.value)) data.basicAuth = { username: user.value, password: pass.value };
    return data;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    notice(status, 'Saving…');
    try {
      const saved = current
        ? await api.patch(`/webhooks/${api.enc(current.id)}`, body())
        : await api.post('/webhooks', body());
      // The list is shown next: the confirmation goes with it.
      flash(current ? `Webhook “${saved.name}” saved.` : `Webhook “${saved.name}” created.`);
      ctx.navigate('#/webhooks');
    } catch (err) {
      showErrors(form, err, status);
    }
  });

  append(root, [
    h('div', { class: 'page-head' }, h('h1', { text: current ? `Webhook ${current.name}` : 'New webhook' }),
      current ? h('code', { class: 'muted', text: current.id }) : null),
    current && !current.enabled ? h('p', { class: 'notice warn', text: `Disabled${current.disabledReason ? `: ${current.disabledReason}` : ''}.` }) : null,
    form]);
}
