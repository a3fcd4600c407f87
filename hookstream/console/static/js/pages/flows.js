// Flows: the list.
import * as api from '../api.js';
import { h, append, button, confirmDialog, notice, statusLine, table } from '../dom.js';

export async function render(root, ctx) {
  const status = statusLine();
  const holder = h('div');
  append(root, [
    h('div', { class: 'page-head' },
      h('h1', { text: 'Flows' }),
      ctx.canWrite ? h('a', { class: 'button primary', href: '#/flows/new', text: 'Add flow' }) : null),
    h('p', { class: 'muted', text: 'A flow turns the inbound webhooks of one listener into messages on a topic: filter, field mappings, constants.' }),
    status, holder]);
  async function load() {
    const [flows, listeners] = await Promise.all([api.list('/flows'), api.list('/listeners').catch(() => [])]);
    const names = new Map(listeners.map((l) => [l.id, l.name]));
    holder.replaceChildren(table([
      ['Name', (f) => h('a', { href: `#/flows/${api.enc(f.id)}`, text: f.name })],
      ['Listener', (f) => names.get(f.listenerId) || f.listenerId],
      ['Destination', (f) => h('code', { text: f.destinationTopic })],
      ['Status', (f) => h('span', { class: `badge ${f.enabled ? 'ok' : 'off'}`, text: f.enabled ? 'enabled' : 'disabled' })],
      ['Actions', (f) => h('div', { class: 'actions' },
        h('a', { class: 'button', href: `#/flows/${api.enc(f.id)}`, 'aria-label': `Open ${f.name}`, text: ctx.canWrite ? 'Edit' : 'Open' }),
        ctx.canWrite ? button('Delete', () => remove(f), { kind: 'danger', label: `Delete ${f.name}` }) : null)],
    ], flows, { empty: 'No flows yet.' }));
  }
  async function remove(f) {
    if (!await confirmDialog(`Delete flow “${f.name}”?`, 'Delete')) return;
    try {
      await api.del(`/flows/${api.enc(f.id)}`);
      notice(status, `Deleted ${f.name}.`, 'ok');
      await load();
    } catch (err) { notice(status, err.message, 'error'); }
  }
  await load();
}
