// The support widget frame's decisions (parley/support/static/support/js/frame-logic.js):
// which host messages it takes, where it agrees to show the chat, what is unread after a
// reload, what its outbox keeps and what a first message carries. `node --test tests/js/`.

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  fromHost,
  messageFields,
  outboxOf,
  retryable,
  rightHost,
  unreadCount,
} from "../../parley/support/static/support/js/frame-logic.js";

const HOST = "https://shop.example.com";
const parent = { name: "the host page's window" };
const frame = { framed: true, parent, hostOrigin: HOST };
const open = { parley: "host", type: "open" };

test("the frame takes messages only from its parent window on the origin it was made for", () => {
  assert.equal(fromHost({ source: parent, origin: HOST, data: open }, frame), true);
  // another window of the same origin (a popup, another frame of the page)
  assert.equal(fromHost({ source: {}, origin: HOST, data: open }, frame), false);
  // the parent, but navigated to another origin, or a lookalike
  for (const origin of ["https://evil.example.com", "http://shop.example.com", "https://shop.example.com:8443", "null"]) {
    assert.equal(fromHost({ source: parent, origin, data: open }, frame), false, origin);
  }
  // a frame opened on its own (not framed) takes nothing
  assert.equal(fromHost({ source: parent, origin: HOST, data: open }, { ...frame, framed: false }), false);
});

test("the frame takes only the widget's envelope", () => {
  for (const data of [null, "open", { type: "open" }, { parley: "frame", type: "open" }, { parley: "host", type: 1 }]) {
    assert.equal(fromHost({ source: parent, origin: HOST, data }, frame), false, JSON.stringify(data));
  }
});

test("the chat shows only where the browser says the frame sits in its own origin's page", () => {
  assert.equal(rightHost({ framed: true, ancestorOrigins: [HOST], hostOrigin: HOST }), true);
  assert.equal(rightHost({ framed: true, ancestorOrigins: ["https://evil.example"], hostOrigin: HOST }), false);
  // Firefox has no ancestorOrigins: the frame-ancestors policy is the guard there
  assert.equal(rightHost({ framed: true, ancestorOrigins: undefined, hostOrigin: HOST }), true);
  assert.equal(rightHost({ framed: false, ancestorOrigins: [], hostOrigin: HOST }), true);
});

test("unread after a reload: the team's messages after the visitor's read cursor", () => {
  const team = { kind: "user", id: "1", name: "Alice" };
  const visitor = { kind: "visitor", id: "v", name: "Kari" };
  const messages = [
    { seq: 1, sender: visitor },
    { seq: 2, sender: team },
    { seq: 3, sender: team },
    { seq: 4, sender: visitor },
    { seq: 5, sender: team, deleted: true },
    { seq: 6, sender: team },
  ];

  assert.equal(unreadCount(messages, 0), 3);
  assert.equal(unreadCount(messages, 2), 2); // read up to the first answer
  assert.equal(unreadCount(messages, 6), 0);
  assert.equal(unreadCount([], 0), 0);
});

test("the outbox keeps what the server has not stored, in order, but not what it refused", () => {
  const pending = new Map([
    ["c1", { client_id: "c1", body: "first" }],
    ["c2", { client_id: "c2", body: "refused", failed: true }],
    ["c3", { client_id: "c3", body: "third", extra: "not stored" }],
  ]);

  assert.deepEqual(outboxOf(pending), [
    { client_id: "c1", body: "first" },
    { client_id: "c3", body: "third" },
  ]);
});

test("the first message carries what is known of the visitor, later ones only the text", () => {
  const item = { client_id: "c1", body: "Hello?" };
  const details = { name: "Kari", email: "", attributes: { plan: "pro" } };
  const page = { url: "https://shop.example.com/p/1", referrer: "" };

  assert.deepEqual(messageFields(item, { first: true, details, page }), {
    client_id: "c1",
    body: "Hello?",
    name: "Kari",
    page_url: "https://shop.example.com/p/1",
    attributes: { plan: "pro" },
  });
  assert.deepEqual(messageFields(item, { first: true, details: { name: "", email: "", attributes: {} }, page: { url: "", referrer: "" } }), item);
  assert.deepEqual(messageFields(item, { first: false, details, page }), item);
});

test("a send is tried again after a lost connection, an outage or a rate limit, not a refusal", () => {
  for (const code of ["network", "disconnected", "timeout", "unavailable", "rate_limited"]) {
    assert.equal(retryable({ code }), true, code);
  }
  assert.equal(retryable({ code: "error", status: 502 }), true);
  for (const code of ["message_too_long", "message_empty", "prechat_required", "invalid"]) {
    assert.equal(retryable({ code, status: 400 }), false, code);
  }
});
