// Building the page without innerHTML: every value becomes a text node or a
// property, so data from events can never become markup.

let nextId = 0;
export const uid = (prefix = 'f') => `${prefix}-${++nextId}`;

const PROPERTIES = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'open', 'readOnly', 'required', 'multiple']);

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null) continue;
    if (key === 'innerHTML' || key === 'outerHTML' || key === 'style') {
      throw new Error(`h(): ${key} is not allowed`);
    }
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = String(value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (PROPERTIES.has(key)) el[key] = value;
    else if (value === false) continue;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export const svg = (tag, attrs = {}) => {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
};

// A labelled form field. `input` is an element (input/select/textarea) or a
// group; the label points at it, the error paragraph is described by it.
export function field(label, input, { hint, name, cls } = {}) {
  const id = input.id || uid('f');
  input.id = id;
  const error = h('p', { class: 'field-error', id: `${id}-error`, role: 'alert', hidden: true });
  const described = [`${id}-error`];
  let hintEl = null;
  if (hint) {
    hintEl = h('p', { class: 'hint', id: `${id}-hint`, text: hint });
    described.push(`${id}-hint`);
  }
  input.setAttribute('aria-describedby', described.join(' '));
  const wrap = h('div', { class: `field ${cls || ''}`, 'data-field': name || input.name || '' },
    h('label', { for: id, text: label }), input, hintEl, error);
  return wrap;
}

export function checkbox(label, { name, checked = false, onchange } = {}) {
  const id = uid('c');
  const input = h('input', { type: 'checkbox', id, name, checked, onchange });
  return h('div', { class: 'field check', 'data-field': name || '' },
    input, h('label', { for: id, text: label }),
    h('p', { class: 'field-error', id: `${id}-error`, role: 'alert', hidden: true }));
}

export function select(name, options, value) {
  return h('select', { name },
    options.map(([v, text]) => h('option', { value: v, selected: v === value, text: text ?? v })));
}

export function button(text, onclick, { kind = '', type = 'button', label } = {}) {
  return h('button', { type, class: kind, onclick, 'aria-label': label, text });
}

// Show API validation errors at the fields they name (`details[].field`,
// dotted; the longest matching data-field wins), the rest in `summary`.
export function showErrors(form, err, summary) {
  clearErrors(form);
  const unplaced = [];
  const details = Array.isArray(err?.details) ? err.details : [];
  for (const d of details) {
    const message = String(d.message || '').replace(/^Value error, /, '');
    const where = findField(form, String(d.field || ''));
    if (where) {
      const p = where.querySelector('.field-error');
      p.textContent = p.hidden ? message : `${p.textContent}; ${message}`;
      p.hidden = false;
      where.classList.add('invalid');
      where.querySelector('input, select, textarea')?.setAttribute('aria-invalid', 'true');
    } else {
      unplaced.push(d.field ? `${d.field}: ${message}` : message);
    }
  }
  if (summary) {
    const text = unplaced.length ? unplaced.join('; ') : (details.length ? 'Please correct the marked fields.' : (err?.message || String(err)));
    notice(summary, text, 'error');
  }
}

function findField(form, dotted) {
  const parts = dotted.split('.').filter(Boolean);
  while (parts.length) {
    const name = parts.join('.');
    const el = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (el) return el;
    parts.pop();
  }
  return null;
}

export function clearErrors(form) {
  for (const p of form.querySelectorAll('.field-error')) { p.hidden = true; p.textContent = ''; }
  for (const el of form.querySelectorAll('.invalid')) el.classList.remove('invalid');
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

// A status line: kind is 'info', 'ok', 'error' or 'warn'.
export function notice(el, text, kind = 'info') {
  el.className = `notice ${kind}`;
  el.textContent = text;
  el.hidden = !text;
  return el;
}

export const statusLine = () => h('p', { class: 'notice', role: 'status', 'aria-live': 'polite', hidden: true });

export function pretty(body) {
  if (body === null || body === undefined || body === '') return '';
  if (typeof body !== 'string') return JSON.stringify(body, null, 2);
  try { return JSON.stringify(JSON.parse(body), null, 2); } catch { return body; }
}

export function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

export function ago(iso) {
  if (!iso) return 'never';
  const s = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (!Number.isFinite(s)) return String(iso);
  if (s < 60) return `${Math.max(s, 0)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

// A modal confirmation; resolves true when confirmed.
export function confirmDialog(question, confirmText = 'Confirm') {
  return new Promise((resolve) => {
    const dlg = h('dialog', { class: 'confirm', 'aria-label': question });
    const done = (answer) => { dlg.close(); dlg.remove(); resolve(answer); };
    append(dlg, [h('p', { text: question }),
      h('div', { class: 'actions' },
        button(confirmText, () => done(true), { kind: 'danger' }),
        button('Cancel', () => done(false)))]);
    dlg.addEventListener('cancel', () => done(false));
    document.body.append(dlg);
    dlg.showModal();
  });
}

// A table from rows: columns = [[header, row => cell]]. It scrolls sideways
// inside its own box when wider than the page (a phone), never the page.
export function table(columns, rows, { caption, empty = 'Nothing yet.' } = {}) {
  if (!rows.length) return h('p', { class: 'empty', text: empty });
  return h('div', { class: 'table-scroll' }, h('table', {},
    caption ? h('caption', { text: caption }) : null,
    h('thead', {}, h('tr', {}, columns.map(([head]) => h('th', { scope: 'col', text: head })))),
    h('tbody', {}, rows.map((row) => h('tr', {}, columns.map(([, cell]) => h('td', {}, cell(row))))))));
}

export function headersTable(headers) {
  const entries = Object.entries(headers || {});
  if (!entries.length) return h('p', { class: 'empty', text: 'No headers.' });
  return h('div', { class: 'table-scroll' }, h('table', { class: 'kv' }, h('tbody', {}, entries.map(([k, v]) =>
    h('tr', {}, h('th', { scope: 'row', text: k }), h('td', { text: String(v) }))))));
}

export async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (input) { input.focus(); input.select(); }
    return false;
  }
}
