// The support widget's frame: a visitor's chat with a site's team, inside the site's
// page but on Parley's origin (docs/widget.md, "The frame").
//
// Start: the session (the token kept here, or a new visit), the history over HTTP, then
// the visitors' websocket, which resumes from the last seq seen after every drop, a
// sleeping tab or a reload. A message is kept in an outbox under its client_id until the
// server has stored it, and sent again with the same client_id until then: nothing is
// lost and nothing is stored twice. The first message goes over HTTP (it makes the
// conversation), the others over the socket when it is up, else over HTTP.
//
// The host page talks to the frame only by postMessage, from the origin the frame was
// made for (checked on every message; the server let only that origin frame it).

import { ApiError, VisitorApi, VisitorConnection } from "./visitor.js";
import { fromHost, messageFields, outboxOf, retryable, rightHost, unreadCount } from "./frame-logic.js";
import * as view from "./frame-view.js";

const TYPING_EVERY = 3000;
const TYPING_SHOWN = 6000;
const RETRY = 3000;

const config = JSON.parse(document.getElementById("parley-widget").textContent);
const hostOrigin = document.body.dataset.hostOrigin;
const framed = window.parent !== window;
const api = new VisitorApi(config.key);

const state = {
  config,
  visitor: null,
  conversation: null, // {id, status, delivered_seq, read_seq, visitor_read_seq}
  position: 0, // the last seq of the conversation seen: where a resume starts
  messages: new Map(), // seq -> message
  pending: new Map(), // client_id -> {client_id, body, failed?}
  typing: new Map(), // sender id -> {name, until}
  details: { name: "", email: "", attributes: {} }, // sent with the first message
  emailLeft: "", // the email the visitor left in the offline form
  page: { url: "", referrer: "" },
  hasMore: false,
  open: !framed,
  unread: 0,
  link: "connecting",
  problem: "",
  scrollToEnd: true,
  waiting: false, // the visitor asked for a person, and no one of the team wrote since
  rated: null, // the score given since the conversation was last resolved
};

document.documentElement.style.setProperty("--accent", config.accent_color);

// --- the host page ------------------------------------------------------------------

function toHost(message) {
  if (framed) window.parent.postMessage({ parley: "frame", ...message }, hostOrigin);
}

window.addEventListener("message", async (event) => {
  if (!fromHost(event, { framed, parent: window.parent, hostOrigin })) return;
  const data = event.data;
  if (data.type === "open") setOpen(true);
  else if (data.type === "close") setOpen(false);
  else if (data.type === "page") {
    state.page = { url: String(data.url || "").slice(0, 500), referrer: String(data.referrer || "").slice(0, 500) };
  } else if (["identify", "attributes", "reset"].includes(data.type)) {
    try {
      const result = await commands[data.type](data.payload ?? {});
      toHost({ type: "result", re: data.id, ok: true, result });
    } catch (err) {
      toHost({ type: "result", re: data.id, ok: false, code: err.code || "error", message: err.message, details: err.details });
    }
  }
});

function setOpen(open) {
  state.open = open;
  if (open) {
    state.unread = 0;
    toHost({ type: "unread", count: 0 });
    markRead();
    state.scrollToEnd = true;
    view.renderMessages(state);
    document.getElementById("composer-input").focus();
  }
}

document.getElementById("close").addEventListener("click", () => toHost({ type: "close" }));
document.getElementById("close").hidden = !framed;

// --- the JS API's commands, from the host page ----------------------------------------

function invalid(message) {
  return Object.assign(new Error(message), { code: "invalid" });
}

function textField(value, name, limit) {
  if (value == null) return "";
  if (typeof value !== "string" || value.length > limit) throw invalid(`${name} is text of at most ${limit} characters.`);
  return value.trim();
}

/** Name, email and attributes: stored now when the visitor has a conversation, else
 * kept for their first message. */
async function tell(fields) {
  for (const name of ["name", "email"]) {
    if (fields[name]) state.details[name] = fields[name];
    else delete fields[name];
  }
  if (fields.attributes) state.details.attributes = { ...state.details.attributes, ...fields.attributes };
  view.renderPrechat(state);
  if (!state.conversation) return { stored: false };
  return api.details(fields);
}

