// Tenants (admins and viewers): the platform's customers. List a page at a
// time, create, open a portal link for one, revoke its links, delete.
import * as api from '../api.js';
import { h, append, button, checkbox, confirmDialog, field, notice, select, showErrors, clearErrors, statusLine, table, when } from '../dom.js';

const PAGE = 50;

function portalDialog(tenant, status) {
  const expires = select('expiresIn', [['3600', '1 hour'], ['86400', '1 day'], ['604800', '7 days']], '86400');
  const readOnly = checkbox('Read-only (the customer can look, not change)', { name: 'readOnly' });
  const out = h('div', { class: 'portal-link', 'aria-live': 'polite' });
  const form = h('form', { class: 'toolbar', 'aria-label': `Portal link for ${tenant.name}` },
    field('Link valid for', expires),
    readOnly,
    h('button', { type: 'submit', class: 'primary', text: 'Create link' }));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const link = await api.post(`/tenants/${api.enc(tenant.id)}/portal`, { expiresIn: Number(expires.value), readOnly: readOnly.querySelector('input').checked });
      // The token rides in the fragment: opening the link sends it to no server.
      out.replaceChildren(
        h('a', { href: link.url, target: '_blank', rel: 'noopener noreferrer', text: 'Open portal' }),
        h('span', { class: 'muted', text: ` (valid until ${when(link.expiresAt)}${link.readOnly ? ', read-only' : ''})` }),
        button('Copy link', async () => {
          await navigator.clipboard.writeText(link.url);
          notice(status, `Portal link for ${tenant.name} copied.`, 'ok');
        }, { label: `Copy portal link of ${tenant.name}` }));
    } catch (err) { notice(status, `Portal link failed: ${err.message}`, 'error'); }
  });
  return h('div', { class: 'card' }, h('h2', { text: `Portal link: ${tenant.name}` }), form, out);
}

export async function render(root, ctx) {
  const status = statusLine();
  const holder = h('div');
  const linkArea = h('div');
  const more = button('Load more', () => load(next).catch((e) => notice(status, e.message, 'error')));
  more.hidden = true;
  let next = null;
  let shown = [];

  const id = h('input', { name: 'tenantId', required: true, placeholder: 'your customer id, e.g. cus_42', pattern: '[A-Za-z0-9._:\\-]{1,128}' });
  const name = h('input', { name: 'name', required: true });
  const create = ctx.canWrite ? h('form', { class: 'card', 'aria-label': 'New tenant' },
    h('h2', { text: 'New tenant' }),
    h('div', { class: 'row' },
      field('Tenant id', id, { name: 'tenantId', hint: 'Your own customer id: 1 to 128 letters, digits and . _ : -' }),
      field('Name', name, { name: 'name' })),
    h('button', { type: 'submit', class: 'primary', text: 'Create tenant' })) : null;
  create?.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(create);
    try {
      const tenant = await api.put(`/tenants/${api.enc(id.value.trim())}`, { name: name.value });
      notice(status, `Tenant ${tenant.name} saved.`, 'ok');
      id.value = '';
      name.value = '';
      await load();
    } catch (err) { showErrors(create, err, status); }
  });

  append(root, [
    h('div', { class: 'page-head' }, h('h1', { text: 'Tenants' })),
    h('p', { class: 'muted', text: 'Each tenant is one of your customers, with its own webhooks. A portal link lets the customer manage them in this console, and nothing else.' }),
    create, status, linkArea, holder, more]);

  function render_() {
    holder.replaceChildren(table([
      ['Id', (t) => h('code', { text: t.id })],
      ['Name', (t) => t.name],
      ['Created', (t) => when(t.createdAt)],
      ['Links revoked', (t) => (t.portalRevokedAt ? when(t.portalRevokedAt) : '—')],
      ['Actions', (t) => h('div', { class: 'actions' },
        ctx.canWrite ? [
          button('Portal link', () => { linkArea.replaceChildren(portalDialog(t, status)); }, { label: `Portal link for ${t.name}` }),
          button('Revoke links', () => revoke(t), { label: `Revoke portal links of ${t.name}` }),
          button('Delete', () => remove(t), { kind: 'danger', label: `Delete tenant ${t.name}` }),
        ] : null)],
    ], shown, { empty: 'No tenants yet.' }));
  }

  async function load(cursor = null) {
    const query = `?limit=${PAGE}${cursor ? `&cursor=${api.enc(cursor)}` : ''}`;
    const answer = await api.get(`/tenants${query}`);
    shown = cursor ? [...shown, ...(answer.data || [])] : (answer.data || []);
    next = answer.nextCursor || null;
    more.hidden = !next;
    render_();
  }

  async function revoke(t) {
    if (!await confirmDialog(`Revoke every portal link of “${t.name}” issued until now?`, 'Revoke')) return;
    try {
      await api.post(`/tenants/${api.enc(t.id)}/portal/revoke`);
      notice(status, `Portal links of ${t.name} revoked.`, 'ok');
      await load();
    } catch (err) { notice(status, err.message, 'error'); }
  }

  async function remove(t) {
    if (!await confirmDialog(`Delete tenant “${t.name}” and all its webhooks?`, 'Delete')) return;
    try {
      await api.del(`/tenants/${api.enc(t.id)}`);
      notice(status, `Deleted ${t.name}.`, 'ok');
      await load();
    } catch (err) { notice(status, err.message, 'error'); }
  }

  await load();
}
