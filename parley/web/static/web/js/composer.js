// The composer: typing a message, sending it (optimistic, retried on reconnect with the
// same client_id, so a resend never makes a second message), drafts per conversation and
// the typing indicator.

import { createAttachmentTray } from "./attachments.js";
import { createCannedPicker } from "./canned-picker.js";
import * as store from "./store.js";
import { state } from "./store.js";
import * as convView from "./view-conversation.js";
import { $, toast } from "./ui.js";

function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function createComposer(conn, { maxLength, limits }) {
  const composer = $("composer");
  const input = $("composer-input");
  const tray = createAttachmentTray({
    tray: $("composer-tray"),
    button: $("attach-btn"),
    picker: $("attach-input"),
    dropZone: $("conversation"),
    pasteTarget: input,
    limits,
  });
  const drafts = new Map();
  const refusals = new Map(); // client_id -> how often the server was unavailable for it
  const canned = createCannedPicker(input, {
    onInsert: () => {
      const conv = state.convs.get(state.openId);
      if (conv) drafts.set(conv.id, input.value);
      autosize();
    },
  });

  /** Send (or send again) my pending message `clientId`; without a socket it waits for
   * the next `resumed`. */
  function transmit(conv, clientId) {
    const p = conv.pending.get(clientId);
    if (!p) return;
    store.pendingStatus(conv, clientId, "pending");
    if (!conn.ready) return;
    const frame = { type: "message.send", conversation: conv.id, client_id: clientId, body: p.body };
    if (p.attachments?.length) frame.attachments = p.attachments.map((a) => a.id);
    conn
      .request(frame)
      .then((ack) => store.acknowledged(conv, ack.message))
      .then(() => refusals.delete(clientId))
      .catch((err) => {
        if (err.code === "disconnected") return; // still pending: resent on reconnect
        if (err.code === "unavailable") {
          // The server cannot reach its database: nothing was stored. Still pending; the
          // same client_id again after retry_after, doubling up to a minute (a retry is
          // always safe: a message is stored once per client_id).
          const refused = (refusals.get(clientId) || 0) + 1;
          refusals.set(clientId, refused);
          const wait = (err.details?.retry_after || 2) * 1000 * 2 ** Math.min(refused - 1, 5);
          setTimeout(() => transmit(conv, clientId), Math.min(wait, 60000));
          return;
        }
        refusals.delete(clientId);
        store.pendingStatus(conv, clientId, "failed", err.message);
      });
  }

  /** After a reconnect: every message still pending, oldest first. */
  function resendPending(conv) {
    const waiting = [...conv.pending.values()].sort((a, b) => (a.created_at < b.created_at ? -1 : 1));
    for (const p of waiting) if (p.status === "pending") transmit(conv, p.client_id);
  }

  function send() {
    const conv = state.convs.get(state.openId);
    if (!conv) return;
    const body = input.value;
    if (tray.busy()) {
      toast("The files are still uploading: send when they are done.");
      return;
    }
    const files = tray.ready();
    if (!body.trim() && !files.length) return;
    if (body.length > maxLength) {
      toast(`A message may be at most ${maxLength} characters (this one has ${body.length}).`);
      return;
    }
    input.value = "";
    canned.close();
    drafts.delete(conv.id);
    autosize();
    stopTyping();
    const clientId = newClientId();
    store.addPending(conv, body, clientId, files.length ? files : null);
    tray.clear();
    convView.scrollToBottomNext();
    transmit(conv, clientId);
  }

  composer.addEventListener("submit", (e) => {
    e.preventDefault();
    send();
    input.focus();
  });

  input.addEventListener("keydown", (e) => {
    if (canned.handleKey(e)) return;
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      send();
    }
  });

  function autosize() {
    input.style.height = "auto";
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
  }

  // Typing: `active` when typing starts and every 3 s while it goes on; `false` after 4 s quiet.
  let typingSentAt = 0;
  let typingIdle = null;
  let typingConv = null;

  input.addEventListener("input", () => {
    autosize();
    canned.update();
    const conv = state.convs.get(state.openId);
    if (!conv) return;
    drafts.set(conv.id, input.value);
    if (!input.value.trim()) return stopTyping();
    const now = Date.now();
    if (now - typingSentAt > 3000 || typingConv !== conv.id) {
      if (conn.send({ type: "typing", conversation: conv.id, active: true })) {
        typingSentAt = now;
        typingConv = conv.id;
      }
    }
    clearTimeout(typingIdle);
    typingIdle = setTimeout(stopTyping, 4000);
  });

  function stopTyping() {
    clearTimeout(typingIdle);
    if (typingConv !== null) {
      conn.send({ type: "typing", conversation: typingConv, active: false });
    }
    typingConv = null;
    typingSentAt = 0;
  }

  /** Another conversation was opened: its draft goes into the box. */
  function showDraft(id) {
    canned.close();
    tray.show(id);
    // Visitors can neither send nor open files yet (docs/files.md).
    $("attach-btn").hidden = state.convs.get(id)?.kind === "support";
    input.value = drafts.get(id) || "";
    autosize();
  }

  return { transmit, resendPending, stopTyping, showDraft, focus: () => input.focus() };
}
