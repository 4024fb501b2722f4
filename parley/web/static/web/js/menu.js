// A popup menu (role=menu) anchored to a button: arrow keys, Home/End, Escape, click outside.

import { h } from "./dom.js";

let open = null;

export function closeMenu(restoreFocus = true) {
  if (!open) return;
  const { el, anchor, onKey, onDown } = open;
  open = null;
  el.remove();
  anchor.setAttribute("aria-expanded", "false");
  document.removeEventListener("keydown", onKey, true);
  document.removeEventListener("pointerdown", onDown, true);
  if (restoreFocus && anchor.isConnected) anchor.focus();
}

/** items: [{label, action, danger?, checked?}] (checked makes it a menuitemcheckbox) */
export function openMenu(anchor, items, label) {
  if (open?.anchor === anchor) {
    closeMenu();
    return;
  }
  closeMenu(false);
  const buttons = items.map((item) =>
    h("button", {
      type: "button",
      role: item.checked === undefined ? "menuitem" : "menuitemcheckbox",
      "aria-checked": item.checked === undefined ? null : String(Boolean(item.checked)),
      class: `menu-item${item.danger ? " danger" : ""}`,
      tabindex: "-1",
      text: item.label,
      onclick: () => {
        closeMenu(!item.keepFocusAway);
        item.action();
      },
    }),
  );
  const el = h("div", { class: "menu", role: "menu", "aria-label": label }, buttons);
  // Inside an open modal dialog everything else is inert: the menu goes in the dialog.
  (anchor.closest("dialog[open]") || document.body).append(el);
  const r = anchor.getBoundingClientRect();
  const w = el.offsetWidth;
  const hgt = el.offsetHeight;
  let left = Math.min(r.right - w, window.innerWidth - w - 8);
  left = Math.max(8, left);
  let top = r.bottom + 4;
  if (top + hgt > window.innerHeight - 8) top = Math.max(8, r.top - hgt - 4);
  el.style.left = `${left}px`;
  el.style.top = `${top}px`;
  anchor.setAttribute("aria-expanded", "true");
  const focusAt = (i) => buttons[(i + buttons.length) % buttons.length].focus();
  const onKey = (e) => {
    const i = buttons.indexOf(document.activeElement);
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      closeMenu();
    } else if (e.key === "ArrowDown") {
      e.preventDefault();
      focusAt(i + 1);
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      focusAt(i - 1);
    } else if (e.key === "Home") {
      e.preventDefault();
      focusAt(0);
    } else if (e.key === "End") {
      e.preventDefault();
      focusAt(-1);
    } else if (e.key === "Tab") {
      closeMenu(false);
    }
  };
  const onDown = (e) => {
    if (!el.contains(e.target) && !anchor.contains(e.target)) closeMenu(false);
  };
  document.addEventListener("keydown", onKey, true);
  document.addEventListener("pointerdown", onDown, true);
  open = { el, anchor, onKey, onDown };
  focusAt(0);
}
