// The open conversation: header, message history, typing line.

import { renderAttachments } from "./attachments.js";
import { avatar } from "./avatar.js";
import { h, icon, reconcile, replaceChildren } from "./dom.js";
import { dayKey, dayLabel, fullTime, lastSeen, plural, timeOf } from "./format.js";
import { reactionLabel, reactorsText } from "./reactions.js";
import { isMine, receiptOf, state } from "./store.js";
import { renderText } from "./text.js";
import { withExtras } from "./timeline.js";

const box = document.getElementById("messages");
const list = document.getElementById("message-list");
const historyStatus = document.getElementById("history-status");
const typingEl = document.getElementById("typing");
const titleEl = document.getElementById("conv-title");
const statusEl = document.getElementById("conv-status");
const avatarSlot = document.getElementById("conv-avatar");

const RUN_GAP = 5 * 60 * 1000;
let stickToBottom = false;

/** The next render scrolls to the newest message (after opening, after I sent). */
export function scrollToBottomNext() {
  stickToBottom = true;
}

export function statusText(conv) {
  if (conv.kind === "support") {
    // The visitor, as the inbox knows them (their presence comes live).
    const record = state.inbox.get(conv.id);
    if (!record) return { text: "", online: false };
    const where = record.widget.name;
    if (record.visitor.online) return { text: `online · ${where}`, online: true };
    return { text: `offline · ${where}`, online: false };
  }
  if (conv.kind === "direct") {
    const other = conv.other_user;
    if (!other) return { text: "", online: false };
    if (other.online) return { text: "online", online: true };
    return { text: lastSeen(other.last_seen), online: false };
  }
  const parts = [];
  if (conv.kind === "group" && conv.members) parts.push(plural(conv.members.size, "member", "members"));
  if (conv.kind === "public" && conv.about) parts.push(conv.about);
  parts.push(`${conv.online_count} online`);
  return { text: parts.join(" · "), online: false };
}

export function renderHeader(conv) {
  titleEl.textContent = conv.title || "…";
  const s = statusText(conv);
  statusEl.textContent = s.text;
  statusEl.classList.toggle("online", s.online);
  const who = conv.kind === "direct" ? conv.other_user : null;
  const visitor = conv.kind === "support" ? state.inbox.get(conv.id)?.visitor : null;
  avatarSlot.replaceChildren(
    avatar({
      name: who ? who.name : conv.title,
      avatar: who?.avatar,
      seed: who ? `u${who.id}` : visitor ? `u${visitor.id}` : `c${conv.id}`,
      online: Boolean(who?.online || visitor?.online),
    }),
  );
}

export function renderTyping(conv) {
  const names = [...conv.typing.values()].map((t) => t.name);
  let text = "";
  if (names.length === 1) text = `${names[0]} is typing…`;
  else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
  else if (names.length > 2) text = `${names.length} people are typing…`;
  if (typingEl.textContent !== text) {
    typingEl.replaceChildren();
    if (text) typingEl.append(h("span", { class: "typing-dots", "aria-hidden": "true" }, h("i"), h("i"), h("i")), h("span", { text }));
  }
}

function senderKey(m) {
  return `${m.sender.kind}:${m.sender.id}`;
}

/** The rows to show: day separators and messages (stored by seq, then mine still pending). */
function rows(conv) {
  const stored = [...conv.messages.values()].sort((a, b) => a.seq - b.seq);
  const pending = [...conv.pending.values()].sort((a, b) => (a.created_at < b.created_at ? -1 : 1));
  const out = [];
  let prev = null;
  for (const m of [...stored, ...pending]) {
    const day = dayKey(m.created_at);
    if (!prev || dayKey(prev.created_at) !== day) {
      out.push({ day, label: dayLabel(m.created_at) });
      prev = null;
    }
    const first =
      !prev ||
      senderKey(prev) !== senderKey(m) ||
      new Date(m.created_at) - new Date(prev.created_at) > RUN_GAP;
    out.push({ m, first });
    prev = m;
  }
  return out;
}

function rowKey(row) {
  if (row.key) return row.key; // a timeline line or the unread divider (timeline.js)
  if (row.day) return `d:${row.day}`;
  return `m:${senderKey(row.m)}:${row.m.client_id}`;
}

