// "Replay" on View events: deliver a webhook's events from a time range
// again, read back from Kafka (POST /webhooks/{id}/replay), with progress and
// cancel. Replayed deliveries keep their delivery ids, so receivers dedupe.
import * as api from '../api.js';
import { h, append, button, field, notice, statusLine } from '../dom.js';

const POLL_MS = 1000;

// <input type="datetime-local"> speaks local time without a zone.
const localValue = (date) => new Date(date.getTime() - date.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
const toIso = (value) => (value ? new Date(value).toISOString() : null);

function progressText(r) {
  return `${r.status}: ${r.scanned} events read, ${r.matched} matched, ${r.queued} queued (from ${r.from} to ${r.until})${r.error ? ` — ${r.error}` : ''}`;
}

export function replayButton(webhook) {
  return button('Replay…', () => open(webhook), { label: `Replay events of ${webhook.name}` });
}

function open(webhook) {
  const base = `/webhooks/${api.enc(webhook.id)}`;
  const since = h('input', { type: 'datetime-local', name: 'since', required: true, value: localValue(new Date(Date.now() - 3600_000)) });
  const until = h('input', { type: 'datetime-local', name: 'until' });
  const status = statusLine();
  const dlg = h('dialog', { class: 'replay', 'aria-label': `Replay ${webhook.name}` });
  let timer = null;
  let replayId = null;
  const stop = () => { if (timer) clearTimeout(timer); timer = null; };

  async function poll() {
    try {
      const r = await api.get(`${base}/replays/${api.enc(replayId)}`);
      notice(status, progressText(r), r.status === 'failed' ? 'error' : (r.status === 'running' ? 'info' : 'ok'));
      cancel.hidden = r.status !== 'running';
      if (r.status === 'running') timer = setTimeout(poll, POLL_MS);
    } catch (err) { notice(status, err.message, 'error'); }
  }

  const start = button('Start replay', async () => {
    try {
      const r = await api.post(`${base}/replay`, { since: toIso(since.value), until: toIso(until.value) });
      replayId = r.replayId;
      start.disabled = true;
      await poll();
    } catch (err) {
      const detail = err.details?.[0];
      notice(status, detail ? `${detail.field}: ${detail.message}` : err.message, 'error');
    }
  }, { kind: 'primary' });
  const cancel = button('Cancel replay', async () => {
    try {
      await api.del(`${base}/replays/${api.enc(replayId)}`);
      stop();
      await poll();
    } catch (err) { notice(status, err.message, 'error'); }
  }, { kind: 'danger' });
  cancel.hidden = true;
  const close = button('Close', () => { stop(); dlg.close(); dlg.remove(); });
  dlg.addEventListener('cancel', () => { stop(); dlg.remove(); });

  append(dlg, [
    h('h2', { text: `Replay events to ${webhook.name}` }),
    h('p', { class: 'hint', text: 'Events written in this range that the webhook takes now (its events, tenant and filter) are delivered again, read back from Kafka, with their original delivery ids. Live deliveries go on meanwhile.' }),
    h('div', { class: 'row' }, field('Since', since, { name: 'since' }), field('Until (empty: now)', until, { name: 'until' })),
    status,
    h('div', { class: 'actions' }, start, cancel, close)]);
  document.body.append(dlg);
  dlg.showModal();
}
