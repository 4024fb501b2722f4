// Edits and reactions in the web client's state (store.js with reactions.js): an edit
// replaces the text without counting as unread, reaction events replace an emoji's
// totals (twice the same), a tombstone drops both. `node --test tests/js/`.

import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

import { reactionLabel, reactorsText, withReactionEvent } from "../../parley/web/static/web/js/reactions.js";
import * as store from "../../parley/web/static/web/js/store.js";

const { state } = store;
const ME = { kind: "user", id: "1", name: "Me", username: "me" };
const BOB = { kind: "user", id: "2", name: "Bob", username: "bob" };
const isMe = (u) => u.kind === "user" && u.id === "1";

let conv;
beforeEach(() => {
  state.convs.clear();
  state.positions.clear();
  state.userSeq = null;
  state.openId = null;
  store.start({ ...ME }, 1000);
  conv = store.upsertConv({ id: 10, kind: "group", title: "T", last_seq: 1, unread: 1, read_seq: 0, delivered_seq: 0, cleared_through_seq: 0, last_message: null });
  store.historyPage(conv, {
    results: [{ conversation: 10, seq: 1, client_id: "c1", sender: BOB, body: "helo", created_at: "2026-01-01T00:00:00Z", deleted: false, edited_at: null, reactions: [] }],
    has_more: false,
  });
  conv.last_message = conv.messages.get(1);
});

const added = (seq, emoji, who, count, users) => ({ type: "reaction.added", conversation: 10, seq, message_seq: 1, emoji, who, count, users });

test("an edit replaces the text, marks it edited and leaves the unread count alone", () => {
  store.apply({ type: "message.edited", conversation: 10, seq: 2, message_seq: 1, body: "hello", edited_at: "2026-01-01T00:01:00Z" });

  const m = conv.messages.get(1);
  assert.equal(m.body, "hello");
  assert.equal(m.edited_at, "2026-01-01T00:01:00Z");
  assert.equal(conv.last_message.body, "hello");
  assert.equal(conv.unread, 1);
  assert.equal(conv.last_seq, 2);
});

test("reaction events replace the emoji's totals, once each, and know when they are mine", () => {
  store.apply(added(2, "👍", BOB, 1, [BOB]));
  store.apply(added(3, "👍", ME, 2, [BOB, ME]));
  store.apply(added(3, "👍", ME, 2, [BOB, ME])); // a duplicate: dropped by seq

  const [r] = conv.messages.get(1).reactions;
  assert.deepEqual([r.emoji, r.count, r.mine], ["👍", 2, true]);
  assert.equal(conv.unread, 1); // a reaction is not a message

  store.apply({ ...added(4, "👍", ME, 1, [BOB]), type: "reaction.removed" });
  assert.deepEqual(conv.messages.get(1).reactions.map((x) => [x.count, x.mine]), [[1, false]]);
  store.apply({ ...added(5, "👍", BOB, 0, []), type: "reaction.removed" });
  assert.deepEqual(conv.messages.get(1).reactions, []);
});

test("someone else's reaction keeps whether I reacted", () => {
  const mine = withReactionEvent([{ emoji: "🎉", count: 1, users: [ME], mine: true }], added(2, "🎉", BOB, 2, [ME, BOB]), false);
  assert.equal(mine[0].mine, true);
});

test("a tombstone drops the text, the edit mark and the reactions; a late edit does not bring them back", () => {
  store.apply(added(2, "👍", BOB, 1, [BOB]));
  store.apply({ type: "message.edited", conversation: 10, seq: 3, message_seq: 1, body: "x", edited_at: "2026-01-01T00:01:00Z" });
  store.apply({ type: "message.deleted", conversation: 10, seq: 4, message_seq: 1 });
  store.edited(conv, 1, "again", "2026-01-01T00:02:00Z");

  const m = conv.messages.get(1);
  assert.deepEqual([m.deleted, m.body, m.edited_at, m.reactions], [true, "", null, []]);
});

test("who reacted, in words and for a screen reader", () => {
  const many = { emoji: "👍", count: 5, users: [BOB, ME, { kind: "user", id: "3", name: "Cy" }], mine: true };
  assert.equal(reactorsText(many, isMe), "Bob, You, Cy and 2 others");
  assert.equal(reactorsText({ emoji: "👍", count: 2, users: [BOB, ME], mine: true }, isMe), "Bob and You");
  assert.equal(reactionLabel({ emoji: "🎉", count: 1, users: [BOB], mine: false }, isMe), "🎉 1 reaction: Bob; press to add yours");
});

test("the group's edits setting comes with conversation.updated", () => {
  store.apply({ type: "conversation.updated", conversation: 10, seq: 2, title: "T", edits_allowed: false });
  assert.equal(conv.edits_allowed, false);
});
