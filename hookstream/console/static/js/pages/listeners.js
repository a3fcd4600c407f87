// Listeners (seed 003): the list of inbound endpoints.
import * as api from '../api.js';
import { h, append, button, confirmDialog, notice, statusLine, table } from '../dom.js';

export async function render(root, ctx) {
  const status = statusLine();
  const holder = h('div');
  append(root, [
    h('div', { class: 'page-head' },
      h('h1', { text: 'Listeners' }),
      ctx.canWrite ? h('a', { class: 'button primary', href: '#/listeners/new', text: 'Add listener' }) : null),
    h('p', { class: 'muted', text: 'Public endpoints on the ingress that external senders post to; each accepted request starts the flows of its listener.' }),
    status, holder]);

  async function load() {
    const listeners = await api.list('/listeners');
    holder.replaceChildren(table([
      ['Name', (l) => h('a', { href: `#/listeners/${api.enc(l.id)}`, text: l.name })],
      ['Provider', (l) => l.provider],
      ['Verification', (l) => l.verification?.type || 'none'],
      ['Status', (l) => h('span', { class: `badge ${l.enabled ? 'ok' : 'off'}`, text: l.enabled ? 'enabled' : 'disabled' })],
      ['URL', (l) => h('code', { class: 'url', text: l.url || '' })],
      ['Actions', (l) => h('div', { class: 'actions' },
        h('a', { class: 'button', href: `#/listeners/${api.enc(l.id)}`, 'aria-label': `Open ${l.name}`, text: ctx.canWrite ? 'Edit' : 'Open' }),
        ctx.canWrite ? button('Delete', () => remove(l), { kind: 'danger', label: `Delete ${l.name}` }) : null)],
    ], listeners, { empty: 'No listeners yet.' }));
  }

  async function remove(l) {
    if (!await confirmDialog(`Delete listener “${l.name}”? Senders posting to it get 404 from then on.`, 'Delete')) return;
    try {
      await api.del(`/listeners/${api.enc(l.id)}`);
      notice(status, `Deleted ${l.name}.`, 'ok');
      await load();
    } catch (err) { notice(status, err.message, 'error'); }
  }

  await load();
}
