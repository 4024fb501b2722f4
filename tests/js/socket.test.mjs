// The websocket client (parley/web/static/web/js/socket.js): requests are paced to the
// server's frame bucket and go out in order; one the server refuses for pace is sent
// again after its retry_after, first in line. A fake WebSocket stands in for the server.

import assert from "node:assert/strict";
import { afterEach, beforeEach, mock, test } from "node:test";

class FakeSocket {
  static OPEN = 1;
  static last = null;
  constructor(url) {
    this.url = url;
    this.readyState = FakeSocket.OPEN;
    this.sent = [];
    FakeSocket.last = this;
  }
  send(text) {
    this.sent.push(JSON.parse(text));
  }
  close() {}
  /** The server says something. */
  say(frame) {
    this.onmessage({ data: JSON.stringify(frame) });
  }
}

globalThis.WebSocket = FakeSocket;
globalThis.location = { protocol: "http:", host: "chat.test" };
globalThis.window = { addEventListener() {} };

const { Connection } = await import("../../parley/web/static/web/js/socket.js");

beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "setInterval", "Date"], now: 0 }));
afterEach(() => mock.timers.reset());

function readyConnection({ rate = 10, burst = 5 } = {}) {
  const conn = new Connection("/ws/", {
    resumeState: () => ({ conversations: {} }),
    onStatus() {},
    onEvent() {},
  });
  conn.connect();
  const ws = FakeSocket.last;
  ws.say({ type: "hello", user_seq: 0, limits: { frame_rate: rate, frame_burst: burst } });
  const resume = ws.sent.shift();
  ws.say({ type: "resumed", re: resume.id, conversations: {} });
  return { conn, ws };
}

/** Let `ms` pass in steps, so timers set by timers run too (MockTimers runs one round a tick). */
function advance(ms) {
  for (let t = 0; t < ms; t += 5) mock.timers.tick(5);
}

const sends = (ws) => ws.sent.filter((f) => f.type === "message.send").map((f) => f.client_id);

test("a burst beyond the server's bucket waits its turn instead of being refused", () => {
  const { conn, ws } = readyConnection({ rate: 10, burst: 5 });

  for (let i = 0; i < 20; i++) conn.request({ type: "message.send", client_id: `m${i}` }).catch(() => {});
  const first = sends(ws).length;
  advance(1000);
  const afterOneSecond = sends(ws).length;
  advance(3000);

  // 90% of the server's burst (4, less the resume) at once, then 90% of its rate
  assert.equal(first, 3);
  assert.ok(afterOneSecond >= 11 && afterOneSecond <= 13, String(afterOneSecond));
  assert.deepEqual(sends(ws), Array.from({ length: 20 }, (_, i) => `m${i}`));
});

test("a request refused for pace is sent again after retry_after, still in order", async () => {
  const { conn, ws } = readyConnection({ rate: 100, burst: 100 });
  const acked = [];
  const requests = ["a", "b"].map((c) =>
    conn.request({ type: "message.send", client_id: c }).then(() => acked.push(c)),
  );
  const [a, b] = ws.sent.splice(0);

  ws.say({ type: "error", re: a.id, code: "rate_limited", message: "slow down", details: { retry_after: 2 } });
  ws.say({ type: "ack", re: b.id });
  advance(1990);
  const tooEarly = ws.sent.length;
  advance(20);
  const again = ws.sent.shift();
  ws.say({ type: "ack", re: again.id });
  await Promise.all(requests);

  assert.equal(tooEarly, 0);
  assert.equal(again.client_id, "a");
  assert.deepEqual(acked, ["b", "a"]); // b was already in; a follows once allowed
});

test("any other error reaches the caller", async () => {
  const { conn, ws } = readyConnection();
  const refused = conn.request({ type: "message.send", client_id: "x" });
  const [frame] = ws.sent.splice(0);

  ws.say({ type: "error", re: frame.id, code: "message_too_long", message: "too long" });

  await assert.rejects(refused, (err) => err.code === "message_too_long");
});

test("requests still queued when the socket drops are rejected as disconnected", async () => {
  const { conn, ws } = readyConnection({ rate: 1, burst: 2 });
  const queued = [1, 2, 3, 4].map((i) => conn.request({ type: "message.send", client_id: `q${i}` }));

  ws.onclose({ code: 1006 });

  for (const request of queued) {
    await assert.rejects(request, (err) => err.code === "disconnected");
  }
  assert.equal(conn.queue.length, 0);
});

/** The connection's status changes and when each new socket was opened. */
function watched() {
  const statuses = [];
  const conn = new Connection("/ws/", {
    resumeState: () => ({ conversations: {} }),
    onStatus: (s) => statuses.push(s),
    onEvent() {},
  });
  conn.connect();
  const ws = FakeSocket.last;
  ws.say({ type: "hello", user_seq: 0, limits: {} });
  const resume = ws.sent.shift();
  ws.say({ type: "resumed", re: resume.id, conversations: {} });
  return { conn, ws, statuses };
}

for (const code of [4012, 1012, 1001]) {
  test(`closed with ${code} (moved), it reconnects within 300 ms, without backoff or banner`, () => {
    const { ws, statuses } = watched();
    const delays = [];
    for (let i = 0; i < 20; i++) {
      // each time a new client: the jitter differs from one to the next
      const { ws: w } = watched();
      w.onclose({ code });
      const opened = Date.now();
      for (let t = 0; FakeSocket.last === w && t < 2000; t += 5) mock.timers.tick(5);
      delays.push(Date.now() - opened);
    }
    ws.onclose({ code });

    assert.ok(Math.max(...delays) <= 300, String(delays));
    assert.ok(new Set(delays).size > 3, `no jitter: ${delays}`);
    assert.equal(statuses.at(-1), "connecting"); // not "offline": no "connection lost"
  });
}

test("a drop that is not a move still backs off", () => {
  const { ws } = watched();
  ws.onclose({ code: 1006 });
  advance(300);
  assert.equal(FakeSocket.last, ws); // not yet: 375-625 ms
  advance(400);
  assert.notEqual(FakeSocket.last, ws);
});

test("moved again and again before it is ready, it backs off instead of looping", () => {
  const { ws } = watched();
  ws.onclose({ code: 4012 });
  const waits = [];
  for (let i = 0; i < 4; i++) {
    const before = FakeSocket.last;
    const from = Date.now();
    for (let t = 0; FakeSocket.last === before && t < 3000; t += 5) mock.timers.tick(5);
    waits.push(Date.now() - from);
    FakeSocket.last.onclose({ code: 4012 }); // closed again before `resumed`
  }

  assert.ok(waits.slice(0, 3).every((w) => w <= 300), String(waits));
  assert.ok(waits[3] >= 375, String(waits)); // the fourth move in a row waits its backoff
});
