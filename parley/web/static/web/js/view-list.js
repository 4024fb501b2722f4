// The conversation list on the left.

import { avatar } from "./avatar.js";
import { h, icon, reconcile } from "./dom.js";
import { listTime, unreadBadge, unreadWords } from "./format.js";
import { isMine, state } from "./store.js";

const ul = document.getElementById("conversation-list");
const empty = document.getElementById("list-empty");
const filterEmpty = document.getElementById("filter-empty");

/** My chats, newest activity first; visitors' conversations are in the inbox instead. */
export function sorted() {
  return [...state.convs.values()].filter((c) => c.kind !== "support").sort((a, b) => {
    const ta = a.last_message_at || "";
    const tb = b.last_message_at || "";
    if (ta !== tb) return ta < tb ? 1 : -1;
    return b.id - a.id;
  });
}

function matches(conv, q) {
  if (!q) return true;
  const hay = [conv.title, conv.other_user?.username, conv.other_user?.name, conv.slug]
    .filter(Boolean)
    .join(" ")
    .toLowerCase();
  return hay.includes(q);
}

function filesPreview(files) {
  if (!files?.length) return "";
  if (files.length > 1) return `${files.length} files`;
  return files[0].kind === "image" ? "Photo" : files[0].name;
}

export function preview(conv) {
  if (conv.typing.size) {
    const names = [...conv.typing.values()].map((t) => t.name);
    return { text: conv.kind === "direct" ? "typing…" : `${names[0]} is typing…`, cls: "is-typing" };
  }
  const m = conv.last_message;
  if (!m) return { text: conv.kind === "public" ? conv.about || "Public room" : "No messages yet", cls: "none" };
  let who = "";
  if (isMine(m.sender)) who = "You: ";
  else if (conv.kind !== "direct") who = `${m.sender.name}: `;
  if (m.deleted) return { text: `${who}Message deleted`, cls: "deleted" };
  const text = m.body.replace(/\s+/g, " ").slice(0, 200) || filesPreview(m.attachments);
  return { text: who + text, cls: "" };
}

function signature(conv) {
  const p = preview(conv);
  return JSON.stringify([
    conv.title,
    conv.kind,
    conv.unread,
    conv.last_message_at,
    p.text,
    conv.other_user?.online,
    conv.other_user?.avatar,
    state.openId === conv.id,
  ]);
}

function item(conv, old) {
  const sig = signature(conv);
  if (old && old.dataset.sig === sig) return old;
  const online = conv.kind === "direct" && Boolean(conv.other_user?.online);
  const who = conv.kind === "direct" ? conv.other_user : null;
  const p = preview(conv);
  const kindIcon = conv.kind === "group" ? icon("group", "icon kind") : conv.kind === "public" ? icon("globe", "icon kind") : null;
  const unread = conv.unread > 0;
  const label = [
    conv.title,
    conv.kind === "group" ? "group" : conv.kind === "public" ? "public room" : null,
    online ? "online" : null,
    unread ? unreadWords(conv.unread, state.unreadCap) : null,
  ]
    .filter(Boolean)
    .join(", ");
  const li = h(
    "li",
    { dataset: { sig, conversationId: conv.id } },
    h(
      "a",
      {
        class: `conv-item${unread ? " has-unread" : ""}`,
        href: `/c/${conv.id}/`,
        "aria-current": state.openId === conv.id ? "page" : null,
        "data-focus": "link",
        "data-conversation": conv.id,
      },
      avatar({
        name: who ? who.name : conv.title,
        avatar: who?.avatar,
        seed: who ? `u${who.id}` : `c${conv.id}`,
        online,
      }),
      h(
        "span",
        { class: "conv-main" },
        h(
          "span",
          { class: "conv-top" },
          h("span", { class: `conv-title${online ? " online" : ""}` }, kindIcon, h("span", { class: "visually-hidden", text: label + ". " }), h("span", { "aria-hidden": "true", text: conv.title || "…" })),
          h("time", { class: "conv-time", datetime: conv.last_message_at, text: listTime(conv.last_message_at) }),
        ),
        h(
          "span",
          { class: "conv-bottom" },
          h("span", { class: `conv-preview ${p.cls}`, text: p.text }),
          unread
            ? h("span", { class: "badge", "aria-hidden": "true", text: unreadBadge(conv.unread, state.unreadCap) })
            : null,
        ),
      ),
    ),
  );
  return li;
}

export function render() {
  const q = state.filter.trim().toLowerCase();
  const all = sorted();
  const shown = all.filter((c) => matches(c, q));
  reconcile(ul, shown, (c) => String(c.id), item);
  ul.setAttribute("aria-busy", String(!state.loaded));
  empty.hidden = !state.loaded || all.length > 0;
  filterEmpty.hidden = !(all.length > 0 && shown.length === 0);
}
