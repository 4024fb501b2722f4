// Replays server frames through the web client's store (store.js), for
// tests/realtime/test_events_reproduce_state.py. Reads one JSON object on stdin:
//   {me, unread_cap, before: SNAPSHOT, frames: [...], after: SNAPSHOT}
// where a SNAPSHOT is {list: [Conversation], details: {id: ConversationDetail},
// histories: {id: MessagePage}, inbox: [SupportConversation]} as the REST API gives them. Prints {replayed, fresh}: the
// state reached from `before` plus the frames (a conversation the frames announce is read
// from `after`, as the app fetches it), and the state built from `after` alone, each as
// the same plain projection.

import * as store from "../../parley/web/static/web/js/store.js";

const { state } = store;

function load(snapshot, input) {
  state.convs.clear();
  state.positions.clear();
  state.inbox.clear();
  state.userSeq = null;
  state.openId = null;
  store.start(structuredClone(input.me), input.unread_cap);
  state.userSeq = snapshot.user_seq ?? null;
  store.conversationsLoaded(structuredClone(snapshot.list));
  for (const detail of Object.values(snapshot.details)) store.upsertConv(structuredClone(detail));
  for (const [id, page] of Object.entries(snapshot.histories)) {
    const conv = state.convs.get(Number(id));
    if (conv) store.historyPage(conv, { ...structuredClone(page), has_more: false });
  }
  store.inboxLoaded(structuredClone(snapshot.inbox ?? []));
}

function fetchedSupport(id, after) {
  // A visitor's conversation the app had no inbox record of: it reads that record.
  const record = (after.inbox ?? []).find((r) => r.id === id);
  if (record) store.inboxLoaded([structuredClone(record)]);
}

function fetched(id, after) {
  // What the app does for a conversation it did not know: read it, then its history.
  const detail = after.details[String(id)] ?? after.list.find((c) => c.id === id);
  if (!detail) return;
  const conv = store.upsertConv(structuredClone(detail));
  const history = after.histories[String(id)];
  if (history) store.historyPage(conv, { ...structuredClone(history), has_more: false });
}

// A message's reactions, in an order of their own (a page orders them by count, events
// by arrival): emoji, count, who is named, whether I am among them.
function reactionsOf(m) {
  return (m.reactions ?? [])
    .map((r) => [r.emoji, r.count, r.users.map((u) => `${u.kind}:${u.id}`), Boolean(r.mine)])
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

function projection() {
  const out = {};
  for (const conv of [...state.convs.values()].sort((a, b) => a.id - b.id)) {
    out[conv.id] = {
      kind: conv.kind,
      title: conv.title,
      about: conv.about,
      role: conv.role,
      last_seq: conv.last_seq,
      unread: conv.unread,
      read_seq: conv.read_seq,
      cleared_through_seq: conv.cleared_through_seq,
      last_message: conv.last_message
        ? {
            seq: conv.last_message.seq,
            body: conv.last_message.body,
            deleted: conv.last_message.deleted,
            files: (conv.last_message.attachments || []).length,
          }
        : null,
      edits_allowed: conv.edits_allowed,
      last_message_edited: conv.last_message?.edited_at ?? null,
      messages: [...conv.messages.values()]
        .sort((a, b) => a.seq - b.seq)
        .map((m) => [m.seq, m.body, m.deleted, m.edited_at ?? null, reactionsOf(m), (m.attachments || []).map((a) => a.url)]),
      members: conv.members
        ? [...conv.members.values()].map((m) => [String(m.id), m.role]).sort()
        : null,
      pins: [...conv.pins.values()].map((p) => [p.message_seq, p.by.id]).sort(),
      timeline: [...conv.timeline.values()].sort((a, b) => a.seq - b.seq).map((e) => [e.seq, e.type]),
    };
  }
  for (const r of [...state.inbox.values()].sort((a, b) => a.id - b.id)) {
    out[`inbox ${r.id}`] = [r.status, r.snoozed_until, r.assignee?.id ?? null, r.visitor.name, r.rating?.score ?? null, r.rating?.comment ?? null];
  }
  return out;
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString());

load(input.before, input);
for (const frame of input.frames) {
  const hints = store.apply(frame);
  if (hints.unknown) {
    fetched(hints.unknown, input.after);
    if (state.convs.get(hints.unknown)?.kind === "support" && !state.inbox.has(hints.unknown)) {
      fetchedSupport(hints.unknown, input.after);
    }
  }
  if (hints.support) fetchedSupport(hints.support, input.after);
  if (hints.refresh) fetched(hints.refresh, input.after);
}
const replayed = projection();

load(input.after, input);
const fresh = projection();

process.stdout.write(JSON.stringify({ replayed, fresh }));
