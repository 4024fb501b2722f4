// File sizes as the composer and the timeline show them (parley/web/static/web/js/format.js).
// `node --test tests/js/`.

import assert from "node:assert/strict";
import { test } from "node:test";

import { formatSize } from "../../parley/web/static/web/js/format.js";

test("a file size reads in the unit people expect", () => {
  assert.equal(formatSize(840), "840 B");
  assert.equal(formatSize(2048), "2.0 KB");
  assert.equal(formatSize(180 * 1024), "180 KB");
  assert.equal(formatSize(25 * 1024 * 1024), "25 MB");
  assert.equal(formatSize(3.45 * 1024 * 1024), "3.5 MB");
  assert.equal(formatSize(2 * 1024 * 1024 * 1024), "2.0 GB");
});
