// Page-wide UI pieces that know nothing of chats: element look-up, toasts, modal dialogs,
// form errors, the clipboard.

import { h } from "./dom.js";

export const $ = (id) => document.getElementById(id);

const toastBox = h("div", { class: "toasts", role: "status", "aria-live": "polite" });
document.body.append(toastBox);

/** A short message that goes away by itself (read out by screen readers). */
export function toast(text) {
  const el = h("div", { class: "toast", text });
  toastBox.append(el);
  setTimeout(() => el.remove(), 4000);
}

/** What to tell someone whose request failed: offline, or the server's own message. */
export function failed(err) {
  toast(err.code === "disconnected" ? "You are offline; try again when connected." : err.message);
}

/** A modal dialog; focus goes back to what opened it when it closes. */
export function openDialog(dialog) {
  const opener = document.activeElement;
  dialog.addEventListener("close", () => opener?.isConnected && opener.focus(), { once: true });
  dialog.showModal();
}

// Every dialog closes from its [data-close] buttons and from a click on its backdrop.
for (const dialog of document.querySelectorAll("dialog")) {
  dialog.addEventListener("click", (e) => {
    if (e.target.closest("[data-close]")) dialog.close();
    else if (e.target === dialog) dialog.close();
  });
}

export function formError(el, message) {
  el.textContent = message || "";
  el.hidden = !message;
}

/** Ask before something that cannot be undone: resolves true for "ok". */
export function confirmDialog({ title, text, ok }) {
  const dialog = $("confirm-dialog");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = ok;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    openDialog(dialog);
    $("confirm-ok").focus();
  });
}

export async function copy(text, done) {
  try {
    await navigator.clipboard.writeText(text);
    if (done) toast(done);
    return true;
  } catch {
    return false;
  }
}
