// A widget visitor's side of the server: the frame's HTTP endpoints (/widget/<key>/...)
// and its websocket (/ws/widget/<key>/), with the visitor token as the credential.
//
// The token is kept in this frame's own storage, on Parley's origin, where the host page
// cannot read it. It is sent in a request body or an `Authorization: Visitor` header,
// and on the websocket as a subprotocol; never in a URL (docs/widget.md, "Visitors").

import { ApiError } from "../../web/js/api.js";
import { Connection } from "../../web/js/socket.js";

export { ApiError };

/** Storage that may be refused (a browser blocking storage in frames): then a Map, and
 * the visit lasts as long as the page. */
class Keep {
  constructor(prefix) {
    this.prefix = prefix;
    this.memory = new Map();
    try {
      localStorage.setItem(`${prefix}probe`, "1");
      localStorage.removeItem(`${prefix}probe`);
      this.local = localStorage;
    } catch {
      this.local = null;
    }
  }

  get(name) {
    const text = this.local ? this.local.getItem(this.prefix + name) : this.memory.get(name);
    try {
      return text == null ? null : JSON.parse(text);
    } catch {
      return null;
    }
  }

  set(name, value) {
    const text = JSON.stringify(value);
    if (this.local) this.local.setItem(this.prefix + name, text);
    else this.memory.set(name, text);
  }

  remove(name) {
    if (this.local) this.local.removeItem(this.prefix + name);
    else this.memory.delete(name);
  }
}

export class VisitorApi {
  constructor(key) {
    this.key = key;
    this.base = `/widget/${encodeURIComponent(key)}`;
    this.keep = new Keep(`parley.widget.${key}.`);
  }

  get token() {
    return this.keep.get("token");
  }

  forget() {
    this.keep.remove("token");
    this.keep.remove("outbox");
  }

  async _call(method, path, body, auth = true) {
    const headers = { Accept: "application/json" };
    if (auth && this.token) headers.Authorization = `Visitor ${this.token}`;
    const init = { method, headers, credentials: "omit", cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(this.base + path, init);
    } catch {
      throw new ApiError(0, "network", "The chat cannot reach the server. Check your connection.");
    }
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const details = { ...(data?.details || {}) };
      const retry = Number(response.headers.get("Retry-After"));
      if (retry) details.retry_after = retry;
      throw new ApiError(
        response.status,
        data?.code || `http_${response.status}`,
        data?.message || `The server answered ${response.status}.`,
        details,
      );
    }
    return { data, status: response.status };
  }

  /** Start or resume the visit: keeps the (maybe new) token, answers the session. */
  async session(identify) {
    const body = {};
    if (this.token) body.token = this.token;
    if (identify) body.identify = identify;
    const { data } = await this._call("POST", "/session", body, false);
    this.keep.set("token", data.token);
    return data;
  }

  async history(params = {}) {
    const query = new URLSearchParams(params).toString();
    return (await this._call("GET", `/messages${query ? `?${query}` : ""}`)).data;
  }

  async send(fields) {
    return (await this._call("POST", "/messages", fields)).data;
  }

  async details(fields) {
    return (await this._call("POST", "/visitor", fields)).data;
  }

  /** Ask for a person (the "Talk to a human" button, when the socket is down). */
  async handoff() {
    return (await this._call("POST", "/handoff", {})).data;
  }

  /** Rate the resolved conversation (when the socket is down). */
  async rate(fields) {
    return (await this._call("POST", "/rating", fields)).data;
  }

  /** The public settings, with whether the team answers now (`online`, `back_at`). */
  async config() {
    return (await this._call("GET", "/config", undefined, false)).data;
  }

  /** Messages written but not yet stored, kept across a reload (sent again with the same
   * client_id: stored once). */
  get outbox() {
    return this.keep.get("outbox") || [];
  }

  set outbox(items) {
    if (items.length) this.keep.set("outbox", items);
    else this.keep.remove("outbox");
  }
}

/** The gateway's connection (resume, backoff, pacing) on the visitors' route, with the
 * token offered as a subprotocol, read afresh at every connect (it may have rotated). */
export class VisitorConnection extends Connection {
  constructor(api, hooks) {
    super(`/ws/widget/${encodeURIComponent(api.key)}/`, hooks);
    this.api = api;
  }

  connect() {
    clearTimeout(this.timer);
    this.timer = null;
    const token = this.api.token;
    if (this.stopped || !token) return;
    this._status("connecting");
    const ws = new WebSocket(this.url, ["parley.visitor", `t.${token.replaceAll(":", ".")}`]);
    this.ws = ws;
    ws.onmessage = (e) => this._receive(e.data);
    ws.onclose = (e) => {
      if (this.ws === ws) this._closed(e.code);
    };
    ws.onerror = () => {};
  }

  /** Stop reconnecting and close (a reset, or a token the server no longer takes). */
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    const ws = this.ws;
    if (ws) {
      ws.onclose = null;
      ws.close();
      this._closed(1000);
    }
  }

  restart() {
    this.stopped = false;
    this.attempt = 0;
    this.connect();
  }
}
