// Client state: conversations, their messages, stream positions; and how events change it.
//
// Two rules keep the view exact across reconnects:
//  * stream events (those with a `seq`, or `user_seq`) are applied once: anything at or
//    below the last position seen for that stream is a duplicate and is dropped;
//  * messages are kept by seq, so one that arrives twice (REST page, ack, live event) is
//    still one message.

import { withReactionEvent } from "./reactions.js";
import * as extras from "./conv-extras.js";

export const state = {
  me: null,
  convs: new Map(),
  openId: null,
  positions: new Map(), // conversation id -> last stream seq applied
  userSeq: null, // last user-stream seq applied
  connection: "connecting",
  filter: "",
  loaded: false,
  // The server counts unread messages up to this many (boot and hello `unread_cap`): a
  // count at it means that many or more.
  unreadCap: Infinity,
  // The support inbox (docs/widget.md): which section the sidebar shows, the visitors'
  // conversations of my widgets as the inbox API gives them, my widgets, the team's notes.
  section: "chats", // "chats", "inbox" or "widgets" (the management screen)
  inbox: new Map(), // conversation id -> support record (GET /api/v1/inbox shape)
  inboxLoaded: false,
  inboxFilter: { status: "open", assignee: "", widget: "" },
  widgets: null, // my widgets (GET /api/v1/widgets), null until read
  notes: new Map(), // conversation id -> the team's private notes, oldest first
  // My own support settings (GET /api/v1/me/support): available or away, and which
  // emails I want; null until read.
  supportPrefs: null,
  // The outgoing webhooks of my widgets (owner only): widget id (null: the owner-level
  // ones, for all my widgets) -> its endpoints, and
  // endpoint id -> its newest deliveries, as the webhooks API answered.
  webhooks: new Map(),
  // The support automation of my widgets, as the API answered: widget id -> its bot's
  // settings (GET /api/v1/widgets/{id}/bot), widget id -> its canned replies.
  bots: new Map(),
  canned: new Map(),
  deliveries: new Map(),
  // Message search (docs/search.md): the query whose results are shown ("" for none), the
  // results so far (GET /api/v1/search hits), the cursor of the next page.
  search: { q: "", results: [], cursor: null, loading: false, error: null },
  // A message to bring into view once its history is loaded: { conv, seq }.
  jump: null,
};

let notify = () => {};
/** The view registers here: called with a part name ("list", "open", "header", ...). */
export function onChange(fn) {
  notify = fn;
}
const changed = (...parts) => parts.forEach((p) => notify(p));

export function isMine(sender) {
  return sender && sender.kind === "user" && String(sender.id) === String(state.me.id);
}

function blankConv(id) {
  return {
    id,
    kind: "direct",
    title: "",
    slug: null,
    about: "",
    last_seq: 0,
    role: "member",
    unread: 0,
    unreadAsOf: 0, // the last seq that the unread count from the server included
    read_seq: 0,
    delivered_seq: 0,
    cleared_through_seq: 0,
    last_message: null,
    last_message_at: null,
    other_user: null,
    online_count: 0,
    invite_url: null,
    edits_allowed: true, // whether members may edit their messages (the group's setting)
    members: null, // Map user id -> member, once the detail was fetched
    receipts: new Map(), // user id -> {read_seq, delivered_seq} of the others
    messages: new Map(), // seq -> message
    pending: new Map(), // client_id -> my message not acknowledged yet
    deleted: new Set(), // seqs deleted for everyone (seen as events)
    hidden: new Set(), // seqs deleted for me
    historyLoaded: false,
    hasMore: true,
    loadingOlder: false,
    typing: new Map(), // user id -> {name, timer}
    detailLoaded: false,
    ...extras.blankExtras(), // timeline lines, pins, the unread divider (conv-extras.js)
  };
}

