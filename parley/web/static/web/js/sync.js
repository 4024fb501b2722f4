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

  const loadingHistory = new Map();
  /** The newest page of a conversation (one request however often it is asked for). */
  function loadHistory(conv) {
    if (loadingHistory.has(conv.id)) return loadingHistory.get(conv.id);
    const promise = (async () => {
      try {
        store.historyPage(conv, await get(`/conversations/${conv.id}/messages?limit=50`));
      } catch (err) {
        store.historyFailed(conv, `Could not load messages: ${err.message}`);
      }
      if (conv.id === state.openId) convView.scrollToBottomNext();
    })().finally(() => loadingHistory.delete(conv.id));
    loadingHistory.set(conv.id, promise);
    return promise;
  }

  /** Load history back to message `seq` (a search result), then bring it into view.
   * Pages of 200, older and older: the history in the store stays one unbroken run. */
  async function reveal(conv, seq) {
    if (!(await loadBackTo(conv, seq, { done: (c) => c.messages.has(seq) }))) return;
    if (!conv.messages.has(seq)) {
      toast("That message is no longer there.");
      return;
    }
    store.jumpTo(conv.id, seq);
  }

  /** Load older pages until the history shown reaches back to `seq` (or `done(conv)`
   * says so, or it begins, or `maxPages` of 200 were read). False when a page could not
   * be read. */
  async function loadBackTo(conv, seq, { done = (c) => c.messages.size && Math.min(...c.messages.keys()) <= seq, maxPages = 100 } = {}) {
    if (!conv.historyLoaded) await loadHistory(conv);
    for (let pages = 0; !done(conv) && conv.hasMore && conv.messages.size && pages < maxPages; pages++) {
      const oldest = Math.min(...conv.messages.keys());
      try {
        const page = await get(`/conversations/${conv.id}/messages?before=${oldest}&limit=200`);
        store.historyPage(conv, page, { older: true });
      } catch (err) {
        toast(`Could not load earlier messages: ${err.message}`);
        return false;
      }
    }
    return true;
  }

  let searchTimer = null;
  /** Search messages for `q` (after `delay` ms, replacing a search not started yet). */
  function search(q, { delay = 0 } = {}) {
    clearTimeout(searchTimer);
    q = q.trim();
    if (q.length < 2) {
      if (state.search.q) store.searchLoading("");
      return;
    }
    searchTimer = setTimeout(() => runSearch(q), delay);
  }

  async function runSearch(q, cursor = null) {
    const more = Boolean(cursor);
    store.searchLoading(q, { more });
    const params = new URLSearchParams({ q, limit: "20" });
    if (cursor) params.set("cursor", cursor);
    try {
      store.searchPage(q, await get(`/search?${params}`), { more });
    } catch (err) {
      store.searchFailed(q, err.message);
    }
  }

  function searchMore() {
    if (state.search.cursor && !state.search.loading) runSearch(state.search.q, state.search.cursor);
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
    if (conv.keepUnread) return; // I marked it unread while it was open (unread-divider.js)
    const seq = Math.max(conv.last_seq, state.positions.get(conv.id) || 0);
    if (seq <= conv.read_seq && conv.unread === 0) return;
    const sent = seq > conv.read_seq && conn.send({ type: "receipt", conversation: conv.id, kind: "read", seq });
    store.readUpTo(conv, sent ? seq : null);
  }

  return {
    loadConversations,
    fetchConversation,
    loadBackTo,
    loadHistory,
    loadOlder,
    markDelivered,
    markRead,
    reveal,
    search,
    searchMore,
  };
}
