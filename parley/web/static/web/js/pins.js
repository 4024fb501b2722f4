// Pinned messages: the bar under the conversation's header (the newest pin; a click shows
// it in the history), the list of all pins, and Pin / Unpin in the message menu. Who may
// pin: both people of a direct chat, the owner and admins elsewhere (docs/protocol.md).

import { avatar } from "./avatar.js";
import { pinList } from "./conv-extras.js";
import { h, icon, replaceChildren } from "./dom.js";
import { fullTime, timeOf } from "./format.js";
import { state } from "./store.js";
import { $, failed, openDialog, toast } from "./ui.js";

export function mayPin(conv) {
  return conv.kind === "direct" || conv.role === "owner" || conv.role === "admin";
}

function preview(conv, pin) {
  // The message as it is here now (it may have changed since it was pinned).
  const message = conv.messages.get(pin.message_seq) || pin.message;
  if (!message) return { who: "", text: "A message" };
  const text = message.deleted ? "Message deleted" : message.body.replace(/\s+/g, " ").slice(0, 140);
  return { who: message.sender?.name || "", text, at: message.created_at, sender: message.sender };
}

export function createPins({ conn, sync }) {
  const bar = $("pin-bar");
  const dialog = $("pins-dialog");
  const list = $("pin-list");

  function show(conv, seq) {
    if (dialog.open) dialog.close();
    sync.reveal(conv, seq);
  }

  async function pin(conv, seq, pinned) {
    try {
      await conn.request({ type: pinned ? "message.pin" : "message.unpin", conversation: conv.id, seq });
      toast(pinned ? "Message pinned." : "Message unpinned.");
    } catch (err) {
      failed(err);
    }
  }

  function render(conv) {
    const pins = conv ? pinList(conv) : [];
    bar.hidden = !pins.length;
    if (pins.length) {
      const newest = preview(conv, pins[0]);
      const label = pins.length === 1 ? "Pinned message" : `Pinned message 1 of ${pins.length}`;
      replaceChildren(
        bar,
        h(
          "button",
          {
            type: "button",
            class: "pin-show",
            "data-focus": "pin-show",
            "aria-label": `${label}: ${newest.who ? `${newest.who}: ` : ""}${newest.text}. Show it in the conversation`,
            onclick: () => show(conv, pins[0].message_seq),
          },
          icon("pin"),
          h("span", { class: "pin-text" }, h("strong", { text: label }), h("span", { class: "pin-preview", text: newest.text })),
        ),
        h("button", {
          type: "button",
          class: "link-btn pin-all",
          "data-focus": "pin-all",
          "aria-haspopup": "dialog",
          text: pins.length === 1 ? "Pins" : `All ${pins.length}`,
          "aria-label": `All pinned messages (${pins.length})`,
          onclick: () => openList(conv),
        }),
      );
    }
    if (dialog.open) renderList(conv);
  }

  function renderList(conv) {
    const pins = pinList(conv);
    $("pins-title").textContent = `Pinned messages (${pins.length})`;
    if (!pins.length) {
      replaceChildren(list, h("li", { class: "muted", text: "Nothing is pinned." }));
      return;
    }
    replaceChildren(
      list,
      ...pins.map((p) => {
        const m = preview(conv, p);
        return h(
          "li",
          { class: "pin-item", dataset: { seq: p.message_seq } },
          avatar({ name: m.who || "?", avatar: m.sender?.avatar, seed: m.sender ? `u${m.sender.id}` : "pin", size: "small" }),
          h(
            "div",
            { class: "pin-item-text" },
            h("span", { class: "pin-item-who" }, h("strong", { text: m.who }), " ", m.at ? h("time", { datetime: m.at, title: fullTime(m.at), text: timeOf(m.at) }) : null),
            h("span", { class: "pin-item-body", text: m.text }),
            h("span", { class: "muted small", text: `Pinned by ${p.by.name}` }),
          ),
          h("button", { type: "button", class: "btn", "data-focus": `show-${p.message_seq}`, text: "Show", "aria-label": `Show the message of ${m.who} in the conversation`, onclick: () => show(conv, p.message_seq) }),
          mayPin(conv)
            ? h("button", { type: "button", class: "btn", "data-focus": `unpin-${p.message_seq}`, text: "Unpin", "aria-label": `Unpin the message of ${m.who}`, onclick: () => pin(conv, p.message_seq, false) })
            : null,
        );
      }),
    );
  }

  function openList(conv) {
    renderList(conv);
    openDialog(dialog);
    list.querySelector("button")?.focus();
  }

  function messageItems(conv, m) {
    if (m.seq === undefined || m.deleted || !mayPin(conv)) return [];
    if (conv.pins.has(m.seq)) return [{ label: "Unpin", action: () => pin(conv, m.seq, false) }];
    return [{ label: "Pin", action: () => pin(conv, m.seq, true) }];
  }

  function conversationItems(conv) {
    return conv.pins.size ? [{ label: "Pinned messages", action: () => openList(conv) }] : [];
  }

  return { render: () => render(state.convs.get(state.openId)), messageItems, conversationItems };
}
