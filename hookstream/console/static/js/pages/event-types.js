// Event types: what has been seen, so what a webhook may subscribe to.
import * as api from '../api.js';
import { h, append, table, when } from '../dom.js';

export async function render(root, ctx) {
  const types = await api.list('/event-types');
  append(root, [
    h('div', { class: 'page-head' }, h('h1', { text: 'Event types' })),
    h('p', { class: 'muted', text: 'The event types sent so far. A webhook subscribes to some of them, or to all (“*”), new ones included.' }),
    table([
      ['Event type', (t) => h('code', { text: t.eventType })],
      ['First seen', (t) => (t.firstSeenAt ? when(t.firstSeenAt) : '—')],
    ], types, { caption: 'Event types', empty: 'No events yet.' }),
    ctx.canWrite ? h('a', { class: 'button primary', href: '#/webhooks/new', text: 'Add webhook' }) : null]);
}