/** Merge a Conversation from the REST API (list or detail). */
export function upsertConv(data) {
  let conv = state.convs.get(data.id);
  const fresh = !conv;
  if (fresh) {
    conv = blankConv(data.id);
    state.convs.set(data.id, conv);
  }
  const stale = !fresh && data.last_seq < conv.last_seq;
  for (const key of ["kind", "title", "slug", "about", "role", "online_count", "invite_url", "edits_allowed"]) {
    if (data[key] !== undefined) conv[key] = data[key];
  }
  if (data.other_user !== undefined) conv.other_user = data.other_user;
  if (!stale && Array.isArray(data.pins)) extras.setPins(conv, data.pins);
  if (!stale) {
    conv.last_seq = data.last_seq;
    // A read receipt of ours may have crossed this answer on the wire: then the answer's
    // count is older than what we know.
    let counted = true;
    if ((data.read_seq || 0) >= conv.read_seq) conv.unread = data.unread ?? conv.unread;
    else if (conv.read_seq >= data.last_seq) conv.unread = 0;
    else counted = false;
    // The events of the messages it counted may still be on their way: they count once.
    if (counted) conv.unreadAsOf = Math.max(conv.unreadAsOf, data.last_seq);
    conv.last_message = data.last_message ?? null;
    conv.last_message_at = data.last_message_at ?? conv.last_message_at;
  }
  conv.read_seq = Math.max(conv.read_seq, data.read_seq || 0);
  conv.delivered_seq = Math.max(conv.delivered_seq, data.delivered_seq || 0);
  if ((data.cleared_through_seq || 0) > conv.cleared_through_seq) {
    clearThrough(conv, data.cleared_through_seq);
  }
  if (Array.isArray(data.members)) {
    conv.members = new Map();
    for (const m of data.members) {
      const id = String(m.id);
      conv.members.set(id, m);
      if (m.kind === "user" && id === String(state.me.id)) continue;
      const r = conv.receipts.get(id) || { read_seq: 0, delivered_seq: 0 };
      r.read_seq = Math.max(r.read_seq, m.read_seq || 0);
      r.delivered_seq = Math.max(r.delivered_seq, m.delivered_seq || 0);
      conv.receipts.set(id, r);
    }
    conv.detailLoaded = true;
  }
  if (!state.positions.has(conv.id)) state.positions.set(conv.id, data.last_seq);
  changed("list", "header", "title");
  if (conv.id === state.openId) changed("messages");
  return conv;
}

export function removeConv(id) {
  state.convs.delete(id);
  state.positions.delete(id);
  state.inbox.delete(id);
  state.notes.delete(id);
  changed("list", "title", "inbox");
  if (state.openId === id) changed("closed");
}

/** A count at the cap is "that many or more": one fewer is not known to be below it. */
function uncount(conv, m) {
  const countable = conv.unread > 0 && conv.unread < state.unreadCap;
  if (countable && !isMine(m.sender) && m.seq > conv.read_seq && !m.deleted) conv.unread -= 1;
}

function clearThrough(conv, through) {
  conv.cleared_through_seq = Math.max(conv.cleared_through_seq, through);
  for (const seq of [...conv.messages.keys()]) if (seq <= through) conv.messages.delete(seq);
  if (conv.last_message && conv.last_message.seq <= through) conv.last_message = null;
  conv.read_seq = Math.max(conv.read_seq, through);
  extras.clearExtras(conv, through);
}

/** Messages from a REST page: merged by seq, with what events told us applied over them. */
export function mergeMessages(conv, messages) {
  for (const m of messages) addMessage(conv, m);
}

function addMessage(conv, m) {
  if (m.seq <= conv.cleared_through_seq || conv.hidden.has(m.seq)) return false;
  if (conv.deleted.has(m.seq) && !m.deleted) m = { ...m, deleted: true, body: "", edited_at: null, reactions: [], attachments: null };
  conv.messages.set(m.seq, m);
  if (isMine(m.sender)) conv.pending.delete(m.client_id);
  return true;
}

function newestVisible(conv) {
  let best = null;
  for (const m of conv.messages.values()) if (!best || m.seq > best.seq) best = m;
  return best;
}

// --- sending ---------------------------------------------------------------------------

export function addPending(conv, body, clientId, attachments = null) {
  const p = {
    client_id: clientId,
    body,
    attachments, // the uploads it carries (docs/files.md), or null
    created_at: new Date().toISOString(),
    sender: state.me,
    status: "pending",
    error: null,
  };
  conv.pending.set(clientId, p);
  changed("messages");
  return p;
}

export function pendingStatus(conv, clientId, status, error = null) {
  const p = conv.pending.get(clientId);
  if (!p) return;
  p.status = status;
  p.error = error;
  changed("messages");
}

