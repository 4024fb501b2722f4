// The web client's support inbox state (parley/web/static/web/js/store.js): inbox records
// from the REST API, what live events change in them, the filters and the order shown.
// `node --test tests/js/`.

import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

import * as store from "../../parley/web/static/web/js/store.js";

const { state } = store;
const ME = { kind: "user", id: "1", name: "Me", username: "me", avatar: null };
const ADA = { id: 2, username: "ada", name: "Ada" };
const VISITOR = { kind: "visitor", id: "6f1c0c1e-0000-4000-8000-000000000001", name: "Kari", username: null, avatar: null };

function reset() {
  state.convs.clear();
  state.positions.clear();
  state.inbox.clear();
  state.notes.clear();
  state.userSeq = null;
  state.openId = null;
  state.filter = "";
  state.inboxFilter = { status: "", assignee: "", widget: "" };
  state.widgets = null;
  store.start({ ...ME }, 1000);
}

let redrawn;
beforeEach(() => {
  reset();
  redrawn = [];
  store.onChange((part) => redrawn.push(part));
});

function supportConv(id, fields = {}) {
  return store.upsertConv({ id, kind: "support", title: "Visitor", last_seq: 0, unread: 0, read_seq: 0, delivered_seq: 0, cleared_through_seq: 0, last_message: null, ...fields });
}

function record(id, fields = {}) {
  return {
    id,
    widget: { id: 7, name: "Shop" },
    status: "open",
    snoozed_until: null,
    assignee: null,
    visitor: { id: `visitor-${id}`, name: `Visitor ${id}`, email: "", verified: false, online: false, page_url: "", referrer: "", user_agent: "", first_seen: "2026-01-01T00:00:00Z", attributes: {} },
    last_seq: 1,
    last_message_at: "2026-01-01T00:00:00Z",
    created_at: "2026-01-01T00:00:00Z",
    ...fields,
  };
}

function visitorMessage(cid, seq, at = `2026-01-02T00:00:${String(seq).padStart(2, "0")}Z`) {
  return {
    type: "message.created",
    conversation: cid,
    seq,
    message: { conversation: cid, seq, client_id: `v${seq}`, sender: VISITOR, body: `hello ${seq}`, created_at: at, deleted: false },
  };
}

test("a message the server's unread count already included is not counted again when its event comes", () => {
  // given: I just joined; the conversation's REST answer (2 unread, up to seq 2) came first
  store.apply({ type: "conversation.joined", user_seq: 1, conversation: { id: 30, kind: "support", title: "Kari", role: "owner", last_seq: 0 } });
  store.upsertConv({ id: 30, kind: "support", title: "Kari", last_seq: 2, unread: 2, read_seq: 0 });

  // when: the two messages' events arrive after it, then a third message
  store.apply(visitorMessage(30, 1));
  store.apply(visitorMessage(30, 2));
  store.apply(visitorMessage(30, 3));

  assert.equal(state.convs.get(30).unread, 3);
});

test("the inbox shows the records that pass every filter, newest activity first, live", () => {
  supportConv(1);
  supportConv(2);
  store.inboxLoaded([
    record(1, { last_message_at: "2026-01-01T10:00:00Z" }),
    record(2, { last_message_at: "2026-01-01T11:00:00Z", assignee: { id: 1, username: "me", name: "Me" } }),
    record(3, { status: "resolved", widget: { id: 8, name: "Blog" }, assignee: ADA }),
  ]);

  assert.deepEqual(store.inboxItems().map((r) => r.id), [2, 1, 3]);

  // a new message in the oldest one brings it to the top
  store.apply(visitorMessage(1, 1, "2026-01-01T12:00:00Z"));
  assert.deepEqual(store.inboxItems().map((r) => r.id), [1, 2, 3]);

  const shown = (filter) => {
    store.setInboxFilter({ status: "", assignee: "", widget: "", ...filter });
    return store.inboxItems().map((r) => r.id);
  };
  assert.deepEqual(shown({ status: "open" }), [1, 2]);
  assert.deepEqual(shown({ status: "resolved" }), [3]);
  assert.deepEqual(shown({ assignee: "me" }), [2]);
  assert.deepEqual(shown({ assignee: "none" }), [1]);
  assert.deepEqual(shown({ assignee: "2" }), [3]);
  assert.deepEqual(shown({ widget: "8" }), [3]);
  assert.deepEqual(shown({ status: "open", widget: "8" }), []);
  store.setFilter("visitor 2");
  assert.deepEqual(shown({}), [2]);
  assert.ok(redrawn.includes("inbox"));
});