const commands = {
  async identify(user) {
    if (typeof user !== "object" || user === null || Array.isArray(user)) throw invalid("identify takes an object.");
    const id = user.id == null ? "" : String(user.id);
    const name = textField(user.name, "name", 80);
    const email = textField(user.email, "email", 254);
    if (id || user.hash) {
      if (!id || typeof user.hash !== "string") throw invalid("identify needs both id and hash.");
      const before = state.visitor?.id;
      await startSession({ id, hash: user.hash });
      if (state.visitor.id !== before) await follow();
    }
    return tell({ name, email });
  },
  async attributes(attributes) {
    if (typeof attributes !== "object" || attributes === null || Array.isArray(attributes)) throw invalid("setAttributes takes an object.");
    const clean = {};
    for (const [k, v] of Object.entries(attributes)) {
      if (!["string", "number", "boolean"].includes(typeof v) && v != null) throw invalid(`Attribute ${k}: text, a number or a boolean.`);
      clean[k] = v == null ? "" : String(v);
    }
    return tell({ attributes: clean });
  },
  async reset() {
    conn?.stop();
    api.forget();
    state.details = { name: "", email: "", attributes: {} };
    state.messages.clear();
    state.pending.clear();
    state.conversation = null;
    state.position = 0;
    state.hasMore = false;
    await startSession();
    await follow();
    return null;
  },
};

// --- the session and the history -----------------------------------------------------

async function startSession(identify) {
  const data = await api.session(identify);
  state.visitor = data.visitor;
  state.config = { ...state.config, ...data.widget };
  const previous = state.conversation;
  state.conversation = data.conversation;
  state.waiting = Boolean(data.conversation?.waiting);
  if (data.conversation && previous?.id !== data.conversation.id) {
    state.messages.clear();
    state.position = data.conversation.last_seq;
  }
  if (!data.conversation) {
    state.messages.clear();
    state.position = 0;
  }
  state.problem = "";
  return data;
}

function addMessage(message) {
  const had = state.messages.has(message.seq);
  state.messages.set(message.seq, message);
  if (message.sender?.kind === "visitor" && state.pending.delete(message.client_id)) saveOutbox();
  return !had;
}

async function loadHistory(params = {}) {
  if (!state.conversation) return;
  const page = await api.history({ limit: 50, ...params });
  for (const message of page.results) addMessage(message);
  state.hasMore = page.has_more;
  redraw();
}

/** Follow the visitor the session names now (after identify or reset): their history,
 * their conversation's socket (with the new token), what they had not sent yet. */
async function follow() {
  conn?.stop();
  await loadHistory();
  redraw();
  connect();
  flush();
}

document.getElementById("earlier").addEventListener("click", () => {
  const seqs = [...state.messages.keys()];
  if (seqs.length) loadHistory({ before: Math.min(...seqs) }).catch(() => {});
});

// --- sending ----------------------------------------------------------------------------

function saveOutbox() {
  api.outbox = outboxOf(state.pending);
}

function newClientId() {
  return `w-${Date.now().toString(36)}-${crypto.getRandomValues(new Uint32Array(2)).join("")}`.slice(0, 64);
}

let flushing = false;
let retryTimer = null;

async function flush() {
  // Before the session answers there is no token to send with: what was written waits in
  // the outbox, and the start flushes it (the offline notice may show before that).
  if (flushing || !state.visitor) return;
  flushing = true;
  clearTimeout(retryTimer);
  try {
    for (const item of [...state.pending.values()]) {
      if (item.failed || !state.pending.has(item.client_id)) continue;
      try {
        addMessage(await deliver(item));
        state.scrollToEnd = true;
      } catch (err) {
        if (retryable(err)) {
          const wait = (err.details?.retry_after || 0) * 1000 || RETRY;
          retryTimer = setTimeout(flush, wait);
          break;
        }
        refused(item, err);
      }
      redraw();
    }
  } finally {
    flushing = false;
  }
}

/** A message the server will not take as it is: say why and give its text back. */
function refused(item, err) {
  state.pending.delete(item.client_id);
  saveOutbox();
  const box = document.getElementById("composer-input");
  if (!box.value) box.value = item.body;
  if (err.code === "prechat_required") view.renderPrechat(state);
  view.showError(err.message);
}

async function deliver(item) {
  if (state.conversation && conn?.ready) {
    const ack = await conn.request({
      type: "message.send",
      conversation: state.conversation.id,
      client_id: item.client_id,
      body: item.body,
    });
    return ack.message;
  }
  const fields = messageFields(item, { first: !state.conversation, details: state.details, page: state.page });
  const message = await api.send(fields);
  if (!state.conversation) {
    // The first message made the conversation: follow it live from here.
    state.conversation = {
      id: message.conversation,
      status: "open",
      delivered_seq: 0,
      read_seq: 0,
      visitor_read_seq: 0,
      last_seq: message.seq,
    };
    state.position = Math.max(state.position, message.seq);
    view.renderPrechat(state);
    connect();
  }
  return message;
}

document.getElementById("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  send();
});

document.getElementById("composer-input").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    send();
  }
});

document.getElementById("composer-input").addEventListener("input", (event) => typed(event.target.value));