/** My message as the server stored it (from an ack): it replaces the pending one. */
export function acknowledged(conv, message) {
  addMessage(conv, message);
  conv.pending.delete(message.client_id);
  conv.keepUnread = false; // I replied: marked unread or not, I have seen it
  if (!conv.last_message || conv.last_message.seq <= message.seq) {
    conv.last_message = message;
    conv.last_message_at = message.created_at;
  }
  conv.last_seq = Math.max(conv.last_seq, message.seq);
  changed("messages", "list");
}

// --- what the app and the server change (every write to the state is in this module) ---

export function start(me, unreadCap) {
  state.me = me;
  state.unreadCap = unreadCap ?? Infinity;
}

export function helloReceived(frame) {
  if (state.userSeq === null) state.userSeq = frame.user_seq;
}

export function setConnection(status) {
  state.connection = status;
  changed("banner");
}

export function setFilter(text) {
  state.filter = text;
  changed("list");
}

/** A message search started (or more of its results asked for); "" clears it. */
export function searchLoading(q, { more = false } = {}) {
  const kept = more && state.search.q === q ? state.search : { results: [], cursor: null };
  state.search = { ...kept, q, loading: Boolean(q), error: null };
  changed("search");
}

/** A page of results of search `q` (dropped when another search was started since). */
export function searchPage(q, page, { more = false } = {}) {
  if (state.search.q !== q) return;
  const results = more ? [...state.search.results, ...page.results] : page.results;
  state.search = { q, results, cursor: page.next_cursor, loading: false, error: null };
  changed("search");
}

export function searchFailed(q, message) {
  if (state.search.q !== q) return;
  state.search = { ...state.search, loading: false, error: message };
  changed("search");
}

/** Bring message `seq` of conversation `convId` into view at the next render. */
export function jumpTo(convId, seq) {
  state.jump = { conv: convId, seq };
  changed("messages");
}

export function jumped() {
  state.jump = null;
}

/** The conversation shown (null: the list). Returns the one shown before. */
export function setOpen(id) {
  const was = state.openId;
  state.openId = id;
  return was;
}

/** The whole list from the REST API: what it no longer has, I am no longer in. */
export function conversationsLoaded(list) {
  const seen = new Set();
  for (const data of list) {
    upsertConv(data);
    seen.add(data.id);
  }
  for (const id of [...state.convs.keys()]) if (!seen.has(id)) removeConv(id);
  state.loaded = true;
  changed("list", "title");
}

/**
 * A `resumed` frame. A conversation the server could not replay (`reset`) starts over:
 * its position moves to the server's and its messages are dropped until history is read
 * again. Returns what the app must fetch: {reset, unknown: conversation ids, reloadList}.
 */
export function resumed(frame) {
  const positions = frame.conversations || {};
  const reset = frame.reset || [];
  for (const cid of reset) {
    if (positions[String(cid)] !== undefined) state.positions.set(cid, positions[String(cid)]);
    const conv = state.convs.get(cid);
    if (conv) {
      conv.messages.clear();
      conv.historyLoaded = false;
      conv.hasMore = true;
    }
  }
  if (frame.user_reset) state.userSeq = frame.user_seq;
  const unknown = [];
  for (const key of Object.keys(positions)) {
    const cid = Number(key);
    if (!state.convs.has(cid)) {
      state.positions.set(cid, positions[key]);
      unknown.push(cid);
    }
  }
  return { reset, unknown, reloadList: Boolean(frame.user_reset) };
}

/** The newest page of history (`older`: the page before the oldest one shown). */
export function historyPage(conv, page, { older = false } = {}) {
  mergeMessages(conv, page.results);
  for (const event of page.events || []) extras.addTimeline(conv, event);
  conv.hasMore = page.has_more;
  if (!older) {
    conv.historyLoaded = true;
    conv.historyError = null;
  }
  if (conv.id === state.openId) changed("messages");
}

export function historyFailed(conv, message) {
  conv.historyError = message;
  if (conv.id === state.openId) changed("messages");
}

/** Whether a page of older history is on its way (the view shows a spinner). */
export function loadingOlder(conv, loading) {
  conv.loadingOlder = loading;
  if (!loading && !conv.messages.size) conv.hasMore = false;
  if (conv.id === state.openId) changed("messages");
}