function receiptBadge(conv, m) {
  if (m.status === "pending") return { key: "pending", label: "Sending", el: icon("clock", "icon tick") };
  if (m.status === "failed") return { key: "failed", label: "Not sent", el: icon("alert", "icon tick") };
  const r = receiptOf(conv, m.seq);
  if (r.readBy) {
    const el = h("span", { class: "read-by" }, icon(r.state === "read" ? "checks" : "checks", "icon tick"), ` read by ${r.readBy}`);
    return { key: r.state, label: `Read by ${r.readBy}`, el };
  }
  if (r.state === "read") return { key: "read", label: "Read", el: icon("checks", "icon tick") };
  if (r.state === "delivered") return { key: "delivered", label: "Delivered", el: icon("checks", "icon tick") };
  return { key: "sent", label: "Sent", el: icon("check", "icon tick") };
}

function messageRow(conv, row, old, handlers) {
  if (row.render) return row.render(old);
  if (row.day) {
    if (old && old.dataset.label === row.label) return old;
    return h("li", { class: "day-sep", role: "separator", dataset: { label: row.label } }, h("span", { text: row.label }));
  }
  const m = row.m;
  const mine = isMine(m.sender);
  const groupish = conv.kind !== "direct";
  const bot = m.sender.kind === "bot";
  // A bot's own messages are never shown as a person's: a bot badge, its own avatar seed.
  const showSender = (groupish || bot) && !mine && row.first;
  const receipt = mine && !m.deleted ? receiptBadge(conv, m) : null;
  const files = m.deleted ? null : m.attachments;
  const sig = JSON.stringify([m.seq, m.body, m.deleted, m.status, m.error, row.first, receipt?.key, receipt?.label, groupish, m.edited_at, m.reactions, files?.length]);
  if (old && old.dataset.sig === sig) return old;
  const status = m.seq === undefined ? m.status : receipt?.key || "sent";
  const li = h("li", {
    class: ["msg", mine ? "mine" : "theirs", bot ? "from-bot" : "", row.first ? "first" : "cont", m.deleted ? "deleted" : "", m.seq === undefined ? m.status : ""]
      .filter(Boolean)
      .join(" "),
    dataset: { sig, seq: m.seq ?? "", status, clientId: m.client_id },
  });
  if (groupish && !mine) {
    li.append(
      row.first
        ? avatar({ name: m.sender.name, avatar: bot ? null : m.sender.avatar, seed: bot ? m.sender.id : `u${m.sender.id}`, size: "small" })
        : h("span", { class: "avatar-spacer", "aria-hidden": "true" }),
    );
  }
  const bubble = h("div", { class: "bubble" });
  bubble.append(h("span", { class: "visually-hidden", text: mine ? "You: " : bot ? `${m.sender.name} (bot): ` : `${m.sender.name}: ` }));
  if (showSender) {
    const sender = h("div", { class: "sender", "aria-hidden": "true" }, h("span", { class: "sender-name", text: m.sender.name }));
    if (bot) sender.append(" ", h("span", { class: "bot-badge", text: "Bot" }));
    bubble.append(sender);
  }
  if (m.deleted) {
    bubble.append(h("div", { class: "body tombstone", text: "Message deleted" }));
  } else {
    if (files?.length) bubble.append(renderAttachments(files));
    if (m.body || !files?.length) {
      const body = h("div", { class: "body" });
      body.append(renderText(m.body));
      bubble.append(body);
    }
    if (m.reactions?.length && m.seq !== undefined) bubble.append(reactionChips(m, handlers));
  }
  const meta = h("div", { class: "meta" });
  if (m.edited_at && !m.deleted) {
    // "(edited)" opens the earlier versions (any member may read them).
    meta.append(
      h("button", {
        type: "button",
        class: "edited-mark",
        "data-focus": "edited",
        title: `Edited ${fullTime(m.edited_at)}`,
        "aria-label": `Edited ${fullTime(m.edited_at)}: show earlier versions`,
        text: "(edited)",
        onclick: () => handlers.showEdits(m),
      }),
    );
  }
  meta.append(h("time", { datetime: m.created_at, title: fullTime(m.created_at), text: timeOf(m.created_at) }));
  if (receipt) meta.append(h("span", { class: `receipt ${receipt.key}`, role: "img", "aria-label": receipt.label, title: receipt.label }, receipt.el));
  bubble.append(meta);
  li.append(bubble);
  if (m.seq !== undefined) {
    li.append(
      h("button", {
        type: "button",
        class: "msg-menu-btn",
        "aria-label": "Message actions",
        "aria-haspopup": "menu",
        "aria-expanded": "false",
        "data-focus": "menu",
        onclick: (e) => handlers.messageMenu(e.currentTarget, m),
      }, icon("dots")),
    );
  }
  if (m.status === "failed") {
    li.append(
      h("div", { class: "failed-row", role: "alert" },
        h("span", { text: m.error ? `Not sent: ${m.error}` : "Not sent." }),
        h("button", { type: "button", class: "link-btn", "data-focus": "retry", text: "Retry", onclick: () => handlers.retry(m.client_id) }),
      ),
    );
  }
  return li;
}

