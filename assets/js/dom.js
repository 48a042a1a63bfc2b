// Tiny DOM helpers: build elements without innerHTML (so no markup injection from API data),
// one shared tooltip, toasts and a modal dialog wrapper. No inline styles: the CSP forbids them.

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'text') el.textContent = value;
    else if (key === 'class') el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'value' && 'value' in el) el.value = value;
    else if (key === 'checked' || key === 'disabled' || key === 'selected') el[key] = Boolean(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** An HTML element: h('a', {href: '/x', class: 'link'}, 'text', child…). */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element, same shape as h(). */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** Replaces every child of `el`. */
export function put(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A <select> of [value, label] pairs. */
export function select(options, current, onChange, attrs = {}) {
  const el = h('select', attrs, options.map(([value, label]) => h('option', { value, selected: value === current }, label)));
  if (onChange) el.addEventListener('change', () => onChange(el.value));
  return el;
}

/** A row of toggle buttons (a segmented control); `onPick(value)` on click. */
export function segmented(options, current, onPick, label) {
  return h('div', { class: 'seg', role: 'group', 'aria-label': label },
    options.map(([value, text]) => h('button', {
      type: 'button', 'aria-pressed': String(value === current), 'data-value': value,
      onclick: () => onPick(value),
    }, text)));
}

// One floating tooltip for the whole page: any element with data-tip shows it on hover or tap.
let tip;
function tipEl() {
  if (!tip) {
    tip = h('div', { class: 'tip', role: 'tooltip', hidden: true });
    document.body.append(tip);
  }
  return tip;
}

function showTip(target, x, y) {
  const el = tipEl();
  el.textContent = target.getAttribute('data-tip');
  el.hidden = false;
  const pad = 12;
  const rect = el.getBoundingClientRect();
  let left = x + pad;
  let top = y + pad;
  if (left + rect.width > window.innerWidth - 4) left = Math.max(4, x - rect.width - pad);
  if (top + rect.height > window.innerHeight - 4) top = Math.max(4, y - rect.height - pad);
  el.style.left = `${left}px`;
  el.style.top = `${top}px`;
}

export function installTooltips() {
  document.addEventListener('pointermove', (e) => {
    const target = e.target instanceof Element ? e.target.closest('[data-tip]') : null;
    if (target) showTip(target, e.clientX, e.clientY);
    else if (tip) tip.hidden = true;
  });
  document.addEventListener('pointerleave', () => { if (tip) tip.hidden = true; });
  window.addEventListener('scroll', () => { if (tip) tip.hidden = true; }, { passive: true });
}

/** A short message at the bottom of the screen. */
export function toast(message, kind = 'info') {
  let box = document.querySelector('.toasts');
  if (!box) {
    box = h('div', { class: 'toasts', 'aria-live': 'polite' });
    document.body.append(box);
  }
  const el = h('div', { class: ['toast', kind] }, message);
  box.append(el);
  setTimeout(() => el.remove(), kind === 'error' ? 8000 : 4000);
}

/**
 * A modal <dialog>. `build(body, close)` fills it; returns {dialog, close}. Closing removes it.
 */
export function modal(title, fill) {
  const body = h('div', { class: 'dialog-body' });
  const dialog = h('dialog', { class: 'dialog', 'aria-label': title },
    h('header', {}, h('h2', { text: title }),
      h('button', { type: 'button', class: 'icon', 'aria-label': 'Close', onclick: () => close() }, '×')),
    body);
  const close = () => { dialog.close(); dialog.remove(); };
  dialog.addEventListener('cancel', (e) => { e.preventDefault(); close(); });
  document.body.append(dialog);
  fill(body, close);
  dialog.showModal();
  return { dialog, body, close };
}

/** Copies text and flashes the button's label. */
export async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = h('textarea', { class: 'offscreen', readonly: true }, text);
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  if (button) {
    const label = button.textContent;
    button.textContent = 'Copied';
    setTimeout(() => { button.textContent = label; }, 1500);
  }
}

/** A block of code with a Copy button. */
export function snippet(code, label = 'Copy') {
  const button = h('button', { type: 'button', class: 'small', onclick: () => copyText(code, button) }, label);
  return h('div', { class: 'snippet' }, h('pre', {}, h('code', { text: code })), button);
}

/** Asks for confirmation in a modal; resolves true when confirmed. */
export function confirmDialog(title, message, confirmLabel, { danger = false } = {}) {
  return new Promise((resolve) => {
    let answered = false;
    const { dialog } = modal(title, (body, close) => {
      const done = (value) => { answered = true; close(); resolve(value); };
      put(body, h('p', {}, message), h('div', { class: 'buttons' },
        h('button', { type: 'button', onclick: () => done(false) }, 'Cancel'),
        h('button', { type: 'button', class: danger ? 'danger solid' : 'primary', 'data-confirm': 'yes', onclick: () => done(true) }, confirmLabel)));
    });
    dialog.addEventListener('close', () => { if (!answered) resolve(false); });
  });
}

/**
 * Labels every body/foot cell of a table with its column heading (data-label), so the phone
 * layout can show each row as a card; the first cell is the card's title.
 */
export function cardify(table) {
  const heads = [...table.querySelectorAll('thead th')].map((th) => th.textContent);
  for (const tr of table.querySelectorAll('tbody tr, tfoot tr')) {
    [...tr.children].forEach((td, i) => {
      if (i === 0) td.classList.add('name');
      else if (heads[i] && !td.hasAttribute('data-label')) td.setAttribute('data-label', heads[i]);
    });
  }
  table.classList.add('cards');
  return table;
}
