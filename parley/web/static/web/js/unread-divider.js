// Unread messages in the open conversation: the "New messages" divider (drawn by
// timeline.js), opening a conversation at it, the "Jump to first unread" and "Jump to
// latest" buttons, and marking a conversation unread (docs/protocol.md, unread.mark).

import * as store from "./store.js";
import { state } from "./store.js";
import { $, failed, toast } from "./ui.js";

export function createUnreadDivider({ conn, sync }) {
  const box = $("messages");
  const toLatest = $("jump-latest");
  const toUnread = $("jump-unread");
  let scrollPending = false; // bring the divider to the top at the next render

  /** Opening a conversation: with unread messages, the divider goes before the first of
   * them and the view starts there (older pages are read until it is in the history).
   * Call before marking it read. */
  function opened(conv) {
    const after = conv.unread > 0 ? conv.read_seq : null;
    store.setDivider(conv, after);
    scrollPending = after !== null;
    // At most 1,000 messages back: further up, "Jump to first unread" reads the rest.
    if (after !== null) sync.loadBackTo(conv, after + 1, { maxPages: 5 });
  }

  function dividerEl() {
    return document.getElementById("unread-divider");
  }

  /** After each render of the messages: a pending start at the divider, and the buttons. */
  function afterRender(conv) {
    if (scrollPending && conv.dividerAfter !== null && conv.historyLoaded) {
      const divider = dividerEl();
      const reached = !conv.hasMore || (conv.messages.size && Math.min(...conv.messages.keys()) <= conv.dividerAfter + 1);
      if (divider && reached) {
        box.scrollTop = Math.max(0, divider.offsetTop - 8);
        scrollPending = false;
      }
    }
    if (conv.dividerAfter === null) scrollPending = false;
    updateButtons();
  }

  function updateButtons() {
    const conv = state.convs.get(state.openId);
    const fromBottom = box.scrollHeight - box.scrollTop - box.clientHeight;
    toLatest.hidden = !conv || fromBottom < 200;
    const divider = dividerEl();
    const inView = divider && divider.offsetTop >= box.scrollTop && divider.offsetTop <= box.scrollTop + box.clientHeight;
    toUnread.hidden = !conv || conv.dividerAfter === null || Boolean(inView);
  }

  box.addEventListener("scroll", updateButtons, { passive: true });

  toLatest.addEventListener("click", () => {
    box.scrollTop = box.scrollHeight;
    updateButtons();
    box.focus({ preventScroll: true });
  });

  toUnread.addEventListener("click", async () => {
    const conv = state.convs.get(state.openId);
    if (!conv || conv.dividerAfter === null) return;
    await sync.loadBackTo(conv, conv.dividerAfter + 1);
    scrollPending = true;
    store.setDivider(conv, conv.dividerAfter, { keep: conv.keepUnread }); // redraws, then scrolls
    box.focus({ preventScroll: true });
  });

  /** Show the conversation as unread from message `seq` on, on all my devices. */
  async function markUnread(conv, seq) {
    try {
      const ack = await conn.request({ type: "unread.mark", conversation: conv.id, seq });
      store.markedUnread(conv, ack.result.read_seq, ack.result.unread);
      store.setDivider(conv, ack.result.read_seq, { keep: true });
      toast("Marked as unread.");
    } catch (err) {
      failed(err);
    }
  }

  function messageItems(conv, m) {
    if (m.seq === undefined) return [];
    return [{ label: "Mark unread from here", action: () => markUnread(conv, m.seq) }];
  }

  /** "Mark as unread": from the newest message of someone else (or the newest at all). */
  function conversationItems(conv) {
    const stored = [...conv.messages.values()].sort((a, b) => b.seq - a.seq);
    const target = stored.find((m) => !store.isMine(m.sender) && !m.deleted) || stored[0];
    if (!target) return [];
    return [{ label: "Mark as unread", action: () => markUnread(conv, target.seq) }];
  }

  return { opened, afterRender, messageItems, conversationItems };
}