/** My delivered receipt up to `seq` went out. */
export function deliveredUpTo(conv, seq) {
  conv.delivered_seq = Math.max(conv.delivered_seq, seq);
}

/** I have seen the conversation: my read receipt up to `seq` went out (null: none was
 * needed), and nothing in it is unread any more. */
export function readUpTo(conv, seq) {
  if (seq !== null) {
    conv.read_seq = Math.max(conv.read_seq, seq);
    conv.delivered_seq = Math.max(conv.delivered_seq, seq);
  }
  conv.unread = 0;
  changed("list", "title");
}

/** Message `seq` deleted for everyone: a tombstone wherever it shows. Applying it twice
 * (my own request's answer, then the event) changes nothing the second time. */
export function tombstone(conv, seq) {
  const first = !conv.deleted.has(seq);
  conv.deleted.add(seq);
  const m = conv.messages.get(seq);
  if (m && !m.deleted) {
    if (first) uncount(conv, m);
    conv.messages.set(seq, { ...m, deleted: true, body: "", edited_at: null, reactions: [], attachments: null });
  }
  if (conv.last_message?.seq === seq) {
    conv.last_message = { ...conv.last_message, deleted: true, body: "", edited_at: null, attachments: null };
  }
  if (conv.pins.has(seq)) changed("header");
  extras.dropPin(conv, seq);
  changed("list", "title");
  if (conv.id === state.openId) changed("messages");
}

/** Message `seq` has a new text (its sender edited it): shown with "(edited)", in the
 * history and in the list's preview. Not a new message: unread counts stay. */
export function edited(conv, seq, body, editedAt) {
  if (conv.deleted.has(seq)) return;
  const m = conv.messages.get(seq);
  if (m && !m.deleted) conv.messages.set(seq, { ...m, body, edited_at: editedAt });
  if (conv.last_message?.seq === seq && !conv.last_message.deleted) {
    conv.last_message = { ...conv.last_message, body, edited_at: editedAt };
  }
  changed("list");
  if (conv.id === state.openId) changed("messages");
}

/** Message `seq` deleted for me (on this or another of my devices): gone from my view. */
export function hideMessage(conv, seq) {
  const m = conv.messages.get(seq);
  if (m && !conv.hidden.has(seq)) uncount(conv, m);
  conv.hidden.add(seq);
  conv.messages.delete(seq);
  if (conv.pins.has(seq)) changed("header");
  extras.dropPin(conv, seq);
  if (conv.last_message?.seq === seq) conv.last_message = newestVisible(conv);
  changed("list", "title");
  if (conv.id === state.openId) changed("messages");
}

/** I marked the conversation unread (here or on another device): my read cursor moved
 * back to `readSeq`, and `unread` messages of others are unread as of now. */
export function markedUnread(conv, readSeq, unread) {
  conv.read_seq = readSeq;
  conv.unread = unread;
  conv.unreadAsOf = Math.max(conv.unreadAsOf, conv.last_seq);
  changed("list", "title");
  if (conv.id === state.openId) changed("messages");
}

/** Where the "New messages" divider goes (after `seq`; null: none). `keep`: I marked it
 * unread here, so it is not marked read again while it stays open. */
export function setDivider(conv, seq, { keep = false } = {}) {
  conv.dividerAfter = seq;
  conv.keepUnread = keep;
  if (conv.id === state.openId) changed("messages");
}

/** My history cleared through `through`: nothing up to it shows, nothing is unread. */
export function clearHistory(conv, through) {
  clearThrough(conv, through);
  conv.unread = 0;
  // Everything older than what is left was cleared too: nothing more to page in.
  if (![...conv.messages.keys()].some((seq) => seq > through)) conv.hasMore = false;
  changed("list", "title");
  if (conv.id === state.openId) changed("messages");
}

// --- events from the server ------------------------------------------------------------

/**
 * Apply one server frame. Returns hints for the app: {unknown: id} when the event is about
 * a conversation we do not know yet, {incoming: {conv, message}} for someone else's new
 * message.
 */
