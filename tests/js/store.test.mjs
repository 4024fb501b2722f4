// The web client's state (parley/web/static/web/js/store.js): how REST pages, acks, the
// app's own actions and server events change it. Node's built-in test runner, no
// dependencies: `node --test tests/js/` (tests/run.py runs it in `make test`).

import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

import * as store from "../../parley/web/static/web/js/store.js";

const { state } = store;
const ME = { kind: "user", id: "1", name: "Me", username: "me", avatar: null };
const BOB = { kind: "user", id: "2", name: "Bob", username: "bob", avatar: null };

function reset() {
  state.convs.clear();
  state.positions.clear();
  state.userSeq = null;
  state.openId = null;
  state.loaded = false;
  store.start({ ...ME }, 1000);
}

let redrawn;
beforeEach(() => {
  reset();
  redrawn = [];
  store.onChange((part) => redrawn.push(part));
});

function conversation(fields = {}) {
  return store.upsertConv({
    id: 10,
    kind: "direct",
    title: "Bob",
    last_seq: 0,
    unread: 0,
    read_seq: 0,
    delivered_seq: 0,
    cleared_through_seq: 0,
    last_message: null,
    ...fields,
  });
}

function message(seq, sender = BOB, fields = {}) {
  return {
    conversation: 10,
    seq,
    client_id: `c${seq}`,
    sender,
    body: `message ${seq}`,
    created_at: `2026-01-01T00:00:${String(seq).padStart(2, "0")}Z`,
    deleted: false,
    ...fields,
  };
}

function created(seq, sender = BOB) {
  return { type: "message.created", conversation: 10, seq, message: message(seq, sender) };
}

test("a message event counts as unread once, however often it arrives", () => {
  const conv = conversation();

  const first = store.apply(created(1));
  const again = store.apply(created(1));

  assert.equal(first.incoming.message.seq, 1);
  assert.deepEqual(again, {});
  assert.equal(conv.unread, 1);
  assert.equal(conv.messages.size, 1);
  assert.equal(conv.last_message.seq, 1);
  assert.equal(store.resumeState().conversations["10"], 1);
});

test("my own message is not unread and replaces its pending copy", () => {
  const conv = conversation();
  store.addPending(conv, "hello", "c5");

  store.acknowledged(conv, message(5, ME, { client_id: "c5", body: "hello" }));
  store.apply({ ...created(5, ME), message: message(5, ME, { client_id: "c5" }) });

  assert.equal(conv.pending.size, 0);
  assert.equal(conv.unread, 0);
  assert.deepEqual([...conv.messages.keys()], [5]);
});

test("a deletion for everyone lowers the unread count once, from my request or the event", () => {
  const conv = conversation();
  store.apply(created(1));
  store.apply(created(2));

  store.tombstone(conv, 2); // my own request was answered
  store.apply({ type: "message.deleted", conversation: 10, seq: 3, message_seq: 2 });

  assert.equal(conv.unread, 1);
  assert.equal(conv.messages.get(2).deleted, true);
  assert.equal(conv.messages.get(2).body, "");
  assert.equal(conv.last_message.deleted, true);
});

test("a deletion that arrives before the message still shows it as a tombstone", () => {
  const conv = conversation({ last_seq: 3 });

  store.apply({ type: "message.deleted", conversation: 10, seq: 4, message_seq: 2 });
  store.mergeMessages(conv, [message(2)]);

  assert.equal(conv.messages.get(2).deleted, true);
});

test("an unread count at the cap is not lowered: it means that many or more", () => {
  const conv = conversation({ unread: 1000, last_seq: 1 });
  store.mergeMessages(conv, [message(1)]);

  store.tombstone(conv, 1);

  assert.equal(conv.unread, 1000);
});

test("a message deleted for me disappears and is no longer unread, on every device", () => {
  const conv = conversation();
  store.apply(created(1));
  store.apply(created(2));

  store.apply({ type: "message.hidden", user_seq: 1, conversation: 10, message_seq: 2 });
  store.hideMessage(conv, 2); // the same deletion answered to this device

  assert.deepEqual([...conv.messages.keys()], [1]);
  assert.equal(conv.unread, 1);
  assert.equal(conv.last_message.seq, 1);
  assert.equal(state.userSeq, 1);
});

