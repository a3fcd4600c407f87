// One listener: create/edit with provider presets (the fields follow the
// verification type), Generate URL with copy, the inbound log and a dry run.
import * as api from '../api.js';
import { h, append, button, checkbox, clearErrors, copyText, field, notice, select, showErrors, statusLine } from '../dom.js';
import { inboundLog, sampleTest } from './listener-tools.js';

const PROVIDERS = ['custom', 'github', 'stripe', 'shopify', 'slack', 'standard-webhooks'];
const PRESETS = {
  github: { type: 'hmac', algorithm: 'sha256', encoding: 'hex', header: 'X-Hub-Signature-256' },
  shopify: { type: 'hmac', algorithm: 'sha256', encoding: 'base64', header: 'X-Shopify-Hmac-Sha256' },
  stripe: { type: 'stripe', header: 'Stripe-Signature' },
  slack: { type: 'slack', header: 'X-Slack-Signature' },
  'standard-webhooks': { type: 'standard-webhooks', header: 'webhook-signature' },
};
const TYPES = [['none', 'None'], ['basic', 'Basic'], ['hmac', 'HMAC'], ['secret_url', 'Secret URL'], ['token', 'Token'],
  ['stripe', 'Stripe signature'], ['slack', 'Slack signature'], ['standard-webhooks', 'Standard Webhooks']];
// Which inputs each verification type uses.
const FIELDS = {
  none: [], basic: ['username', 'password'], hmac: ['algorithm', 'encoding', 'header', 'secret'],
  secret_url: [], token: ['path'], stripe: ['secret', 'toleranceSeconds'], slack: ['secret', 'toleranceSeconds'],
  'standard-webhooks': ['secret', 'toleranceSeconds'],
};
const WRITE_ONLY = { password: 'hasPassword', secret: 'hasSecret' };

