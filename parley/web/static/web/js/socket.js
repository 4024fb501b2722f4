// The websocket to /ws/: requests with ids, reconnect with backoff, resume on every connect.
//
// Lifecycle: connect -> `hello` -> we send `resume` with where we stood -> the server
// replays what we missed -> `resumed` -> ready. The app supplies the resume positions and
// receives every server frame through `onEvent`.

const BACKOFF = [500, 1000, 2000, 4000, 8000, 15000];
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

  /** Send a frame and wait for its ack (resolves with the ack) or error (rejects). */
  request(frame) {
    if (!this.ready) return Promise.reject(new SocketClosed());
    const id = `r${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new ServerError({ code: "timeout", message: "The server did not answer." }));
      }, REQUEST_TIMEOUT);
      this.waiting.set(id, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ ...frame, id }));
    });
  }

  /** Fire and forget; dropped while disconnected (typing, receipts: state is resent later). */
  send(frame) {
    if (this.ready && this.ws?.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
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
        this.waiting.delete(frame.re);
        clearTimeout(waiter.timer);
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
    this._status("ready");
  }

  _closed(code) {
    this.ws = null;
    this.ready = false;
    for (const waiter of this.waiting.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(new SocketClosed());
    }
    this.waiting.clear();
    if (code === 4401 || code === 4403) {
      // Not signed in any more (logged out elsewhere): the page must reload to log in.
      this.stopped = true;
      this._status("signed-out");
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
