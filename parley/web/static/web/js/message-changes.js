// Changing a message after it was sent: editing my own (a dialog), reading its earlier
// versions, and reactions (the React menu, "Other emoji…", a chip's toggle). Each goes to
// the server over the socket; what changes comes back as events (store.js applies them),
// so every tab and every member sees the same thing.

import { get, patch } from "./api.js";
import { h } from "./dom.js";
import { fullTime } from "./format.js";
import { openMenu } from "./menu.js";
import { COMMON } from "./reactions.js";
import * as store from "./store.js";
import { state } from "./store.js";
import { $, failed, formError, openDialog, toast } from "./ui.js";

export function installMessageChanges({ conn }) {
  let editing = null; // {conv, m} while the edit dialog is open
  let reacting = null; // {conv, m} while the emoji dialog is open

  async function react(conv, m, emoji, remove = false) {
    try {
      await conn.request({ type: remove ? "reaction.remove" : "reaction.add", conversation: conv.id, seq: m.seq, emoji });
      return null;
    } catch (err) {
      return err;
    }
  }

  /** A reaction chip pressed: add mine, or take it off. */
  async function toggleReaction(m, emoji, mine) {
    const conv = state.convs.get(state.openId);
    if (!conv) return;
    const err = await react(conv, m, emoji, mine);
    if (err) failed(err);
  }

  /** The React menu: the common emoji (checked when mine), then any other. */
  function reactMenu(button, conv, m) {
    const mine = new Set((m.reactions || []).filter((r) => r.mine).map((r) => r.emoji));
    const items = COMMON.map((emoji) => ({
      label: emoji,
      checked: mine.has(emoji),
      action: () => toggleReaction(m, emoji, mine.has(emoji)),
    }));
    items.push({ label: "Other emoji…", action: () => askEmoji(conv, m) });
    openMenu(button, items, "React with");
  }

  function askEmoji(conv, m) {
    reacting = { conv, m };
    $("emoji-form").reset();
    formError($("emoji-error"), "");
    openDialog($("emoji-dialog"));
    $("emoji-input").focus();
  }

  $("emoji-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!reacting) return;
    const emoji = $("emoji-input").value.trim();
    if (!emoji) return formError($("emoji-error"), "Type or paste one emoji.");
    const err = await react(reacting.conv, reacting.m, emoji);
    if (!err) {
      $("emoji-dialog").close();
      return;
    }
    formError($("emoji-error"), err.code === "invalid_emoji" ? "That is not one emoji: type or paste a single emoji." : err.message);
    $("emoji-input").focus();
  });

  function edit(conv, m) {
    editing = { conv, m };
    const body = $("edit-body");
    body.value = m.body;
    formError($("edit-error"), "");
    openDialog($("edit-dialog"));
    body.focus();
    body.setSelectionRange(body.value.length, body.value.length);
  }

  async function saveEdit() {
    if (!editing) return;
    const text = $("edit-body").value;
    if (!text.trim()) return formError($("edit-error"), "A message needs some text; delete it instead.");
    try {
      await conn.request({ type: "message.edit", conversation: editing.conv.id, seq: editing.m.seq, body: text });
      $("edit-dialog").close();
    } catch (err) {
      formError($("edit-error"), err.code === "disconnected" ? "You are offline; try again when connected." : err.message);
      $("edit-body").focus();
    }
  }

  $("edit-form").addEventListener("submit", (e) => {
    e.preventDefault();
    saveEdit();
  });
  $("edit-body").addEventListener("keydown", (e) => {
    // Enter writes a new line, as in a long message; Ctrl or Cmd+Enter saves.
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      saveEdit();
    }
  });
  $("edit-dialog").addEventListener("close", () => {
    editing = null;
  });
  $("emoji-dialog").addEventListener("close", () => {
    reacting = null;
  });

  /** "(edited)": the message's versions, oldest first, over REST. */
  async function showEdits(m) {
    const conv = state.convs.get(state.openId);
    if (!conv) return;
    const list = $("edit-versions");
    list.replaceChildren(h("li", { class: "muted", text: "Loading…" }));
    openDialog($("edits-dialog"));
    try {
      const history = await get(`/conversations/${conv.id}/messages/${m.seq}/edits`);
      const last = history.versions.length - 1;
      list.replaceChildren(
        ...history.versions.map((v, i) =>
          h(
            "li",
            { class: "edit-version" },
            h("div", { class: "muted" }, h("time", { datetime: v.at, text: fullTime(v.at) }), i === 0 ? " · sent" : " · edited", i === last ? " · now" : ""),
            h("div", { class: "body", text: v.body }),
          ),
        ),
      );
    } catch (err) {
      list.replaceChildren(h("li", { class: "form-error", text: err.message }));
    }
  }

  /** A group admin turns editing on or off for everyone (conversation.updated tells the
   * others; the answer is the conversation as it is now). */
  async function setEditsAllowed(conv, allowed) {
    try {
      store.upsertConv(await patch(`/conversations/${conv.id}`, { edits_allowed: allowed }));
      toast(allowed ? "Members may edit their messages." : "Messages can no longer be edited.");
    } catch (err) {
      failed(err);
    }
  }

  return { toggleReaction, reactMenu, edit, showEdits, setEditsAllowed };
}