test("support.updated changes status and assignee once; without a record it asks for one", () => {
  supportConv(1);
  supportConv(5);
  store.inboxLoaded([record(1)]);
  const event = {
    type: "support.updated",
    conversation: 1,
    seq: 1,
    status: "snoozed",
    snoozed_until: "2026-12-04T09:00:00+00:00",
    assignee: { kind: "user", id: "2", name: "Ada", username: "ada", avatar: null },
  };

  redrawn = [];
  const first = store.apply(event);
  const again = store.apply({ ...event, status: "open" });
  const unknown = store.apply({ ...event, conversation: 5 });

  const r = state.inbox.get(1);
  assert.deepEqual(first, {});
  assert.deepEqual(again, {}); // the same seq: a duplicate
  assert.equal(r.status, "snoozed");
  assert.equal(r.snoozed_until, "2026-12-04T09:00:00+00:00");
  assert.deepEqual(r.assignee, ADA);
  assert.deepEqual(unknown, { support: 5 });
  assert.ok(redrawn.includes("support"));

  store.apply({ type: "support.updated", conversation: 1, seq: 2, status: "open" });
  assert.equal(r.status, "open");
  assert.equal(r.snoozed_until, null);
  assert.equal(r.assignee, null);
});

test("a visitor's presence shows on their inbox record", () => {
  supportConv(1);
  store.inboxLoaded([record(1)]);

  store.apply({ type: "presence", user: "visitor-1", online: true });
  assert.equal(state.inbox.get(1).visitor.online, true);
  store.apply({ type: "presence", user: "visitor-1", online: false });
  assert.equal(state.inbox.get(1).visitor.online, false);
});

test("unread counts are split between the inbox and the chats", () => {
  supportConv(1, { unread: 3, last_seq: 3 });
  store.upsertConv({ id: 2, kind: "direct", title: "Bob", last_seq: 1, unread: 1 });

  assert.deepEqual(store.unreadBySection(), { inbox: 3, chats: 1 });
});

test("leaving a conversation or deleting a widget takes its records away", () => {
  supportConv(1);
  supportConv(2);
  store.widgetsLoaded([
    { id: 7, name: "Shop", owner: { id: 1, username: "me", name: "Me" }, agents: [ADA] },
    { id: 8, name: "Blog", owner: { id: 1, username: "me", name: "Me" }, agents: [] },
  ]);
  store.inboxLoaded([record(1), record(2, { widget: { id: 8, name: "Blog" } })]);
  store.noteAdded(1, { id: 1, body: "VIP", author: null, created_at: "2026-01-01T00:00:00Z" });
  store.setInboxFilter({ widget: "8" });

  assert.deepEqual(store.teamOf(7).map((p) => p.name), ["Me", "Ada"]);
  store.apply({ type: "conversation.left", user_seq: 1, conversation: 1 });
  store.widgetRemoved(8);

  assert.deepEqual([...state.inbox.keys()], []);
  assert.equal(state.notes.has(1), false);
  assert.equal(state.inboxFilter.widget, "");
  assert.deepEqual(state.widgets.map((w) => w.id), [7]);
});

test("a note added twice (my answer, then a reload) is listed once", () => {
  const note = { id: 4, body: "Wants express", author: ADA, created_at: "2026-01-01T00:00:00Z" };
  store.notesLoaded(1, []);

  store.noteAdded(1, note);
  store.noteAdded(1, note);

  assert.deepEqual(state.notes.get(1), [note]);
});

test("a visitor waits for an agent from support.updated until a team member writes", () => {
  supportConv(1);
  store.inboxLoaded([record(1, { waiting_for_agent: false })]);
  const r = state.inbox.get(1);

  store.apply({ type: "support.updated", conversation: 1, seq: 1, status: "open", waiting: true });
  assert.equal(r.waiting_for_agent, true);

  // the bot's and the visitor's messages do not end it
  const bot = { kind: "bot", id: "bot-1", name: "Shop bot" };
  store.apply({ type: "message.created", conversation: 1, seq: 2, message: { conversation: 1, seq: 2, client_id: "bot:1", sender: bot, body: "Someone is coming", created_at: "2026-01-02T00:00:02Z", deleted: false } });
  store.apply(visitorMessage(1, 3));
  assert.equal(r.waiting_for_agent, true);

  redrawn = [];
  store.apply({ type: "message.created", conversation: 1, seq: 4, message: { conversation: 1, seq: 4, client_id: "a1", sender: { kind: "user", id: "2", name: "Ada", username: "ada" }, body: "Hi, Ada here", created_at: "2026-01-02T00:00:04Z", deleted: false } });
  assert.equal(r.waiting_for_agent, false);
  assert.ok(redrawn.includes("inbox"));
});

test("an inbox answer read before a team member's message does not bring the waiting back", () => {
  supportConv(1);
  store.inboxLoaded([record(1, { waiting_for_agent: true, last_seq: 1 })]);
  store.apply({ type: "message.created", conversation: 1, seq: 2, message: { conversation: 1, seq: 2, client_id: "a1", sender: { kind: "user", id: "2", name: "Ada", username: "ada" }, body: "Ada here", created_at: "2026-01-02T00:00:02Z", deleted: false } });
  assert.equal(state.inbox.get(1).waiting_for_agent, false);

  // the answer of a request sent before that message (last_seq 1) comes after it
  store.inboxLoaded([record(1, { waiting_for_agent: true, last_seq: 1 })]);
  assert.equal(state.inbox.get(1).waiting_for_agent, false);
  // one that knows of later messages (a new handoff) is taken as it is
  store.inboxLoaded([record(1, { waiting_for_agent: true, last_seq: 3 })]);
  assert.equal(state.inbox.get(1).waiting_for_agent, true);
});
