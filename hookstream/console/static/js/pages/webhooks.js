// Webhooks: the list with status, success ratio and last delivery; ping,
// enable/disable and delete (admins only).
import * as api from '../api.js';
import { h, append, ago, button, confirmDialog, notice, statusLine, table } from '../dom.js';

// Success ratio (last 60 minutes) and last delivery: from /stats when the
// server has it, otherwise from each webhook's last 100 attempts.
async function health(webhooks, ctx) {
  const out = new Map();
  // /stats covers every tenant: only admins and viewers may read it.
  if (!ctx.tenant && await api.supports('GET', '/stats')) {
    try {
      const stats = await api.get('/stats');
      for (const row of stats?.webhooks || []) {
        const window = row.last60m || {};
        out.set(row.webhookId, {
          successRatio: window.successRatio,
          lastDelivery: row.lastDeliveryAt ? { at: row.lastDeliveryAt, outcome: row.lastOutcome } : null,
        });
      }
      if (out.size) return out;
    } catch { /* fall back below */ }
  }
  await Promise.all(webhooks.slice(0, 50).map(async (wh) => {
    try {
      const attempts = await api.list(`/webhooks/${api.enc(wh.id)}/events`);
      const ok = attempts.filter((a) => a.outcome === 'success').length;
      out.set(wh.id, {
        successRatio: attempts.length ? ok / attempts.length : null,
        lastDelivery: attempts[0] ? { at: attempts[0].at, outcome: attempts[0].outcome } : null,
      });
    } catch { /* shown as unknown */ }
  }));
  return out;
}

const ratioText = (r) => (typeof r === 'number' ? `${(r * 100).toFixed(r === 1 ? 0 : 1)} %` : '—');

function lastText(stat) {
  const last = stat?.lastDelivery;
  if (!last) return 'never';
  if (typeof last === 'string') return ago(last);
  return `${last.outcome || ''} ${ago(last.at)}`.trim();
}

export async function render(root, ctx) {
  const status = statusLine();
  const holder = h('div');
  append(root, [
    h('div', { class: 'page-head' },
      h('h1', { text: 'Webhooks' }),
      ctx.canWrite ? h('a', { class: 'button primary', href: '#/webhooks/new', text: 'Add webhook' }) : null),
    status, holder]);

  async function load() {
    const webhooks = await api.list('/webhooks');
    const stats = await health(webhooks, ctx);
    const rows = webhooks.map((wh) => ({ wh, stat: stats.get(wh.id) || {} }));
    const columns = [
      ['Name', ({ wh }) => h('a', { href: `#/webhooks/${api.enc(wh.id)}`, text: wh.name })],
      ['URL', ({ wh }) => h('code', { class: 'url', text: `${wh.method} ${wh.url}` })],
      ['Status', ({ wh }) => (wh.enabled
        ? h('span', { class: 'badge ok', text: 'enabled' })
        : h('span', { class: 'badge off', text: wh.disabledReason ? `disabled: ${wh.disabledReason}` : 'disabled' }))],
      ['Success', ({ stat }) => ratioText(stat.successRatio)],
      ['Last delivery', ({ stat }) => lastText(stat)],
      ['Actions', ({ wh }) => h('div', { class: 'actions' },
        h('a', { class: 'button', href: `#/webhooks/${api.enc(wh.id)}/events`, 'aria-label': `View events of ${wh.name}`, text: 'View events' }),
        ctx.canWrite ? [
          button('Ping', () => ping(wh), { label: `Ping ${wh.name}` }),
          button(wh.enabled ? 'Disable' : 'Enable', () => toggle(wh), { label: `${wh.enabled ? 'Disable' : 'Enable'} ${wh.name}` }),
          h('a', { class: 'button', href: `#/webhooks/${api.enc(wh.id)}`, 'aria-label': `Edit ${wh.name}`, text: 'Edit' }),
          button('Delete', () => remove(wh), { kind: 'danger', label: `Delete ${wh.name}` }),
        ] : null)],
    ];
    holder.replaceChildren(table(columns, rows, { empty: 'No webhooks yet.' }));
  }

  async function ping(wh) {
    notice(status, `Pinging ${wh.name}…`);
    try {
      const a = await api.post(`/webhooks/${api.enc(wh.id)}/ping`);
      const code = a.response ? `HTTP ${a.response.status}` : (a.error || 'no response');
      notice(status, `Ping ${wh.name}: ${a.outcome} (${code}, ${a.durationMs ?? '?'} ms)`, a.outcome === 'success' ? 'ok' : 'error');
      await load();
    } catch (err) { notice(status, `Ping failed: ${err.message}`, 'error'); }
  }

  async function toggle(wh) {
    try {
      await api.patch(`/webhooks/${api.enc(wh.id)}`, { enabled: !wh.enabled });
      notice(status, `${wh.name} ${wh.enabled ? 'disabled' : 'enabled'}.`, 'ok');
      await load();
    } catch (err) { notice(status, err.message, 'error'); }
  }

  async function remove(wh) {
    if (!await confirmDialog(`Delete webhook “${wh.name}”? Deliveries still queued for it are dropped.`, 'Delete')) return;
    try {
      await api.del(`/webhooks/${api.enc(wh.id)}`);
      notice(status, `Deleted ${wh.name}.`, 'ok');
      await load();
    } catch (err) { notice(status, err.message, 'error'); }
  }

  await load();
}
