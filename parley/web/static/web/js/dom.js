// Small DOM helpers: build elements without innerHTML, and keyed list reconciliation.

const SVG = "http://www.w3.org/2000/svg";

/** h("li", {class: "x", dataset: {id: 1}, onclick: fn, "aria-label": "..."}, child, "text") */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [name, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "class") el.className = value;
      else if (name === "text") el.textContent = value;
      else if (name === "dataset") Object.assign(el.dataset, value);
      else if (name.startsWith("on") && typeof value === "function") {
        el.addEventListener(name.slice(2), value);
      } else if (value === true) el.setAttribute(name, "");
      else el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function icon(name, cls = "icon") {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", cls);
  svg.setAttribute("aria-hidden", "true");
  const use = document.createElementNS(SVG, "use");
  use.setAttribute("href", `#i-${name}`);
  svg.append(use);
  return svg;
}

/**
 * Make `container`'s children match `items` in order, reusing elements by key so that
 * focus, scroll and hover survive an update. `render(item, old)` returns the element for an
 * item: the old one (updated in place) or a new one.
 */
export function reconcile(container, items, keyOf, render) {
  const active = document.activeElement;
  let focusKey = null;
  let focusPart = null;
  const old = new Map();
  for (const el of container.children) {
    old.set(el.dataset.key, el);
    if (active && el.contains(active)) {
      focusKey = el.dataset.key;
      focusPart = active.dataset.focus || null;
    }
  }
  const wanted = [];
  for (const item of items) {
    const key = keyOf(item);
    const prev = old.get(key);
    const el = render(item, prev);
    el.dataset.key = key;
    if (prev && prev !== el) prev.remove();
    old.delete(key);
    wanted.push(el);
  }
  for (const el of old.values()) el.remove();
  let cursor = container.firstElementChild;
  for (const el of wanted) {
    if (el === cursor) {
      cursor = cursor.nextElementSibling;
    } else {
      container.insertBefore(el, cursor);
    }
  }
  // An element that had focus and was rebuilt hands focus to its replacement.
  if (focusKey !== null && !active.isConnected) {
    const el = wanted.find((w) => w.dataset.key === focusKey);
    const target = el && (focusPart ? el.querySelector(`[data-focus="${focusPart}"]`) : el);
    target?.focus();
  }
}

/** Replace an element's children, keeping focus on the element with the same data-focus key. */
export function replaceChildren(el, ...children) {
  const active = document.activeElement;
  const focusKey = active && el.contains(active) ? active.dataset.focus : null;
  el.replaceChildren();
  append(el, children);
  if (focusKey) el.querySelector(`[data-focus="${focusKey}"]`)?.focus();
}
