// A widget's canned replies, in the widgets screen: the list, adding one, changing and
// deleting one. Any team member manages them (/api/v1/widgets/{id}/canned; docs/widget.md
// "Canned replies"); the store keeps what the API answered.

import { del, get, patch, post } from "./api.js";
import { h } from "./dom.js";
import * as store from "./store.js";
import { state } from "./store.js";
import { $, confirmDialog, failed, formError, toast } from "./ui.js";

export function createCannedReplies() {
  let widget = null;
  let editingId = null; // the reply in the form, or null: the form adds one

  function reset() {
    editingId = null;
    $("canned-shortcut").value = "";
    $("canned-body").value = "";
    $("canned-save").textContent = "Add reply";
    $("canned-cancel").hidden = true;
    formError($("canned-error"), "");
  }

  async function load(w) {
    try {
      store.cannedLoaded(w.id, await get(`/widgets/${w.id}/canned`));
    } catch (err) {
      failed(err);
    }
  }

  function edit(reply) {
    editingId = reply.id;
    $("canned-shortcut").value = reply.shortcut;
    $("canned-body").value = reply.body;
    $("canned-save").textContent = "Update reply";
    $("canned-cancel").hidden = false;
    $("canned-body").focus();
  }

  async function remove(reply) {
    const ok = await confirmDialog({ title: "Delete this canned reply?", text: `/${reply.shortcut} is no longer offered in the composer.`, ok: "Delete reply" });
    if (!ok) return;
    try {
      await del(`/widgets/${widget.id}/canned/${reply.id}`);
      store.cannedRemoved(widget.id, reply.id);
      if (editingId === reply.id) reset();
    } catch (err) {
      failed(err);
    }
  }

  /** Show the replies of `w` (null: none). */
  function show(w) {
    const changed = w?.id !== widget?.id;
    widget = w;
    $("widget-canned-box").hidden = !w;
    if (!w) return;
    if (changed) {
      reset();
      load(w);
    }
    render();
  }

  function render() {
    if (!widget) return;
    const replies = state.canned.get(widget.id) || [];
    $("canned-manage").replaceChildren(
      ...replies.map((r) =>
        h(
          "li",
          { class: "canned-item" },
          h("span", { class: "canned-item-text" }, h("strong", { text: `/${r.shortcut}` }), h("span", { class: "muted", text: r.body })),
          h("button", { type: "button", class: "btn", text: "Edit", "aria-label": `Edit /${r.shortcut}`, onclick: () => edit(r) }),
          h("button", { type: "button", class: "btn", text: "Delete", "aria-label": `Delete /${r.shortcut}`, onclick: () => remove(r) }),
        ),
      ),
    );
    $("canned-empty").hidden = replies.length > 0 || !state.canned.has(widget.id);
  }

  $("canned-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!widget) return;
    const body = { shortcut: $("canned-shortcut").value.trim(), body: $("canned-body").value };
    formError($("canned-error"), "");
    try {
      const saved = editingId === null ? await post(`/widgets/${widget.id}/canned`, body) : await patch(`/widgets/${widget.id}/canned/${editingId}`, body);
      store.cannedSaved(widget.id, saved);
      toast(editingId === null ? "Canned reply added." : "Canned reply saved.");
      reset();
      $("canned-shortcut").focus();
    } catch (err) {
      const lines = Object.entries(err.details || {}).map(([f, p]) => `${f === "body" ? "Reply" : "Shortcut"}: ${[].concat(p).join(" ")}`);
      formError($("canned-error"), [err.message, ...lines].join(" "));
    }
  });

  $("canned-cancel").addEventListener("click", reset);

  return { show, render };
}
