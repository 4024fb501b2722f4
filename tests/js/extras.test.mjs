// What a conversation shows besides its messages (conv-extras.js through store.js, and
// timeline.js): timeline lines from pages and events, pins, the unread divider, marking
// unread. `node --test tests/js/`.

import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

import * as store from "../../parley/web/static/web/js/store.js";
import { lineText, withExtras } from "../../parley/web/static/web/js/timeline.js";

const { state } = store;
const ME = { kind: "user", id: "1", name: "Me", username: "me" };
const BOB = { kind: "user", id: "2", name: "Bob", username: "bob" };
const CAROL = { kind: "user", id: "3", name: "Carol", username: "carol" };

beforeEach(() => {
  state.convs.clear();
  state.positions.clear();
  state.userSeq = 0;
  state.openId = null;
  store.start({ ...ME }, 1000);
  store.onChange(() => {});
});

function group(fields = {}) {
  return store.upsertConv({
    id: 7, kind: "group", title: "Team", last_seq: 0, unread: 0, read_seq: 0, delivered_seq: 0,
    cleared_through_seq: 0, last_message: null, role: "owner", ...fields,
  });
}

const message = (seq, sender = BOB) => ({
  conversation: 7, seq, client_id: `c${seq}`, sender, body: `m${seq}`,
  created_at: "2026-12-01T10:00:00+00:00", deleted: false,
});
const created = (seq, sender = BOB) => ({ type: "message.created", conversation: 7, seq, message: message(seq, sender) });

test("timeline lines come from history pages and live events, once each, and a clear drops them", () => {
  const conv = group();
  const joined = { type: "member.joined", conversation: 7, seq: 2, member: CAROL, role: "member" };
  store.historyPage(conv, { results: [message(1), message(3)], has_more: false, events: [joined] });
  store.apply(created(1));
  store.apply(joined); // a replay of what the page had: once
  store.apply({ type: "message.deleted", conversation: 7, seq: 4, message_seq: 3 }); // not a line
  store.apply({ type: "member.left", conversation: 7, seq: 5, member: CAROL, removed_by: ME });

  assert.deepEqual([...conv.timeline.keys()], [2, 5]);
  assert.equal(lineText(conv, conv.timeline.get(2)), "Carol joined");
  assert.equal(lineText(conv, conv.timeline.get(5)), "You removed Carol");

  store.apply({ type: "history.cleared", user_seq: 1, conversation: 7, through_seq: 3 });
  assert.deepEqual([...conv.timeline.keys()], [5]);
});

test("a settings change says who changed what; a visitor's new name says nothing", () => {
  const conv = group();
  const renamed = { type: "conversation.updated", conversation: 7, seq: 1, title: "Crew", about: "", by: BOB, changed: ["title"] };
  const retitled = { type: "conversation.updated", conversation: 7, seq: 2, title: "Kari" };
  assert.equal(lineText(conv, renamed), "Bob renamed the group to “Crew”");
  assert.equal(lineText(conv, retitled), "");
  store.apply({ ...renamed, about: "Fridays", changed: ["about"] });
  assert.equal(conv.about, "Fridays");
});

test("lines and the divider go between the messages by seq, and the next message shows its sender", () => {
  const conv = group();
  store.historyPage(conv, { results: [message(1), message(2), message(4)], has_more: false, events: [
    { type: "member.updated", conversation: 7, seq: 3, member: BOB, role: "admin" },
  ] });
  store.setDivider(conv, 1);
  const rows = [message(1), message(2), message(4)].map((m, i) => ({ m, first: i === 0 }));

  const out = withExtras(conv, rows);

  assert.deepEqual(out.map((r) => r.key || r.m.seq), [1, "unread-divider", 2, "e:3", 4]);
  assert.deepEqual(out.filter((r) => r.m).map((r) => r.first), [true, true, true]);
});

test("the divider goes above the day separator that opens the first unread message's day", () => {
  const conv = group();
  store.historyPage(conv, { results: [message(1), message(2)], has_more: false, events: [] });
  store.setDivider(conv, 1);
  const rows = [{ day: "d1", label: "Monday" }, { m: message(1), first: true }, { day: "d2", label: "Today" }, { m: message(2), first: true }];

  assert.deepEqual(withExtras(conv, rows).map((r) => r.key || r.day || r.m.seq), ["d1", 1, "unread-divider", "d2", 2]);
});

test("pins: a pinned message here is shown at once; one not here asks the app to read the pins", () => {
  const conv = group();
  store.historyPage(conv, { results: [message(1), message(2)], has_more: true, events: [] });

  assert.deepEqual(store.apply({ type: "message.pinned", conversation: 7, seq: 3, message_seq: 2, by: BOB }), {});
  assert.deepEqual(store.apply({ type: "message.pinned", conversation: 7, seq: 4, message_seq: 1, by: BOB }), {});
  assert.deepEqual(store.apply({ type: "message.pinned", conversation: 7, seq: 5, message_seq: 99, by: BOB }), { refresh: 7 });
  assert.deepEqual([...conv.pins.keys()].sort(), [1, 2]);

  store.apply({ type: "message.unpinned", conversation: 7, seq: 6, message_seq: 1, by: BOB });
  store.apply({ type: "message.deleted", conversation: 7, seq: 7, message_seq: 2 });
  assert.equal(conv.pins.size, 0);
});

test("unread.marked moves my cursor back and sets the count; later messages count on", () => {
  const conv = group({ last_seq: 5, read_seq: 5 });
  store.historyPage(conv, { results: [1, 2, 3, 4, 5].map((s) => message(s)), has_more: false, events: [] });

  store.apply({ type: "unread.marked", user_seq: 1, conversation: 7, read_seq: 3, unread: 2 });
  assert.equal(conv.read_seq, 3);
  assert.equal(conv.unread, 2);
  store.apply(created(6));
  assert.equal(conv.unread, 3);
  store.apply({ type: "unread.marked", user_seq: 1, conversation: 7, read_seq: 0, unread: 9 }); // a replay
  assert.equal(conv.unread, 3);
});
