// A confirmation that survives the navigation after a save ("Webhook
// created."): kept in this tab's sessionStorage until the next page shows
// it, at the top, until dismissed or the page after.
import { h } from './dom.js';

const KEY = 'hookstream.flash';

export function flash(text, kind = 'ok') {
  sessionStorage.setItem(KEY, JSON.stringify({ text, kind }));
}

// The pending confirmation as an element (and forget it), or null.
export function takeFlash() {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  sessionStorage.removeItem(KEY);
  let message;
  try { message = JSON.parse(raw); } catch { return null; }
  if (!message || typeof message.text !== 'string') return null;
  const kind = ['ok', 'info', 'warn', 'error'].includes(message.kind) ? message.kind : 'ok';
  const el = h('div', { class: `flash notice ${kind}`, role: 'status' },
    h('span', { text: message.text }),
    h('button', { type: 'button', class: 'dismiss', 'aria-label': 'Dismiss', text: '×', onclick: () => el.remove() }));
  return el;
}
