// Reading from the server over REST (the conversation list, a conversation, history
// pages) and telling it what I have received and read. Everything read goes into the
// store; the views redraw from there.

import { ApiError, get } from "./api.js";
import * as store from "./store.js";
import { state } from "./store.js";
import * as convView from "./view-conversation.js";
import { toast } from "./ui.js";

export function createSync(conn) {
  async function loadConversations() {
    try {
      store.conversationsLoaded(await get("/conversations"));
    } catch (err) {
      toast(err.message || "Could not load your conversations.");
      setTimeout(loadConversations, 5000);
    }
  }

  const fetching = new Map();
  /** A conversation's detail (members, receipts); `reloadHistory` after a reset. */
  function fetchConversation(id, reloadHistory = false) {
    if (fetching.has(id)) return fetching.get(id);
    const promise = get(`/conversations/${id}`)
      .then((data) => {
        const conv = store.upsertConv(data);
        if (reloadHistory && conv.id === state.openId) loadHistory(conv);
        return conv;
      })
      .catch((err) => {
        if (err instanceof ApiError && err.status === 404) store.removeConv(id);
        return null;
      })
      .finally(() => fetching.delete(id));
    fetching.set(id, promise);
    return promise;
  }

  async function loadHistory(conv) {
    try {
      store.historyPage(conv, await get(`/conversations/${conv.id}/messages?limit=50`));
    } catch (err) {
      store.historyFailed(conv, `Could not load messages: ${err.message}`);
    }
    if (conv.id === state.openId) convView.scrollToBottomNext();
  }

  async function loadOlder(conv) {
    if (!conv.historyLoaded || conv.loadingOlder || !conv.hasMore) return;
    const seqs = [...conv.messages.keys()];
    store.loadingOlder(conv, Boolean(seqs.length));
    if (!seqs.length) return;
    try {
      const page = await get(`/conversations/${conv.id}/messages?before=${Math.min(...seqs)}&limit=50`);
      store.historyPage(conv, page, { older: true });
    } catch (err) {
      toast(`Could not load earlier messages: ${err.message}`);
    } finally {
      store.loadingOlder(conv, false);
    }
  }

  function markDelivered(conv, seq) {
    if (seq <= conv.delivered_seq) return;
    if (conn.send({ type: "receipt", conversation: conv.id, kind: "delivered", seq })) {
      store.deliveredUpTo(conv, seq);
    }
  }

  /** Everything in the open conversation is read, once the page is actually visible. */
  function markRead(conv) {
    if (document.visibilityState !== "visible") return;
    const seq = Math.max(conv.last_seq, state.positions.get(conv.id) || 0);
    if (seq <= conv.read_seq && conv.unread === 0) return;
    const sent = seq > conv.read_seq && conn.send({ type: "receipt", conversation: conv.id, kind: "read", seq });
    store.readUpTo(conv, sent ? seq : null);
  }

  return { loadConversations, fetchConversation, loadHistory, loadOlder, markDelivered, markRead };
}