/** A message's reactions as toggle buttons: the emoji and its count, who reacted in the
 * title and the accessible name; pressed when I am one of them. */
function reactionChips(m, handlers) {
  return h(
    "div",
    { class: "reactions", role: "group", "aria-label": "Reactions" },
    m.reactions.map((r) =>
      h(
        "button",
        {
          type: "button",
          class: "reaction",
          "aria-pressed": String(Boolean(r.mine)),
          "aria-label": reactionLabel(r, isMine),
          title: reactorsText(r, isMine),
          "data-focus": `reaction:${r.emoji}`,
          dataset: { emoji: r.emoji },
          onclick: () => handlers.toggleReaction(m, r.emoji, Boolean(r.mine)),
        },
        h("span", { class: "reaction-emoji", "aria-hidden": "true", text: r.emoji }),
        h("span", { class: "reaction-count", "aria-hidden": "true", text: String(r.count) }),
      ),
    ),
  );
}

export function renderMessages(conv, handlers) {
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  // Keep the first message in view where it is when rows are added above it.
  let anchorKey = null;
  let anchorOffset = 0;
  if (!atBottom && !stickToBottom) {
    for (const el of list.children) {
      // Day separators are sticky, so they would make poor anchors.
      if (el.classList.contains("msg") && el.offsetTop + el.offsetHeight > box.scrollTop) {
        anchorKey = el.dataset.key; // its element may be rebuilt: find it again by key
        anchorOffset = el.offsetTop - box.scrollTop;
        break;
      }
    }
  }
  reconcile(list, withExtras(conv, rows(conv)), rowKey, (row, old) => messageRow(conv, row, old, handlers));
  let status = "";
  if (conv.loadingOlder) status = "Loading earlier messages…";
  else if (conv.historyError) status = conv.historyError;
  else if (conv.historyLoaded && !conv.hasMore) {
    status = conv.messages.size || conv.pending.size ? "This is the beginning of the conversation." : "No messages yet. Say hello!";
  }
  if (historyStatus.textContent !== status) historyStatus.textContent = status;
  if (stickToBottom || atBottom) {
    box.scrollTop = box.scrollHeight;
    stickToBottom = false;
  } else if (anchorKey !== null) {
    const anchor = [...list.children].find((el) => el.dataset.key === anchorKey);
    if (anchor) box.scrollTop = anchor.offsetTop - anchorOffset;
  }
}

/** Scroll message `seq` to the middle of the view and mark it for a moment (a search
 * result opened). False while it is not rendered yet. */
export function reveal(seq) {
  const li = list.querySelector(`li.msg[data-seq="${Number(seq)}"]`);
  if (!li) return false;
  stickToBottom = false;
  li.scrollIntoView({ block: "center" });
  li.classList.add("jumped");
  li.setAttribute("tabindex", "-1");
  li.focus({ preventScroll: true });
  setTimeout(() => li.classList.remove("jumped"), 2500);
  return true;
}

export function clear() {
  list.replaceChildren();
  historyStatus.textContent = "";
  typingEl.replaceChildren();
}

export { replaceChildren };
