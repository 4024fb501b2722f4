// The websocket to /ws/: requests with ids, reconnect with backoff, resume on every connect;
// at once (with a little jitter) when the server asks the client to move (MOVE_CODES).
//
// Lifecycle: connect -> `hello` -> we send `resume` with where we stood -> the server
// replays what we missed -> `resumed` -> ready. The app supplies the resume positions and
// receives every server frame through `onEvent`.
//
// Pacing: the server takes at most `frame_rate` frames a second per socket after a burst
// of `frame_burst` (both in `hello`'s limits) and refuses the rest with `rate_limited`.
// Requests therefore leave through a queue that keeps to the same bucket, in the order
// they were made; one the server refuses anyway goes back to the front of the queue and
// is sent again after its `retry_after`, so a burst of messages goes out in order, late
// rather than refused.

const BACKOFF = [500, 1000, 2000, 4000, 8000, 15000];
// Close codes that ask the client to reconnect at once, to any server process: 4012, the
// server is stopping (a drain) or moving load (rebalancing); 1012 and 1001, a server that
// restarted or went away without a drain. Each client waits a random moment up to
// MOVE_JITTER first, so that the clients closed in one instant do not all arrive in it.
const MOVE_CODES = new Set([4012, 1012, 1001]);
const MOVE_JITTER = 300;
const MOVES_AT_ONCE = 3; // moves in a row without becoming ready, then backoff
const PING_EVERY = 25000;
const SILENCE_LIMIT = 60000;
const REQUEST_TIMEOUT = 15000;

export class SocketClosed extends Error {
  constructor() {
    super("The connection was lost.");
    this.code = "disconnected";
  }
}

export class ServerError extends Error {
  constructor(frame) {
    super(frame.message);
    this.code = frame.code;
    this.details = frame.details;
  }
}