export function apply(frame) {
  if (frame.user_seq !== undefined && frame.type !== "resumed" && frame.type !== "hello") {
    if (state.userSeq !== null && frame.user_seq <= state.userSeq) return {};
    state.userSeq = frame.user_seq;
    return applyUserEvent(frame);
  }
  if (frame.seq !== undefined && frame.conversation !== undefined) {
    const cid = frame.conversation;
    const pos = state.positions.get(cid);
    if (pos !== undefined && frame.seq <= pos) return {};
    state.positions.set(cid, frame.seq);
    const conv = state.convs.get(cid);
    if (!conv) return { unknown: cid };
    conv.last_seq = Math.max(conv.last_seq, frame.seq);
    return applyConversationEvent(conv, frame);
  }
  return applyEphemeral(frame);
}

function applyConversationEvent(conv, frame) {
  if (extras.addTimeline(conv, frame) && conv.id === state.openId) changed("messages");
  switch (frame.type) {
    case "message.created": {
      const m = frame.message;
      if (!addMessage(conv, m)) return {};
      conv.last_message = m;
      conv.last_message_at = m.created_at;
      const typing = conv.typing.get(String(m.sender.id));
      if (typing) {
        clearTimeout(typing.timer);
        conv.typing.delete(String(m.sender.id));
        changed("typing");
      }
      changed("list", "title");
      if (conv.id === state.openId) changed("messages");
      const record = state.inbox.get(conv.id);
      if (record?.waiting_for_agent && m.sender.kind === "user") {
        // A team member answered: the visitor no longer waits (no event of its own says so).
        record.waiting_for_agent = false;
        changed("inbox", "support");
      }
      if (isMine(m.sender)) return {};
      if (m.seq > conv.unreadAsOf) conv.unread += 1;
      return { incoming: { conv, message: m } };
    }
    case "message.deleted":
      tombstone(conv, frame.message_seq);
      return {};
    case "message.edited":
      edited(conv, frame.message_seq, frame.body, frame.edited_at);
      return {};
    case "reaction.added":
    case "reaction.removed": {
      // Not a message: no unread count, no new last message, no notification.
      const m = conv.messages.get(frame.message_seq);
      if (m && !m.deleted) {
        const reactions = withReactionEvent(m.reactions, frame, isMine(frame.who));
        conv.messages.set(m.seq, { ...m, reactions });
        if (conv.id === state.openId) changed("messages");
      }
      return {};
    }
    case "member.joined": {
      if (conv.members) {
        conv.members.set(String(frame.member.id), {
          ...frame.member,
          role: frame.role,
          online: true,
          read_seq: frame.seq,
          delivered_seq: frame.seq,
        });
      }
      changed("header");
      return {};
    }
    case "member.left": {
      conv.members?.delete(String(frame.member.id));
      conv.receipts.delete(String(frame.member.id));
      changed("header");
      if (conv.id === state.openId) changed("messages");
      return {};
    }
    case "member.updated": {
      const member = conv.members?.get(String(frame.member.id));
      if (member) member.role = frame.role;
      if (isMine(frame.member)) {
        conv.role = frame.role;
        changed("header");
        return { refresh: conv.id }; // an admin sees the invite link: fetch it
      }
      return {};
    }
    case "conversation.updated":
      conv.title = frame.title;
      if (frame.edits_allowed !== undefined) conv.edits_allowed = frame.edits_allowed;
      if (frame.about !== undefined) conv.about = frame.about;
      changed("list", "header");
      return {};
    case "message.pinned":
      changed("header");
      // Not among the messages here (far up the history): the app reads the pins.
      return extras.pinned(conv, frame) ? {} : { refresh: conv.id };
    case "message.unpinned":
      extras.unpinned(conv, frame);
      changed("header");
      return {};
    case "support.updated": {
      const record = state.inbox.get(conv.id);
      if (!record) return { support: conv.id }; // the app reads it from the inbox API
      record.status = frame.status;
      record.snoozed_until = frame.snoozed_until ?? null;
      record.assignee = frame.assignee ? person(frame.assignee) : null;
      record.waiting_for_agent = Boolean(frame.waiting);
      changed("inbox", "support");
      return {};
    }
    case "support.rated": {
      const record = state.inbox.get(conv.id);
      if (!record) return { support: conv.id };
      record.rating = { score: frame.score, comment: frame.comment, rated_at: frame.rated_at };
      changed("inbox", "support");
      return {};
    }
    default:
      return {};
  }
}