test("clearing the history hides everything up to it and leaves nothing unread", () => {
  const conv = conversation();
  for (const seq of [1, 2, 3]) store.apply(created(seq));

  store.clearHistory(conv, 3);
  store.mergeMessages(conv, [message(2)]); // an old page that crossed the clear

  assert.equal(conv.messages.size, 0);
  assert.equal(conv.unread, 0);
  assert.equal(conv.last_message, null);
  assert.equal(conv.hasMore, false);
  assert.equal(conv.read_seq, 3);
});

test("a clear from another device that left newer messages still pages in older ones", () => {
  const conv = conversation({ last_seq: 60 });
  store.historyPage(conv, { results: [message(59), message(60)], has_more: true });

  store.apply({ type: "history.cleared", user_seq: 1, conversation: 10, through_seq: 20 });

  assert.equal(conv.hasMore, true);
  assert.deepEqual([...conv.messages.keys()], [59, 60]);
});

test("a stale REST answer does not move the conversation back", () => {
  const conv = conversation({ last_seq: 5, unread: 2, read_seq: 3 });

  store.upsertConv({ id: 10, last_seq: 4, unread: 7, read_seq: 1, last_message: null });

  assert.equal(conv.last_seq, 5);
  assert.equal(conv.unread, 2);
  assert.equal(conv.read_seq, 3);
});

test("resumed: a conversation too far behind starts over, unknown ones are fetched", () => {
  const conv = conversation({ last_seq: 2 });
  store.apply(created(1));
  store.apply(created(2));

  const todo = store.resumed({
    type: "resumed",
    conversations: { 10: 5000, 11: 7 },
    reset: [10],
    user_seq: 9,
    user_reset: true,
  });

  assert.deepEqual(todo, { reset: [10], unknown: [11], reloadList: true });
  assert.equal(conv.messages.size, 0);
  assert.equal(conv.historyLoaded, false);
  assert.equal(store.resumeState().conversations["10"], 5000);
  assert.equal(store.resumeState().conversations["11"], 7);
  assert.equal(state.userSeq, 9);
  // an event from before the reset point is a duplicate now
  assert.deepEqual(store.apply(created(4999)), {});
});

test("the conversation list from the server drops what I am no longer in", () => {
  conversation();
  store.upsertConv({ id: 11, kind: "group", title: "g", last_seq: 0 });

  store.conversationsLoaded([{ id: 11, kind: "group", title: "g", last_seq: 0 }]);

  assert.deepEqual([...state.convs.keys()], [11]);
  assert.equal(state.loaded, true);
  assert.equal(store.resumeState().conversations["10"], undefined);
});

test("reading a conversation moves my cursors forward only and clears its count", () => {
  const conv = conversation({ read_seq: 5, delivered_seq: 5, unread: 3 });

  store.readUpTo(conv, 4);
  assert.equal(conv.read_seq, 5);
  store.readUpTo(conv, 9);

  assert.equal(conv.read_seq, 9);
  assert.equal(conv.delivered_seq, 9);
  assert.equal(conv.unread, 0);
  assert.ok(redrawn.includes("list"));
});

test("receipts: a direct message is read once the other person's cursor passes it", () => {
  const conv = conversation({ last_seq: 3 });

  const before = store.receiptOf(conv, 3);
  store.apply({ type: "receipt", conversation: 10, who: BOB, read_seq: 3, delivered_seq: 3 });

  assert.equal(before.state, "sent");
  assert.equal(store.receiptOf(conv, 3).state, "read");
});

test("a user-stream event is applied once", () => {
  const joined = {
    type: "conversation.joined",
    user_seq: 4,
    conversation: { id: 12, kind: "group", title: "New", role: "member", last_seq: 3 },
  };

  const first = store.apply(joined);
  const again = store.apply(joined);

  assert.deepEqual(first, { unknown: 12 });
  assert.deepEqual(again, {});
  assert.equal(state.convs.get(12).title, "New");
  assert.equal(state.userSeq, 4);
});

test("a renamed person is renamed everywhere they show", () => {
  const conv = conversation({ other_user: { ...BOB, online: true } });
  store.apply(created(1));

  store.apply({
    type: "profile.updated",
    user: { ...BOB, name: "Robert" },
    about: "",
    show_last_seen: false,
  });

  assert.equal(conv.title, "Robert");
  assert.equal(conv.other_user.name, "Robert");
  assert.equal(conv.messages.get(1).sender.name, "Robert");
  assert.equal(conv.last_message.sender.name, "Robert");
});