export async function render(root, ctx) {
  const id = ctx.params[0];
  const current = id ? await api.get(`/listeners/${api.enc(id)}`) : null;
  const v = current?.verification || {};
  const status = statusLine();

  const name = h('input', { name: 'name', value: current?.name || '', required: true });
  const description = h('textarea', { name: 'description', rows: 2, value: current?.description || '' });
  const provider = select('provider', PROVIDERS.map((p) => [p]), current?.provider || 'custom');
  const type = select('verification.type', TYPES, v.type || 'none');
  const inputs = {
    username: h('input', { name: 'username', value: v.username || '', autocomplete: 'off' }),
    password: h('input', { name: 'password', type: 'password', autocomplete: 'new-password', placeholder: v.hasPassword ? 'leave empty to keep' : '' }),
    algorithm: select('algorithm', [['sha1', 'SHA-1'], ['sha256', 'SHA-256']], v.algorithm || 'sha256'),
    encoding: select('encoding', [['hex', 'Hexadecimal'], ['base64', 'Base64']], v.encoding || 'hex'),
    header: h('input', { name: 'header', value: v.header || '' }),
    secret: h('input', { name: 'secret', autocomplete: 'off', placeholder: v.hasSecret ? 'leave empty to keep' : '' }),
    path: h('input', { name: 'path', value: v.path || '', placeholder: 'myAuth.token' }),
    toleranceSeconds: h('input', { name: 'toleranceSeconds', type: 'number', min: 1, value: String(v.toleranceSeconds || 300) }),
  };
  const labels = { username: 'Username', password: 'Password', algorithm: 'Algorithm', encoding: 'Encoding', header: 'Header (containing the HMAC)', secret: 'Secret key', path: 'Token path in the body', toleranceSeconds: 'Tolerance (seconds)' };
  const wraps = Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, field(labels[k], el, { name: `verification.${k}` })]));
  const typeHint = h('p', { class: 'hint' });
  const sync = () => {
    const used = FIELDS[type.value] || [];
    for (const [k, wrap] of Object.entries(wraps)) wrap.hidden = !used.includes(k);
    typeHint.textContent = type.value === 'secret_url' ? 'Generate URL creates the secret token that ends the URL.'
      : type.value === 'token' ? 'Generate URL creates the token senders put at this path of the JSON body.' : '';
  };
  provider.addEventListener('change', () => {
    const preset = PRESETS[provider.value];
    if (preset) {
      type.value = preset.type;
      for (const [k, val] of Object.entries(preset)) if (inputs[k]) inputs[k].value = val;
    }
    sync();
  });
  type.addEventListener('change', sync);
  sync();

  const sample = h('textarea', { name: 'sampleData', rows: 6, placeholder: '{"order": {"id": 1}}  or  <order><id>1</id></order>',
    value: current?.sampleData === null || current?.sampleData === undefined ? '' : JSON.stringify(current.sampleData, null, 2) });
  const enabled = checkbox('Enabled', { name: 'enabled', checked: current ? current.enabled : true });

  const form = h('form', { class: 'card', 'aria-label': current ? 'Edit listener' : 'New listener' },
    field('Name', name, { name: 'name' }),
    field('Description', description, { name: 'description' }),
    h('fieldset', { class: 'group', 'data-field': 'verification' },
      h('legend', { text: 'Security' }),
      h('p', { class: 'field-error', role: 'alert', hidden: true }),
      h('div', { class: 'row' }, field('Provider', provider, { name: 'provider' }), field('Verification type', type, { name: 'verification.type' })),
      typeHint,
      Object.values(wraps)),
    field('Sample data (JSON or XML)', sample, { name: 'sampleData' }),
    enabled, status,
    h('div', { class: 'actions' },
      ctx.canWrite ? h('button', { type: 'submit', class: 'primary', text: current ? 'Save listener' : 'Create listener' }) : null,
      h('a', { class: 'button', href: '#/listeners', text: 'Back to listeners' })));
  if (!ctx.canWrite) for (const el of form.querySelectorAll('input, select, textarea')) el.disabled = true;

  function body() {
    const verification = { type: type.value };
    for (const k of FIELDS[type.value] || []) {
      const value = inputs[k].value;
      if (WRITE_ONLY[k] && !value) continue; // kept by the server
      verification[k] = k === 'toleranceSeconds' ? Number(value) : value;
    }
    let sampleData = null;
    const text = sample.value.trim();
    if (text) { try { sampleData = JSON.parse(text); } catch { sampleData = text; } }
    return { name: name.value, description: description.value, provider: provider.value, verification, sampleData, enabled: enabled.querySelector('input').checked };
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    notice(status, 'Saving…');
    try {
      const saved = current
        ? await api.put(`/listeners/${api.enc(current.id)}`, body())
        : await api.post('/listeners', body());
      notice(status, `Saved ${saved.name}.`, 'ok');
      if (!current) ctx.navigate(`#/listeners/${api.enc(saved.id)}`);
    } catch (err) { showErrors(form, err, status); }
  });

  append(root, [
    h('div', { class: 'page-head' }, h('h1', { text: current ? `Listener ${current.name}` : 'New listener' }),
      current ? h('code', { class: 'muted', text: current.id }) : null),
    form]);
  if (current) {
    root.append(urlSection(current, ctx));
    root.append(await sampleTest(current, ctx));
    root.append(await inboundLog(current, ctx));
  }
}

function urlSection(listener, ctx) {
  const url = h('input', { name: 'publicUrl', readOnly: true, value: listener.url || '' });
  const token = h('input', { name: 'urlToken', readOnly: true, value: '' });
  const status = statusLine();
  const copy = (input, what) => async () => {
    const ok = await copyText(input.value, input);
    notice(status, ok ? `${what} copied.` : `Select the ${what.toLowerCase()} and press Ctrl+C to copy it.`, ok ? 'ok' : 'warn');
  };
  const tokenWrap = h('div', { class: 'url-box', hidden: true }, field('Token (shown once)', token), button('Copy token', copy(token, 'Token')));
  const generate = ctx.canWrite ? button('Generate URL', async () => {
    try {
      const answer = await api.post(`/listeners/${api.enc(listener.id)}/generate-url`);
      url.value = answer.url;
      if (answer.token) { token.value = answer.token; tokenWrap.hidden = false; }
      notice(status, answer.token ? 'New URL token generated; the previous one no longer works.' : 'URL generated.', 'ok');
    } catch (err) { notice(status, err.message, 'error'); }
  }, { kind: 'primary' }) : null;
  return h('section', { class: 'card', 'aria-label': 'Public URL' },
    h('h2', { text: 'Public URL & sample data' }),
    h('div', { class: 'url-box' }, field('Public URL', url), button('Copy URL', copy(url, 'URL'))),
    tokenWrap,
    h('div', { class: 'actions' }, generate), status);
}