/** A `Sender` of an event as the inbox API shows a person. */
function person(sender) {
  return { id: Number(sender.id), username: sender.username, name: sender.name };
}

function applyUserEvent(frame) {
  switch (frame.type) {
    case "conversation.joined": {
      const summary = frame.conversation;
      if (!state.positions.has(summary.id)) state.positions.set(summary.id, summary.last_seq);
      if (!state.convs.has(summary.id)) {
        const conv = blankConv(summary.id);
        Object.assign(conv, {
          kind: summary.kind,
          title: summary.title,
          role: summary.role,
          last_seq: summary.last_seq,
          read_seq: summary.last_seq,
          delivered_seq: summary.last_seq,
        });
        state.convs.set(summary.id, conv);
        changed("list");
      }
      return { unknown: summary.id };
    }
    case "conversation.left":
      removeConv(frame.conversation);
      return {};
    case "message.hidden": {
      const conv = state.convs.get(frame.conversation);
      if (conv) hideMessage(conv, frame.message_seq);
      return {};
    }
    case "history.cleared": {
      const conv = state.convs.get(frame.conversation);
      if (conv) clearHistory(conv, frame.through_seq);
      return {};
    }
    case "unread.marked": {
      const conv = state.convs.get(frame.conversation);
      if (conv) markedUnread(conv, frame.read_seq, frame.unread);
      return {};
    }
    default:
      return {};
  }
}

function applyEphemeral(frame) {
  const conv = frame.conversation !== undefined ? state.convs.get(frame.conversation) : null;
  switch (frame.type) {
    case "typing": {
      if (!conv || isMine(frame.who)) return {};
      const id = String(frame.who.id);
      const old = conv.typing.get(id);
      if (old) clearTimeout(old.timer);
      if (frame.active) {
        // A client repeats `typing` every few seconds while typing; silence means it stopped.
        const timer = setTimeout(() => {
          conv.typing.delete(id);
          changed("typing", "list");
        }, 7000);
        conv.typing.set(id, { name: frame.who.name, timer });
      } else {
        conv.typing.delete(id);
      }
      changed("typing", "list");
      return {};
    }
    case "receipt": {
      if (!conv) return {};
      if (isMine(frame.who)) {
        conv.read_seq = Math.max(conv.read_seq, frame.read_seq);
        conv.delivered_seq = Math.max(conv.delivered_seq, frame.delivered_seq);
        return {};
      }
      const id = String(frame.who.id);
      const r = conv.receipts.get(id) || { read_seq: 0, delivered_seq: 0 };
      r.read_seq = Math.max(r.read_seq, frame.read_seq);
      r.delivered_seq = Math.max(r.delivered_seq, frame.delivered_seq);
      conv.receipts.set(id, r);
      if (conv.id === state.openId) changed("messages");
      return {};
    }
    case "unread":
      if (!conv) return {};
      conv.unread = frame.count;
      changed("list", "title");
      return {};
    case "presence": {
      const uid = String(frame.user);
      for (const c of state.convs.values()) {
        let touched = false;
        if (c.other_user && String(c.other_user.id) === uid) {
          c.other_user = { ...c.other_user, online: frame.online };
          if (!frame.online) c.other_user.last_seen = frame.last_seen ?? null;
          touched = true;
        }
        const member = c.members?.get(uid);
        if (member) {
          member.online = frame.online;
          touched = true;
        }
        if (touched && c.id === state.openId) changed("header");
      }
      // A visitor's presence (`user` is their id) for the team's inbox.
      for (const record of state.inbox.values()) {
        if (record.visitor.id === uid) {
          record.visitor.online = frame.online;
          changed("inbox", "support", "header");
        }
      }
      changed("list");
      return {};
    }
    case "profile.updated":
      applyProfile(frame.user, frame.show_last_seen);
      return {};
    case "online":
      if (!conv) return {};
      conv.online_count = frame.count;
      if (conv.id === state.openId) changed("header");
      return {};
    default:
      return {};
  }
}