function send() {
  const box = document.getElementById("composer-input");
  const body = box.value.trim();
  if (!body) return;
  view.showError("");
  if (!state.conversation) {
    const form = document.getElementById("prechat");
    if (!form.hidden) {
      const name = document.getElementById("prechat-name").value.trim();
      const email = document.getElementById("prechat-email").value.trim();
      for (const [field, value] of [["name", name], ["email", email]]) {
        if (config[`ask_${field}`] === "required" && !value && !state.details[field]) {
          view.showError(`Please give your ${field} first.`);
          document.getElementById(`prechat-${field}`).focus();
          return;
        }
      }
      if (name) state.details.name = name;
      if (email) state.details.email = email;
    }
  }
  const item = { client_id: newClientId(), body };
  state.pending.set(item.client_id, item);
  saveOutbox();
  box.value = "";
  typed("");
  state.scrollToEnd = true;
  redraw();
  flush();
}

// --- typing and receipts ------------------------------------------------------------------

let typingSentAt = 0;

function typed(text) {
  if (!state.conversation || !conn?.ready) return;
  const id = state.conversation.id;
  if (text && Date.now() - typingSentAt > TYPING_EVERY) {
    if (conn.send({ type: "typing", conversation: id, active: true })) typingSentAt = Date.now();
  } else if (!text && typingSentAt) {
    conn.send({ type: "typing", conversation: id, active: false });
    typingSentAt = 0;
  }
}

function visible() {
  return state.open && document.visibilityState === "visible";
}

let readSent = 0;
let deliveredSent = 0;

function lastTeamSeq() {
  let seq = 0;
  for (const message of state.messages.values()) if (message.sender?.kind !== "visitor") seq = Math.max(seq, message.seq);
  return seq;
}

function markRead() {
  const seq = lastTeamSeq();
  if (!state.conversation || !conn?.ready || !visible() || seq <= readSent) return;
  if (conn.send({ type: "receipt", conversation: state.conversation.id, kind: "read", seq })) readSent = seq;
}

function markDelivered(seq) {
  if (!state.conversation || !conn?.ready || seq <= deliveredSent) return;
  if (conn.send({ type: "receipt", conversation: state.conversation.id, kind: "delivered", seq })) deliveredSent = seq;
}

setInterval(() => view.renderTyping(state), 1000);

// --- the websocket ---------------------------------------------------------------------------

let conn = null;

function connect() {
  if (!state.conversation) return;
  if (!conn) {
    conn = new VisitorConnection(api, {
      onEvent,
      onStatus,
      resumeState: () => ({ conversations: { [state.conversation.id]: state.position } }),
    });
    conn.connect();
  } else if (conn.stopped) conn.restart();
  else conn.reconnectNow();
}

let sessionRetry = 0;

async function onStatus(link) {
  state.link = link;
  if (link === "ready") {
    sessionRetry = 0;
    readSent = deliveredSent = 0;
    markRead();
    markDelivered(lastTeamSeq());
    flush();
  }
  if (link === "signed-out") {
    // The token is no longer taken (too old, rotated elsewhere, the conversation gone):
    // ask for a session again and follow whatever conversation it names.
    setTimeout(
      async () => {
        try {
          await startSession();
          await loadHistory();
          if (state.conversation) conn.restart();
        } catch {
          state.link = "offline";
        }
        redraw();
      },
      Math.min(30000, 1000 * 2 ** sessionRetry++),
    );
  }
  view.renderStatus(state);
}

function onEvent(frame) {
  const conv = state.conversation;
  if (frame.type === "resumed") {
    if (!conv) return;
    const id = String(conv.id);
    if ((frame.not_found || []).map(String).includes(id)) {
      conn.stop();
      onStatus("signed-out");
      return;
    }
    if (frame.conversations && id in frame.conversations) state.position = frame.conversations[id];
    if ((frame.reset || []).map(String).includes(id)) {
      state.messages.clear();
      loadHistory().catch(() => {});
    }
    redraw();
    return;
  }
  if (!conv || frame.conversation !== conv.id) return;
  if (typeof frame.seq === "number") state.position = Math.max(state.position, frame.seq);
  switch (frame.type) {
    case "message.created": {
      const message = frame.message;
      const fresh = addMessage(message);
      // Someone of the team wrote: the visitor is no longer waiting for them.
      if (message.sender?.kind === "user") state.waiting = false;
      if (message.sender?.kind !== "visitor") {
        state.typing.delete(message.sender.id);
        if (fresh && !visible()) {
          state.unread += 1;
          toHost({ type: "unread", count: state.unread });
        }
        markDelivered(message.seq);
        markRead();
      }
      break;
    }
    case "message.deleted": {
      const message = state.messages.get(frame.message_seq);
      if (message) state.messages.set(frame.message_seq, { ...message, body: "", deleted: true });
      break;
    }
    case "support.updated":
      if (frame.status !== "resolved") state.rated = null; // resolved again: asked again
      conv.status = frame.status;
      state.waiting = Boolean(frame.waiting);
      break;
    case "support.rated":
      state.rated = frame.score; // rated in another tab: thanked here too
      break;
    case "typing":
      if (frame.who?.kind === "visitor") return;
      if (frame.active) state.typing.set(frame.who.id, { name: frame.who.name, until: Date.now() + TYPING_SHOWN });
      else state.typing.delete(frame.who.id);
      view.renderTyping(state);
      return;
    case "receipt":
      if (frame.who?.kind === "visitor") return;
      conv.delivered_seq = Math.max(conv.delivered_seq, frame.delivered_seq || 0);
      conv.read_seq = Math.max(conv.read_seq, frame.read_seq || 0);
      break;
    default:
      break;
  }
  redraw();
}

