// The support inbox's controls: the Chats/Inbox tabs, the inbox filters, and the visitor
// panel's actions (resolve, reopen, snooze, assign, notes). Every change goes through the
// inbox API (/api/v1/inbox); what it answers, and the `support.updated` events that follow,
// go into the store and the views redraw from there.

import { ApiError, get, patch, post } from "./api.js";
import { openMenu } from "./menu.js";
import * as store from "./store.js";
import { state } from "./store.js";
import { $, failed, formError } from "./ui.js";
import * as supportView from "./view-support.js";

const wide = window.matchMedia("(min-width: 1100px)");

export function createInbox() {
  async function loadWidgets() {
    try {
      store.widgetsLoaded(await get("/widgets"));
    } catch (err) {
      failed(err);
      return;
    }
    if (state.widgets.length) await loadInbox();
  }

  /** The newest page of the inbox as filtered now (older ones arrive live or filtered). */
  async function loadInbox() {
    const f = state.inboxFilter;
    const query = new URLSearchParams({ limit: "100" });
    for (const key of ["status", "assignee", "widget"]) if (f[key]) query.set(key, f[key]);
    try {
      store.inboxLoaded(await get(`/inbox?${query}`));
    } catch (err) {
      failed(err);
    }
  }

  const fetching = new Map();
  /** One visitor's conversation (a new one, or a change we have no record of). */
  function fetchSupport(id) {
    if (fetching.has(id)) return fetching.get(id);
    const promise = get(`/inbox/${id}`)
      .then((record) => store.inboxLoaded([record]))
      .catch((err) => {
        if (!(err instanceof ApiError && err.status === 404)) console.warn(err);
      })
      .finally(() => fetching.delete(id));
    fetching.set(id, promise);
    return promise;
  }

  /** A conversation became known: a visitor's gets its inbox record (and my widgets, the
   * first time: someone just made me an agent). */
  function conversationKnown(conv) {
    if (conv?.kind !== "support" || state.inbox.has(conv.id)) return;
    if (!state.widgets?.length) loadWidgets();
    fetchSupport(conv.id);
  }

  async function loadNotes(id) {
    try {
      store.notesLoaded(id, await get(`/inbox/${id}/notes`));
    } catch (err) {
      failed(err);
    }
  }

  /** A support conversation was opened: its record, its notes, the panel on a wide screen. */
  function opened(conv) {
    if (conv.kind !== "support") {
      supportView.render(null);
      supportView.setOpen(false);
      return;
    }
    // Read afresh: the record may be older than what the socket skipped (a reset).
    fetchSupport(conv.id);
    loadNotes(conv.id);
    supportView.render(state.inbox.get(conv.id) || null);
    supportView.setOpen(wide.matches);
  }

  async function update(changes) {
    const id = state.openId;
    try {
      store.inboxLoaded([await patch(`/inbox/${id}`, changes)]);
    } catch (err) {
      failed(err);
    }
  }

  // --- the panel ---------------------------------------------------------------------------

  $("support-toggle").addEventListener("click", () => {
    const open = $("support-panel").hidden;
    supportView.setOpen(open);
    if (open) $("support-close").focus();
  });
  $("support-close").addEventListener("click", () => {
    supportView.setOpen(false);
    $("support-toggle").focus();
  });
  $("support-panel").addEventListener("keydown", (e) => {
    if (e.key === "Escape" && !wide.matches && !document.querySelector(".menu")) {
      e.stopPropagation();
      supportView.setOpen(false);
      $("support-toggle").focus();
    }
  });

  $("support-resolve").addEventListener("click", (e) => update({ status: e.currentTarget.dataset.to }));

  $("support-snooze").addEventListener("click", (e) => {
    const inHour = new Date(Date.now() + 3600 * 1000);
    const tomorrow = new Date();
    tomorrow.setDate(tomorrow.getDate() + 1);
    tomorrow.setHours(9, 0, 0, 0);
    openMenu(
      e.currentTarget,
      [
        { label: "For an hour", action: () => update({ status: "snoozed", snoozed_until: inHour.toISOString() }) },
        { label: "Until tomorrow, 9:00", action: () => update({ status: "snoozed", snoozed_until: tomorrow.toISOString() }) },
        { label: "Until the visitor writes", action: () => update({ status: "snoozed", snoozed_until: null }) },
      ],
      "Snooze",
    );
  });

  $("support-assignee").addEventListener("change", (e) => {
    const value = e.currentTarget.value;
    update({ assignee: value ? Number(value) : null });
  });

  $("note-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const id = state.openId;
    const input = $("note-input");
    const body = input.value.trim();
    if (!body) return formError($("note-error"), "Write the note first.");
    formError($("note-error"), "");
    try {
      store.noteAdded(id, await post(`/inbox/${id}/notes`, { body }));
      input.value = "";
    } catch (err) {
      formError($("note-error"), err.message);
    }
    input.focus();
  });

  // --- the tabs and the filters ------------------------------------------------------------

  const tabs = [$("tab-chats"), $("tab-inbox")];
  for (const tab of tabs) {
    // A click goes to its section (app.js); the arrow keys move between the tabs.
    tab.addEventListener("keydown", (e) => {
      if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
      e.preventDefault();
      const other = tabs[(tabs.indexOf(tab) + 1) % tabs.length];
      other.click();
      other.focus();
    });
  }

  for (const [key, id] of [
    ["status", "inbox-status"],
    ["assignee", "inbox-assignee"],
    ["widget", "inbox-widget"],
  ]) {
    $(id).addEventListener("change", (e) => {
      store.setInboxFilter({ [key]: e.currentTarget.value });
      loadInbox();
    });
  }

  return { loadWidgets, loadInbox, fetchSupport, conversationKnown, opened };
}
