// An editable list of rows (custom headers, mappings, constants): each row a
// few labelled text inputs and a remove button, plus an add button.
import { h, button, uid } from './dom.js';

export function rows(title, name, columns, initial = []) {
  const body = h('div', { class: 'rows' });
  const error = h('p', { class: 'field-error', role: 'alert', hidden: true });
  let count = 0;

  function addRow(values = {}) {
    count += 1;
    const n = count;
    const inputs = columns.map(([label, key]) => {
      const id = uid('r');
      const input = h('input', { id, name: `${name}.${key}`, value: values[key] ?? '', 'aria-label': `${label} ${n}` });
      return [key, h('div', { class: 'cell' }, h('label', { for: id, class: 'sr-only', text: `${label} ${n}` }), input)];
    });
    const row = h('div', { class: 'row-item', 'data-field': `${name}.${n - 1}` },
      inputs.map(([, cell]) => cell),
      button('Remove', () => row.remove(), { label: `Remove ${title.toLowerCase()} row ${n}` }));
    row.values = () => Object.fromEntries(inputs.map(([key, cell]) => [key, cell.querySelector('input').value.trim()]));
    body.append(row);
    return row;
  }

  for (const values of initial) addRow(values);
  const element = h('fieldset', { class: 'group', 'data-field': name },
    h('legend', { text: title }),
    error,
    h('div', { class: 'rows-head', 'aria-hidden': 'true' }, columns.map(([label]) => h('span', { text: label }))),
    body,
    button(`Add ${title.toLowerCase().replace(/s$/, '')}`, () => addRow().querySelector('input').focus()));
  return {
    element,
    addRow,
    values: () => [...body.children].map((row) => row.values()).filter((v) => Object.values(v).some(Boolean)),
  };
}