export class Connection {
  /**
   * @param {string} path e.g. "/ws/"
   * @param {{onEvent: Function, onStatus: Function, resumeState: Function, onHello?: Function}} hooks
   */
  constructor(path, hooks) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    this.url = `${scheme}//${location.host}${path}`;
    this.hooks = hooks;
    this.ws = null;
    this.ready = false;
    this.attempt = 0;
    this.timer = null;
    this.nextId = 1;
    this.waiting = new Map(); // request id -> {resolve, reject, timer}
    this.lastHeard = 0;
    this.retryAt = 0;
    this.stopped = false;
    this.queue = []; // requests waiting for the bucket: {id, frame}
    this.rate = 20; // frames a second, and the burst, until `hello` says otherwise
    this.burst = 60;
    this.tokens = this.burst;
    this.filledAt = Date.now();
    this.pausedUntil = 0;
    this.pumpTimer = null;
    this.moves = 0; // moved (MOVE_CODES) since last ready
    setInterval(() => this._heartbeat(), 5000);
    window.addEventListener("offline", () => this._drop());
    window.addEventListener("online", () => this.reconnectNow());
  }

  connect() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.stopped) return;
    this._status("connecting");
    const ws = new WebSocket(this.url);
    this.ws = ws;
    ws.onmessage = (e) => this._receive(e.data);
    ws.onclose = (e) => {
      if (this.ws === ws) this._closed(e.code);
    };
    ws.onerror = () => {};
  }

  reconnectNow() {
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) return;
    this.attempt = 0;
    this.connect();
  }

  /** Send a frame and wait for its ack (resolves with the ack) or error (rejects). It
   * waits its turn in the queue; its time-out runs from when it is sent. */
  request(frame) {
    if (!this.ready) return Promise.reject(new SocketClosed());
    const id = `r${this.nextId++}`;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, timer: null, frame });
      this.queue.push(id);
      this._pump();
    });
  }

  /** Fire and forget; dropped while disconnected, or when the bucket is empty (typing,
   * receipts: their state is sent again later). */
  send(frame) {
    if (this.ready && this.ws?.readyState === WebSocket.OPEN && !this.queue.length && this._take()) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  /** One token of the bucket, if there is one now. */
  _take() {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.filledAt) / 1000) * this.rate);
    this.filledAt = now;
    if (this.tokens < 1 || now < this.pausedUntil) return false;
    this.tokens -= 1;
    return true;
  }

  /** Send queued requests while the bucket allows; come back when it has a token. */
  _pump() {
    clearTimeout(this.pumpTimer);
    this.pumpTimer = null;
    while (this.queue.length && this.ready && this.ws?.readyState === WebSocket.OPEN) {
      if (!this._take()) {
        const wait = Math.max(this.pausedUntil - Date.now(), (1000 * (1 - this.tokens)) / this.rate);
        this.pumpTimer = setTimeout(() => this._pump(), Math.max(wait, 10));
        return;
      }
      const id = this.queue.shift();
      const waiter = this.waiting.get(id);
      if (!waiter) continue;
      waiter.timer = setTimeout(() => {
        this.waiting.delete(id);
        waiter.reject(new ServerError({ code: "timeout", message: "The server did not answer." }));
      }, REQUEST_TIMEOUT);
      this.ws.send(JSON.stringify({ ...waiter.frame, id }));
    }
  }

  _status(state) {
    this.hooks.onStatus(state, this);
  }

  _receive(text) {
    this.lastHeard = Date.now();
    let frame;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (frame.type === "hello") {
      // The server's bucket, a little slower: a client exactly at the limit would meet
      // the server's clock a few milliseconds early now and then.
      this.rate = (frame.limits?.frame_rate ?? this.rate) * 0.9;
      this.burst = Math.max(1, Math.floor((frame.limits?.frame_burst ?? this.burst) * 0.9));
      this.tokens = this.burst - 1; // the resume below
      this.filledAt = Date.now();
      this.hooks.onHello?.(frame);
      const state = this.hooks.resumeState();
      const id = `r${this.nextId++}`;
      this.resumeId = id;
      this.ws.send(JSON.stringify({ type: "resume", id, ...state }));
      return;
    }
    if ((frame.type === "ack" || frame.type === "error") && frame.re) {
      const waiter = this.waiting.get(frame.re);
      if (waiter) {
        clearTimeout(waiter.timer);
        if (frame.type === "error" && frame.code === "rate_limited") {
          // Refused for pace, not for what it says: first in line again, after the wait.
          this.pausedUntil = Date.now() + (frame.details?.retry_after ?? 1) * 1000;
          this.queue.unshift(frame.re);
          this._pump();
          return;
        }
        this.waiting.delete(frame.re);
        if (frame.type === "ack") waiter.resolve(frame);
        else waiter.reject(new ServerError(frame));
        return;
      }
      if (frame.type === "error" && frame.re === this.resumeId) {
        // The resume itself was refused: start over from a fresh state.
        this.hooks.onEvent({ type: "resumed", conversations: {}, reset: [], user_reset: true });
        this._becomeReady();
        return;
      }
    }
    if (frame.type === "pong") return;
    this.hooks.onEvent(frame);
    if (frame.type === "resumed") this._becomeReady();
  }

  _becomeReady() {
    this.ready = true;
    this.attempt = 0;
    this.moves = 0;
    this._status("ready");
    this._pump();
  }

  _closed(code) {
    this.ws = null;
    this.ready = false;
    for (const waiter of this.waiting.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(new SocketClosed());
    }
    this.waiting.clear();
    this.queue = [];
    clearTimeout(this.pumpTimer);
    if (code === 4401 || code === 4403) {
      // Not signed in any more (logged out elsewhere): the page must reload to log in.
      this.stopped = true;
      this._status("signed-out");
      return;
    }
    if (MOVE_CODES.has(code) && this.attempt === 0 && this.moves < MOVES_AT_ONCE) {
      // Moved (docs/protocol.md, "Connecting"): no backoff and no "connection lost"
      // banner; a reconnect that fails, or moves again and again before it is ready,
      // then backs off as after any drop.
      this.moves += 1;
      const delay = Math.round(Math.random() * MOVE_JITTER);
      this.retryAt = Date.now() + delay;
      this._status("connecting");
      this.timer = setTimeout(() => this.connect(), delay);
      return;
    }
    const base = BACKOFF[Math.min(this.attempt, BACKOFF.length - 1)];
    const delay = Math.round(base * (0.75 + Math.random() * 0.5));
    this.attempt += 1;
    this.retryAt = Date.now() + delay;
    this._status("offline");
    this.timer = setTimeout(() => this.connect(), delay);
  }

  /** Treat the socket as gone now (the browser went offline, or it fell silent). */
  _drop() {
    const ws = this.ws;
    if (!ws) return;
    ws.onclose = null;
    ws.onmessage = null;
    try {
      ws.close();
    } catch {
      /* already closing */
    }
    this._closed(1006);
  }

  _heartbeat() {
    if (!this.ready || !this.ws) return;
    const silent = Date.now() - this.lastHeard;
    if (silent > SILENCE_LIMIT) this._drop();
    else if (silent > PING_EVERY) this.ws.send(JSON.stringify({ type: "ping", id: "ping" }));
  }
}
