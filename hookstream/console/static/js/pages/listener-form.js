// One listener: create/edit with provider presets (the fields follow the
// verification type), Generate URL with copy, the inbound log and a dry run.
import * as api from '../api.js';
import { h, append, button, checkbox, clearErrors, copyText, field, notice, select, showErrors, statusLine } from '../dom.js';
import { flash } from '../flash.js';
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
      // The page is drawn again (its URL section follows the verification type).
      flash(current ? `Listener “${saved.name}” saved.` : `Listener “${saved.name}” created.`);
      if (current) ctx.reload();
      else ctx.navigate(`#/listeners/${api.enc(saved.id)}`);
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

// What the URL section says for each verification type. Only secret_url
// and token have something to generate (POST …/generate-url makes a new
// token); every other type's URL is fixed, so no button is offered.
const URL_HINTS = {
  secret_url: ['Generate URL', (l) => (l.verification?.hasToken
    ? 'The URL ends with a secret token, shown only when it is generated. Generate URL makes a new one; the previous URL stops working.'
    : 'No secret URL yet: Generate URL makes one. Until then, requests are refused.')],
  token: ['Generate token', (l) => (l.verification?.hasToken
    ? `Senders put the token at ${l.verification.path || 'the token path'} of the JSON body; it is shown only when generated. Generate token makes a new one; the previous one stops working.`
    : `No token yet: Generate token makes one, which senders put at ${l.verification.path || 'the token path'} of the JSON body.`)],
};
const FIXED = {
  none: 'Anyone who knows this URL can post to it (no verification).',
  basic: 'Senders authenticate with the username and password (HTTP Basic).',
  hmac: 'Senders sign each request: the HMAC of the body in the header above, with the secret key.',
  stripe: 'Senders sign each request (Stripe-Signature) with the secret.',
  slack: 'Senders sign each request (X-Slack-Signature) with the secret.',
  'standard-webhooks': 'Senders sign each request (webhook-signature) with the secret.',
};

function urlSection(listener, ctx) {
  const type = listener.verification?.type || 'none';
  const url = h('input', { name: 'publicUrl', readOnly: true, value: listener.url || '' });
  const token = h('input', { name: 'urlToken', readOnly: true, value: '' });
  const status = statusLine();
  const copy = (input, what) => async () => {
    const ok = await copyText(input.value, input);
    notice(status, ok ? `${what} copied.` : `Select the ${what.toLowerCase()} and press Ctrl+C to copy it.`, ok ? 'ok' : 'warn');
  };
  const tokenWrap = h('div', { class: 'url-box', hidden: true }, field('Token (shown once)', token), button('Copy token', copy(token, 'Token')));
  const generated = URL_HINTS[type];
  const hint = h('p', { class: 'hint', text: generated ? generated[1](listener) : `This URL does not change: there is nothing to generate. ${FIXED[type] || ''}`.trim() });
  const generate = ctx.canWrite && generated ? button(generated[0], async () => {
    try {
      const answer = await api.post(`/listeners/${api.enc(listener.id)}/generate-url`);
      url.value = answer.url;
      url.classList.add('fresh');
      if (answer.token) { token.value = answer.token; tokenWrap.hidden = false; }
      hint.textContent = generated[1]({ ...listener, verification: { ...listener.verification, hasToken: true } });
      notice(status, type === 'secret_url'
        ? 'New URL generated (copy it now: it is shown only once). The previous URL no longer works.'
        : 'New token generated (copy it now: it is shown only once). The previous token no longer works.', 'ok');
    } catch (err) { notice(status, err.message, 'error'); }
  }, { kind: 'primary' }) : null;
  return h('section', { class: 'card', 'aria-label': 'Public URL' },
    h('h2', { text: 'Public URL & sample data' }),
    h('div', { class: 'url-box' }, field('Public URL', url), button('Copy URL', copy(url, 'URL'))),
    hint, tokenWrap,
    generate ? h('div', { class: 'actions' }, generate) : null, status);
}
