// Canned replies in the composer (parley/web/static/web/js/canned.js): when `/` opens the
// picker and what inserting a reply leaves in the box. `node --test tests/js/`.

import assert from "node:assert/strict";
import { test } from "node:test";

import { insertReply, slashQuery } from "../../parley/web/static/web/js/canned.js";

test("a slash at the start of the box, or after a space or a newline, starts a query", () => {
  assert.deepEqual(slashQuery("/", 1), { start: 0, end: 1, prefix: "" });
  assert.deepEqual(slashQuery("/Ship", 5), { start: 0, end: 5, prefix: "ship" });
  assert.deepEqual(slashQuery("Hello /sh", 9), { start: 6, end: 9, prefix: "sh" });
  assert.deepEqual(slashQuery("Hi\n/thanks", 10), { start: 3, end: 10, prefix: "thanks" });
});

test("a slash inside a word, a path or past the caret's word is no query", () => {
  assert.equal(slashQuery("and/or", 6), null);
  assert.equal(slashQuery("see /docs/page", 14), null);
  assert.equal(slashQuery("/ship now", 3), null); // the caret is inside the word
  assert.equal(slashQuery("/a b", 4), null); // a space ended the shortcut
  assert.equal(slashQuery("/" + "a".repeat(33), 34), null); // longer than any shortcut
  assert.equal(slashQuery("no slash", 8), null);
});

test("a query followed by a space after the caret still counts", () => {
  assert.deepEqual(slashQuery("/sh rest", 3), { start: 0, end: 3, prefix: "sh" });
});

test("inserting replaces only the slash and its prefix, and puts the caret after the text", () => {
  const value = "Hello /sh, bye";
  const query = { start: 6, end: 9, prefix: "sh" };
  assert.deepEqual(insertReply(value, query, "We ship in 3 days"), {
    value: "Hello We ship in 3 days, bye",
    caret: 23,
  });
});