// A phone that wakes the tab, or a tab brought back: reconnect now rather than after the
// backoff, and what was read while away is read.
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState !== "visible") return;
  if (state.conversation && conn) conn.reconnectNow();
  markRead();
  flush();
});
window.addEventListener("online", () => flush());

function redraw() {
  view.renderMessages(state);
  view.renderStatus(state);
  view.renderPrechat(state);
  view.renderOffline(state);
  view.renderHandoff(state);
  view.renderRating(state);
}

// --- asking for a person, rating --------------------------------------------------------

/** A command on the socket when it is up, else its HTTP twin. */
async function command(frame, overHttp) {
  if (conn?.ready) return (await conn.request(frame)).result;
  return overHttp();
}

document.getElementById("handoff").addEventListener("click", async () => {
  if (!state.conversation) return;
  view.showError("");
  try {
    await command({ type: "support.handoff", conversation: state.conversation.id }, () => api.handoff());
    state.waiting = true;
    redraw();
  } catch (err) {
    view.showError(err.message);
  }
});

document.getElementById("rating-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const chosen = event.target.querySelector("input[name=score]:checked");
  if (!chosen) {
    view.showError("Please choose a score from 1 to 5.");
    return;
  }
  const score = Number(chosen.value);
  const comment = document.getElementById("rating-comment").value.trim();
  view.showError("");
  try {
    await command({ type: "support.rate", conversation: state.conversation.id, score, comment }, () => api.rate({ score, comment }));
    state.rated = score;
    redraw();
  } catch (err) {
    view.showError(err.message);
  }
});

// --- when nobody answers ------------------------------------------------------------------

document.getElementById("offline-email-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("offline-email");
  const email = input.value.trim();
  if (!email || !input.checkValidity()) {
    input.setAttribute("aria-invalid", "true");
    view.showError("Please give an email address like you@example.com.");
    input.focus();
    return;
  }
  input.removeAttribute("aria-invalid");
  view.showError("");
  try {
    // Stored now when the visitor has written; else sent with their first message.
    await tell({ email });
    state.emailLeft = email;
    redraw();
  } catch (err) {
    view.showError(err.message);
  }
});

const AVAILABILITY_EVERY = 60000;

/** Whether the team answers changes with the hours and their sockets: read it again
 * while the chat is on screen. */
async function refreshAvailability() {
  if (document.visibilityState !== "visible") return;
  try {
    const fresh = await api.config();
    state.config = { ...state.config, online: fresh.online, offline_reason: fresh.offline_reason, back_at: fresh.back_at, offline_message: fresh.offline_message };
    view.renderOffline(state);
  } catch {
    /* the next round asks again */
  }
}
setInterval(refreshAvailability, AVAILABILITY_EVERY);

// --- start --------------------------------------------------------------------------------

async function start() {
  if (!rightHost({ framed, ancestorOrigins: location.ancestorOrigins, hostOrigin })) {
    document.body.replaceChildren(Object.assign(document.createElement("p"), { textContent: "This chat is not available here." }));
    return;
  }
  redraw();
  for (;;) {
    try {
      await startSession();
      break;
    } catch (err) {
      state.problem = err instanceof ApiError && err.code !== "network" ? err.message : "The chat cannot reach the server. Retrying…";
      view.renderStatus(state);
      if (err.code === "identity_required") {
        toHost({ type: "ready" }); // the site identifies the visitor next (then `follow`)
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY));
    }
  }
  for (const item of api.outbox) state.pending.set(item.client_id, item);
  try {
    await loadHistory();
  } catch {
    /* shown by the status line; the resume fills it in */
  }
  redraw();
  toHost({ type: "ready" });
  showUnread();
  connect();
  flush();
}

/** After a reload: what the team wrote since the visitor last read, on the launcher's
 * badge (the session says how far they read; the history has the messages). */
function showUnread() {
  if (!state.conversation || visible()) return;
  state.unread = unreadCount(state.messages.values(), state.conversation.visitor_read_seq || 0);
  if (state.unread) toHost({ type: "unread", count: state.unread });
}

start();
