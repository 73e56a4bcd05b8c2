// DOM helpers. Untrusted text (guide titles, station names, event payloads) only ever enters the page as
// text nodes or attribute values: there is no innerHTML anywhere in the UI (issue 6).

/**
 * Creates an element. `props`: `class`, `dataset`, `on<event>` handlers, boolean attributes, other
 * attributes as strings. Children: nodes, strings (as text), arrays, null/false (skipped).
 * @param {string} tag
 * @param {Record<string, unknown> | null} [props]
 * @param {...unknown} children
 * @returns {HTMLElement}
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = String(v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function')
      el.addEventListener(k.slice(2), /** @type {EventListener} */ (v));
    else if (k === 'value') /** @type {HTMLInputElement} */ (el).value = String(v);
    else if (k === 'checked') /** @type {HTMLInputElement} */ (el).checked = Boolean(v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

/** Appends children (strings become text nodes). */
export function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replaces an element's content. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** `#/station/<id>` link with the id encoded. */
export function stationHref(id) {
  return `#/station/${encodeURIComponent(id)}`;
}

/** A small status badge. */
export function badge(text, kind) {
  return h('span', { class: `badge ${kind ?? ''}` }, text);
}

/** Debounces `fn` by `ms`. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      fn(...args);
    }, ms);
  };
}

/** Opens a modal dialog; resolves when it closes. `build(close)` returns its content. */
export function modal(title, build) {
  return new Promise((resolve) => {
    const dlg = h('dialog', { class: 'modal' });
    const close = (value) => {
      dlg.close();
      dlg.remove();
      resolve(value);
    };
    append(dlg, [
      h(
        'header',
        null,
        h('h2', null, title),
        h(
          'button',
          { type: 'button', class: 'icon', 'aria-label': '×', onclick: () => close(undefined) },
          '×',
        ),
      ),
      build(close),
    ]);
    dlg.addEventListener('cancel', (e) => {
      e.preventDefault();
      close(undefined);
    });
    document.body.append(dlg);
    dlg.showModal();
  });
}