/** Someone renamed themselves or changed their picture: every place that shows them. */
function applyProfile(user, showLastSeen) {
  const uid = String(user.id);
  const fields = { name: user.name, username: user.username, avatar: user.avatar ?? null };
  if (user.kind === "user" && uid === String(state.me.id)) {
    Object.assign(state.me, fields);
    changed("me");
  }
  for (const c of state.convs.values()) {
    if (c.other_user && String(c.other_user.id) === uid) {
      c.other_user = { ...c.other_user, ...fields };
      if (!showLastSeen) c.other_user.last_seen = null;
      if (c.kind === "direct") c.title = user.name;
    }
    const member = c.members?.get(uid);
    if (member) Object.assign(member, fields);
    for (const [seq, m] of c.messages) {
      if (m.sender.kind === user.kind && String(m.sender.id) === uid) {
        c.messages.set(seq, { ...m, sender: { ...m.sender, ...fields } });
      }
    }
    if (c.last_message && String(c.last_message.sender.id) === uid) {
      c.last_message = { ...c.last_message, sender: { ...c.last_message.sender, ...fields } };
    }
  }
  changed("list", "header", "messages");
}

/** Where we stand, for `resume`. */
export function resumeState() {
  const conversations = {};
  for (const [id, seq] of state.positions) conversations[String(id)] = seq;
  const out = { conversations };
  if (state.userSeq !== null) out.user_seq = state.userSeq;
  return out;
}

export function totalUnread() {
  let n = 0;
  for (const c of state.convs.values()) n += c.unread;
  return n;
}

// --- the support inbox and widgets -------------------------------------------------------

/** Which part of the app shows: "chats", "inbox" or "widgets". */
export function setSection(section) {
  state.section = section;
  changed("section", "list", "inbox", "widgets");
}

/** My widgets, as the widgets API lists them. */
export function widgetsLoaded(list) {
  state.widgets = list;
  changed("widgets", "inbox", "section");
}

/** One widget as the API answered after a change (or a new one). */
export function widgetSaved(widget) {
  const list = state.widgets || [];
  const i = list.findIndex((w) => w.id === widget.id);
  if (i >= 0) list[i] = widget;
  else list.push(widget);
  state.widgets = list;
  changed("widgets", "inbox", "section");
}

export function widgetRemoved(id) {
  state.widgets = (state.widgets || []).filter((w) => w.id !== id);
  for (const [cid, record] of state.inbox) if (record.widget.id === id) state.inbox.delete(cid);
  if (state.inboxFilter.widget === String(id)) state.inboxFilter.widget = "";
  changed("widgets", "inbox", "section");
}

/** The team that answers a widget's visitors: the owner, then the agents. */
export function teamOf(widgetId) {
  const widget = (state.widgets || []).find((w) => w.id === widgetId);
  return widget ? [widget.owner, ...widget.agents] : [];
}

/** My support settings, as GET or PATCH /api/v1/me/support answered. */
export function supportPrefsLoaded(prefs) {
  state.supportPrefs = prefs;
  changed("availability");
}

/** A widget's bot settings, as the bot API answered (read, or saved). */
export function botLoaded(widgetId, bot) {
  state.bots.set(widgetId, bot);
  changed("automation");
}

/** A widget's canned replies (GET /api/v1/widgets/{id}/canned), by shortcut. */
export function cannedLoaded(widgetId, replies) {
  state.canned.set(widgetId, [...replies].sort((a, b) => (a.shortcut < b.shortcut ? -1 : 1)));
  changed("automation");
}

/** One canned reply added or changed. */
export function cannedSaved(widgetId, reply) {
  cannedLoaded(widgetId, [...(state.canned.get(widgetId) || []).filter((r) => r.id !== reply.id), reply]);
}

export function cannedRemoved(widgetId, id) {
  cannedLoaded(widgetId, (state.canned.get(widgetId) || []).filter((r) => r.id !== id));
}

/** A widget's webhook endpoints (GET /api/v1/widgets/{id}/webhooks). */
export function webhooksLoaded(widgetId, endpoints) {
  state.webhooks.set(widgetId, endpoints);
  changed("webhooks");
}

/** One endpoint added or changed (its new secret, say). */
export function webhookSaved(endpoint) {
  const list = state.webhooks.get(endpoint.widget) || [];
  const at = list.findIndex((e) => e.id === endpoint.id);
  if (at >= 0) list[at] = endpoint;
  else list.push(endpoint);
  state.webhooks.set(endpoint.widget, list);
  changed("webhooks");
}

export function webhookRemoved(widgetId, id) {
  state.webhooks.set(widgetId, (state.webhooks.get(widgetId) || []).filter((e) => e.id !== id));
  state.deliveries.delete(id);
  changed("webhooks");
}

/** An endpoint's newest deliveries, each with its attempts. */
export function deliveriesLoaded(endpointId, deliveries) {
  state.deliveries.set(endpointId, deliveries);
  changed("webhooks");
}

/** Whether a team member's message past `seq` is in conversation `id`. */
function answeredAfter(id, seq) {
  const conv = state.convs.get(id);
  if (!conv) return false;
  for (const m of conv.messages.values()) if (m.seq > seq && m.sender.kind === "user") return true;
  return false;
}

/** Support records from the inbox API (a page, or one): merged by conversation id. */
export function inboxLoaded(records) {
  for (const record of records) {
    // An answer read before a team member's message arrived here is behind it: that
    // message ended the waiting.
    if (record.waiting_for_agent && answeredAfter(record.id, record.last_seq)) record.waiting_for_agent = false;
    state.inbox.set(record.id, record);
  }
  state.inboxLoaded = true;
  changed("inbox", "support", "header");
}

export function setInboxFilter(patch) {
  Object.assign(state.inboxFilter, patch);
  changed("inbox");
}

/** When the conversation last had a message: the live conversation's, else the record's. */
function activity(record) {
  return state.convs.get(record.id)?.last_message_at || record.last_message_at || record.created_at;
}

function filtered(record, filter, text) {
  if (filter.status && record.status !== filter.status) return false;
  if (filter.widget && String(record.widget.id) !== String(filter.widget)) return false;
  const assignee = record.assignee ? String(record.assignee.id) : null;
  if (filter.assignee === "none" && assignee !== null) return false;
  if (filter.assignee === "me" && assignee !== String(state.me.id)) return false;
  if (filter.assignee && !["me", "none"].includes(filter.assignee) && assignee !== filter.assignee) {
    return false;
  }
  if (!text) return true;
  const v = record.visitor;
  return [v.name, v.email].join(" ").toLowerCase().includes(text);
}

/** The inbox as shown: the records that pass the filters, newest activity first. */
export function inboxItems() {
  const text = state.filter.trim().toLowerCase();
  return [...state.inbox.values()]
    .filter((r) => filtered(r, state.inboxFilter, text))
    .sort((a, b) => {
      const ta = activity(a);
      const tb = activity(b);
      if (ta !== tb) return ta < tb ? 1 : -1;
      return b.id - a.id;
    });
}

/** Unread messages in visitors' conversations (the Inbox tab) and in the rest (Chats). */
export function unreadBySection() {
  let inbox = 0;
  let chats = 0;
  for (const c of state.convs.values()) {
    if (c.kind === "support") inbox += c.unread;
    else chats += c.unread;
  }
  return { inbox, chats };
}

export function notesLoaded(conversationId, notes) {
  state.notes.set(conversationId, notes);
  changed("notes");
}

export function noteAdded(conversationId, note) {
  const notes = state.notes.get(conversationId) || [];
  if (!notes.some((n) => n.id === note.id)) notes.push(note);
  state.notes.set(conversationId, notes);
  changed("notes");
}

/** Receipt state of my message `seq`: "sent", "delivered", "read", or {readBy: n}. */
export function receiptOf(conv, seq) {
  if (conv.kind === "public") return { state: "sent" };
  let read = 0;
  let delivered = 0;
  for (const r of conv.receipts.values()) {
    if (r.read_seq >= seq) read += 1;
    if (r.delivered_seq >= seq || r.read_seq >= seq) delivered += 1;
  }
  if (conv.kind === "direct") {
    if (read) return { state: "read" };
    if (delivered) return { state: "delivered" };
    return { state: "sent" };
  }
  const others = conv.members ? Math.max(conv.members.size - 1, 0) : conv.receipts.size;
  if (read && read >= others) return { state: "read", readBy: read };
  if (read) return { state: "delivered", readBy: read };
  if (delivered) return { state: "delivered" };
  return { state: "sent" };
}
