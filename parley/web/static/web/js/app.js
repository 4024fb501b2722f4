// Parley's web client: wires the state (store.js), the socket (socket.js), the REST API
// (api.js) and the views. No framework, no build step.

import { ApiError, get, post, setBase } from "./api.js";
import { avatar, setGeneratedAvatarPath } from "./avatar.js";
import { h, icon } from "./dom.js";
import { plural, unreadText } from "./format.js";
import { closeMenu, openMenu } from "./menu.js";
import * as notify from "./notify.js";
import { Connection } from "./socket.js";
import * as store from "./store.js";
import { state } from "./store.js";
import * as theme from "./theme.js";
import * as convView from "./view-conversation.js";
import * as listView from "./view-list.js";

const boot = JSON.parse(document.getElementById("parley-boot").textContent);
state.me = boot.me;
setBase(boot.api);
setGeneratedAvatarPath(boot.urls.default_avatar);
const MAX_LENGTH = boot.limits.message_max_length;
state.unreadCap = boot.limits.unread_cap ?? Infinity;

const $ = (id) => document.getElementById(id);
const app = $("app");
const composer = $("composer");
const input = $("composer-input");
const banner = $("banner");
const wide = window.matchMedia("(min-width: 760px)");

// --- rendering: parts marked dirty are redrawn once per task -----------------------------

const dirty = new Set();
let scheduled = false;
store.onChange((part) => {
  dirty.add(part);
  if (!scheduled) {
    scheduled = true;
    setTimeout(flush, 0);
  }
});

function flush() {
  scheduled = false;
  const parts = new Set(dirty);
  dirty.clear();
  if (parts.has("closed")) closeConversation();
  const conv = state.convs.get(state.openId);
  if (parts.has("list")) listView.render();
  if (conv && parts.has("header")) convView.renderHeader(conv);
  if (conv && parts.has("messages")) {
    convView.renderMessages(conv, messageHandlers);
    const box = $("messages");
    // Not enough history to scroll yet: fetch the next page right away.
    if (box.scrollHeight <= box.clientHeight + 50) loadOlder(conv);
  }
  if (conv && (parts.has("typing") || parts.has("list"))) convView.renderTyping(conv);
  if (parts.has("title") || parts.has("list")) {
    const total = store.totalUnread();
    notify.setUnreadTitle(total > 0 ? unreadText(total, state.unreadCap) : "");
  }
  if (parts.has("banner")) renderBanner();
  if (parts.has("me")) renderMe();
}

function redraw(...parts) {
  for (const p of parts) dirty.add(p);
  if (!scheduled) {
    scheduled = true;
    setTimeout(flush, 0);
  }
}

// --- the socket --------------------------------------------------------------------------

const conn = new Connection(boot.ws, {
  resumeState: () => store.resumeState(),
  onHello(frame) {
    if (state.userSeq === null) state.userSeq = frame.user_seq;
  },
  onStatus(status) {
    state.connection = status;
    redraw("banner");
    if (status === "ready") afterReady();
  },
  onEvent(frame) {
    if (frame.type === "resumed") return onResumed(frame);
    if (frame.type === "error") {
      console.warn("server error", frame.code, frame.message);
      return;
    }
    const hints = store.apply(frame);
    if (hints.unknown) fetchConversation(hints.unknown);
    if (hints.refresh) fetchConversation(hints.refresh);
    if (hints.incoming) onIncoming(hints.incoming.conv, hints.incoming.message);
  },
});

function onResumed(frame) {
  for (const cid of frame.reset || []) {
    // Too much was missed to replay: start that conversation over from the server.
    if (frame.conversations[String(cid)] !== undefined) {
      state.positions.set(cid, frame.conversations[String(cid)]);
    }
    const conv = state.convs.get(cid);
    if (conv) {
      conv.messages.clear();
      conv.historyLoaded = false;
      conv.hasMore = true;
    }
    fetchConversation(cid, true);
  }
  if (frame.user_reset) {
    state.userSeq = frame.user_seq;
    loadConversations();
  }
  for (const key of Object.keys(frame.conversations || {})) {
    const cid = Number(key);
    if (!state.convs.has(cid)) {
      state.positions.set(cid, frame.conversations[key]);
      fetchConversation(cid);
    }
  }
}

function afterReady() {
  const open = state.convs.get(state.openId);
  if (open) {
    conn.send({ type: "conversation.open", conversation: open.id });
    fetchConversation(open.id); // who came and went while the socket was down
    markRead(open);
  }
  for (const conv of state.convs.values()) {
    for (const p of [...conv.pending.values()].sort((a, b) => (a.created_at < b.created_at ? -1 : 1))) {
      if (p.status === "pending") transmit(conv, p.client_id);
    }
    if (conv !== open && conv.last_seq > conv.delivered_seq) markDelivered(conv, conv.last_seq);
  }
}

let bannerTimer = null;
function renderBanner() {
  clearInterval(bannerTimer);
  const status = state.connection;
  if (status === "ready" || (status === "connecting" && !conn.attempt)) {
    banner.hidden = true;
    app.classList.remove("is-offline");
    return;
  }
  app.classList.add("is-offline");
  banner.hidden = false;
  if (status === "signed-out") {
    banner.replaceChildren(
      h("span", { text: "You were signed out." }),
      h("button", { type: "button", class: "link-btn", text: "Sign in again", onclick: () => location.reload() }),
    );
    return;
  }
  const draw = () => {
    const wait = Math.max(0, Math.ceil((conn.retryAt - Date.now()) / 1000));
    const text =
      state.connection === "connecting" || wait === 0
        ? "Connection lost. Reconnecting…"
        : `Connection lost. Reconnecting in ${wait} s…`;
    banner.replaceChildren(
      h("span", { class: "banner-text", text }),
      h("button", { type: "button", class: "link-btn", text: "Retry now", onclick: () => conn.reconnectNow() }),
    );
  };
  draw();
  if (status === "offline") bannerTimer = setInterval(draw, 1000);
}

// --- loading -----------------------------------------------------------------------------

async function loadConversations() {
  try {
    const convs = await get("/conversations");
    const seen = new Set();
    for (const c of convs) {
      store.upsertConv(c);
      seen.add(c.id);
    }
    for (const id of [...state.convs.keys()]) if (!seen.has(id)) store.removeConv(id);
    state.loaded = true;
    redraw("list", "title");
  } catch (err) {
    toast(err.message || "Could not load your conversations.");
    setTimeout(loadConversations, 5000);
  }
}

const fetching = new Map();
function fetchConversation(id, reloadHistory = false) {
  if (fetching.has(id)) return fetching.get(id);
  const promise = get(`/conversations/${id}`)
    .then((data) => {
      const conv = store.upsertConv(data);
      if (reloadHistory && conv.id === state.openId) loadHistory(conv);
      return conv;
    })
    .catch((err) => {
      if (err instanceof ApiError && err.status === 404) store.removeConv(id);
      return null;
    })
    .finally(() => fetching.delete(id));
  fetching.set(id, promise);
  return promise;
}

async function loadHistory(conv) {
  conv.historyError = null;
  try {
    const page = await get(`/conversations/${conv.id}/messages?limit=50`);
    store.mergeMessages(conv, page.results);
    conv.hasMore = page.has_more;
    conv.historyLoaded = true;
  } catch (err) {
    conv.historyError = `Could not load messages: ${err.message}`;
  }
  if (conv.id === state.openId) {
    convView.scrollToBottomNext();
    redraw("messages");
  }
}

async function loadOlder(conv) {
  if (!conv.historyLoaded || conv.loadingOlder || !conv.hasMore) return;
  const seqs = [...conv.messages.keys()];
  if (!seqs.length) {
    conv.hasMore = false;
    return redraw("messages");
  }
  conv.loadingOlder = true;
  redraw("messages");
  try {
    const page = await get(`/conversations/${conv.id}/messages?before=${Math.min(...seqs)}&limit=50`);
    store.mergeMessages(conv, page.results);
    conv.hasMore = page.has_more;
  } catch (err) {
    toast(`Could not load earlier messages: ${err.message}`);
  } finally {
    conv.loadingOlder = false;
    redraw("messages");
  }
}

// --- receipts, notifications ----------------------------------------------------------------

function markDelivered(conv, seq) {
  if (seq <= conv.delivered_seq) return;
  if (conn.send({ type: "receipt", conversation: conv.id, kind: "delivered", seq })) {
    conv.delivered_seq = seq;
  }
}

function markRead(conv) {
  if (document.visibilityState !== "visible") return;
  const seq = Math.max(conv.last_seq, state.positions.get(conv.id) || 0);
  if (seq <= conv.read_seq && conv.unread === 0) return;
  if (seq > conv.read_seq && conn.send({ type: "receipt", conversation: conv.id, kind: "read", seq })) {
    conv.read_seq = seq;
    conv.delivered_seq = Math.max(conv.delivered_seq, seq);
  }
  conv.unread = 0;
  redraw("list", "title");
}

function onIncoming(conv, message) {
  const onScreen = conv.id === state.openId && document.visibilityState === "visible";
  if (onScreen) {
    markRead(conv);
    return;
  }
  markDelivered(conv, message.seq);
  if (!message.deleted) {
    notify.show({
      title: conv.kind === "direct" ? message.sender.name : `${message.sender.name} · ${conv.title}`,
      body: message.body.slice(0, 160),
      tag: `parley-${conv.id}`,
      icon: message.sender.avatar || undefined,
      onClick: () => openConversation(conv.id),
    });
  }
}

document.addEventListener("visibilitychange", () => {
  const conv = state.convs.get(state.openId);
  if (conv && document.visibilityState === "visible") markRead(conv);
});

// --- opening and closing a conversation ------------------------------------------------

async function openConversation(id, { push = true } = {}) {
  closeMenu(false);
  let conv = state.convs.get(id);
  if (!conv) {
    conv = await fetchConversation(id);
    if (!conv) {
      toast("That conversation does not exist or you are not in it.");
      if (push) history.replaceState(null, "", "/");
      return;
    }
  }
  if (state.openId && state.openId !== id) {
    stopTyping();
    conn.send({ type: "conversation.close", conversation: state.openId });
  }
  const switching = state.openId !== id;
  state.openId = id;
  if (push && location.pathname !== `/c/${id}/`) history.pushState({ c: id }, "", `/c/${id}/`);
  app.dataset.view = "conversation";
  $("placeholder").hidden = true;
  $("conversation").hidden = false;
  if (switching) {
    convView.clear();
    input.value = drafts.get(id) || "";
    autosize();
  }
  convView.scrollToBottomNext();
  convView.renderHeader(conv);
  convView.renderMessages(conv, messageHandlers);
  convView.renderTyping(conv);
  listView.render();
  if (!conv.historyLoaded) loadHistory(conv);
  // Open first, then read the members: a group's presence comes only while it is open.
  conn.send({ type: "conversation.open", conversation: id });
  fetchConversation(id);
  markRead(conv);
  if (wide.matches) input.focus();
  else $("back-btn").focus();
}

function closeConversation({ push = true } = {}) {
  if (state.openId) {
    stopTyping();
    conn.send({ type: "conversation.close", conversation: state.openId });
  }
  const was = state.openId;
  state.openId = null;
  app.dataset.view = "list";
  $("conversation").hidden = true;
  $("placeholder").hidden = false;
  convView.clear();
  listView.render();
  if (push && location.pathname !== "/") history.pushState({}, "", "/");
  if (was) document.querySelector(`[data-conversation="${was}"]`)?.focus();
}

window.addEventListener("popstate", () => {
  const m = location.pathname.match(/^\/c\/(\d+)\/$/);
  if (m) openConversation(Number(m[1]), { push: false });
  else closeConversation({ push: false });
});

$("back-btn").addEventListener("click", () => closeConversation());

$("conversation-list").addEventListener("click", (e) => {
  const a = e.target.closest("a[data-conversation]");
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  openConversation(Number(a.dataset.conversation));
});

$("filter").addEventListener("input", (e) => {
  state.filter = e.target.value;
  listView.render();
});

// --- sending -----------------------------------------------------------------------------

function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function transmit(conv, clientId) {
  const p = conv.pending.get(clientId);
  if (!p) return;
  store.pendingStatus(conv, clientId, "pending");
  if (!conn.ready) return; // sent after the next `resumed`
  conn
    .request({ type: "message.send", conversation: conv.id, client_id: clientId, body: p.body })
    .then((ack) => store.acknowledged(conv, ack.message))
    .catch((err) => {
      if (err.code === "disconnected") return; // still pending: resent on reconnect
      if (err.code === "unavailable") {
        // The server cannot reach its database: nothing was stored. Still pending; the
        // same client_id again after retry_after, doubling up to a minute (a retry is
        // always safe: a message is stored once per client_id).
        p.refusals = (p.refusals || 0) + 1;
        const wait = (err.details?.retry_after || 2) * 1000 * 2 ** Math.min(p.refusals - 1, 5);
        setTimeout(() => transmit(conv, clientId), Math.min(wait, 60000));
        return;
      }
      store.pendingStatus(conv, clientId, "failed", err.message);
    });
}

const drafts = new Map();

function sendFromComposer() {
  const conv = state.convs.get(state.openId);
  if (!conv) return;
  const body = input.value;
  if (!body.trim()) return;
  if (body.length > MAX_LENGTH) {
    toast(`A message may be at most ${MAX_LENGTH} characters (this one has ${body.length}).`);
    return;
  }
  input.value = "";
  drafts.delete(conv.id);
  autosize();
  stopTyping();
  const clientId = newClientId();
  store.addPending(conv, body, clientId);
  convView.scrollToBottomNext();
  transmit(conv, clientId);
}

composer.addEventListener("submit", (e) => {
  e.preventDefault();
  sendFromComposer();
  input.focus();
});

input.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    sendFromComposer();
  }
});

function autosize() {
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
}

// Typing: `active` when typing starts and every 3 s while it goes on; `false` after 4 s quiet.
let typingSentAt = 0;
let typingIdle = null;
let typingConv = null;

input.addEventListener("input", () => {
  autosize();
  const conv = state.convs.get(state.openId);
  if (!conv) return;
  drafts.set(conv.id, input.value);
  if (!input.value.trim()) return stopTyping();
  const now = Date.now();
  if (now - typingSentAt > 3000 || typingConv !== conv.id) {
    if (conn.send({ type: "typing", conversation: conv.id, active: true })) {
      typingSentAt = now;
      typingConv = conv.id;
    }
  }
  clearTimeout(typingIdle);
  typingIdle = setTimeout(stopTyping, 4000);
});

function stopTyping() {
  clearTimeout(typingIdle);
  if (typingConv !== null) {
    conn.send({ type: "typing", conversation: typingConv, active: false });
  }
  typingConv = null;
  typingSentAt = 0;
}

// --- message actions ---------------------------------------------------------------------

const messageHandlers = {
  retry(clientId) {
    const conv = state.convs.get(state.openId);
    if (conv) transmit(conv, clientId);
  },
  messageMenu(button, m) {
    const conv = state.convs.get(state.openId);
    if (!conv) return;
    const mine = store.isMine(m.sender);
    const moderator = conv.kind !== "direct" && (conv.role === "owner" || conv.role === "admin");
    const items = [];
    if (!m.deleted) {
      items.push({ label: "Copy text", action: () => copy(m.body, "Copied.") });
    }
    items.push({ label: "Delete for me", action: () => deleteMessage(conv, m.seq, "me") });
    if (!m.deleted && (mine || moderator)) {
      items.push({ label: "Delete for everyone", danger: true, action: () => deleteMessage(conv, m.seq, "everyone") });
    }
    openMenu(button, items, "Message actions");
  },
};

async function deleteMessage(conv, seq, scope) {
  try {
    await conn.request({ type: "message.delete", conversation: conv.id, seq, scope });
    if (scope === "me") {
      conv.hidden.add(seq);
      conv.messages.delete(seq);
    } else {
      conv.deleted.add(seq);
      const m = conv.messages.get(seq);
      if (m) conv.messages.set(seq, { ...m, deleted: true, body: "" });
    }
    redraw("messages", "list");
    $("message-list").focus?.();
  } catch (err) {
    toast(err.code === "disconnected" ? "You are offline; try again when connected." : err.message);
  }
}

async function clearHistory(conv) {
  const ok = await confirmDialog({
    title: "Clear history?",
    text: `Every message in “${conv.title}” up to now disappears for you. The others keep theirs.`,
    ok: "Clear history",
  });
  if (!ok) return;
  try {
    const ack = await conn.request({ type: "history.clear", conversation: conv.id });
    const through = ack.result?.through_seq ?? conv.last_seq;
    for (const seq of [...conv.messages.keys()]) if (seq <= through) conv.messages.delete(seq);
    conv.cleared_through_seq = Math.max(conv.cleared_through_seq, through);
    if (conv.last_message && conv.last_message.seq <= through) conv.last_message = null;
    conv.hasMore = false;
    redraw("messages", "list");
    toast("History cleared.");
  } catch (err) {
    toast(err.code === "disconnected" ? "You are offline; try again when connected." : err.message);
  }
}

async function leave(conv) {
  const what = conv.kind === "public" ? "room" : "group";
  const ok = await confirmDialog({
    title: `Leave ${what}?`,
    text: `You will stop receiving messages from “${conv.title}”.`,
    ok: `Leave ${what}`,
  });
  if (!ok) return;
  try {
    await post(`/conversations/${conv.id}/leave`);
    store.removeConv(conv.id);
  } catch (err) {
    toast(err.message);
  }
}

$("conv-menu-btn").addEventListener("click", (e) => {
  const conv = state.convs.get(state.openId);
  if (!conv) return;
  const items = [];
  if (conv.kind === "group" || conv.kind === "public") {
    items.push({ label: "Members", action: () => showMembers(conv) });
  }
  if (conv.kind === "group" && conv.invite_url) {
    items.push({ label: "Invite link", action: () => showInvite(conv.invite_url) });
  }
  items.push({ label: "Clear history…", danger: true, action: () => clearHistory(conv) });
  if (conv.kind === "group" || conv.kind === "public") {
    items.push({ label: conv.kind === "public" ? "Leave room…" : "Leave group…", danger: true, action: () => leave(conv) });
  }
  openMenu(e.currentTarget, items, "Conversation menu");
});

// --- the main menu -----------------------------------------------------------------------

$("main-menu-btn").addEventListener("click", (e) => {
  const items = [];
  if (boot.urls.profile) items.push({ label: "Profile", action: () => (location.href = boot.urls.profile) });
  items.push({
    label: "Dark theme",
    checked: theme.current() === "dark",
    action: () => theme.toggle(),
  });
  if (notify.canAsk()) {
    items.push({
      label: "Turn on notifications",
      action: async () => {
        const answer = await notify.ask();
        toast(answer === "granted" ? "Notifications are on." : "Notifications stay off.");
      },
    });
  }
  if (boot.urls.logout) items.push({ label: "Log out", action: () => $("logout-form").submit() });
  openMenu(e.currentTarget, items, "Main menu");
});

function renderMe() {
  $("me").replaceChildren(
    avatar({ name: state.me.name, avatar: state.me.avatar, seed: `u${state.me.id}` }),
    h("span", { class: "me-name", text: state.me.name }),
  );
}

// --- dialogs -----------------------------------------------------------------------------

function openDialog(dialog) {
  const opener = document.activeElement;
  dialog.addEventListener("close", () => opener?.isConnected && opener.focus(), { once: true });
  dialog.showModal();
}

for (const dialog of document.querySelectorAll("dialog")) {
  dialog.addEventListener("click", (e) => {
    if (e.target.closest("[data-close]")) dialog.close();
    else if (e.target === dialog) dialog.close(); // a click on the backdrop
  });
}

function formError(el, message) {
  el.textContent = message || "";
  el.hidden = !message;
}

function confirmDialog({ title, text, ok }) {
  const dialog = $("confirm-dialog");
  $("confirm-title").textContent = title;
  $("confirm-text").textContent = text;
  $("confirm-ok").textContent = ok;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    openDialog(dialog);
    $("confirm-ok").focus();
  });
}

function openNewChat() {
  const dialog = $("new-chat-dialog");
  $("new-chat-form").reset();
  formError($("new-chat-error"), "");
  openDialog(dialog);
  $("new-chat-user").focus();
}

$("new-chat-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const who = $("new-chat-user").value.trim();
  const error = $("new-chat-error");
  if (!who) return formError(error, "Type an email address or a username.");
  formError(error, "");
  try {
    const data = await post("/conversations/direct", { user: who });
    store.upsertConv(data);
    $("new-chat-dialog").close();
    openConversation(data.id);
  } catch (err) {
    const message =
      err.code === "user_not_found"
        ? `Nobody on Parley has the email or username “${who}”.`
        : err.message;
    formError(error, message);
    $("new-chat-user").focus();
  }
});

function openNewGroup() {
  $("new-group-form").reset();
  formError($("new-group-error"), "");
  openDialog($("new-group-dialog"));
  $("new-group-name").focus();
}

$("new-group-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const title = $("new-group-name").value.trim();
  const members = $("new-group-members").value.split(/[\s,;]+/).filter(Boolean);
  const error = $("new-group-error");
  if (!title) return formError(error, "Give the group a name.");
  try {
    const data = await post("/conversations/groups", { title, members });
    store.upsertConv(data);
    $("new-group-dialog").close();
    await openConversation(data.id);
    if (data.invite_url) showInvite(data.invite_url);
  } catch (err) {
    const who = err.details?.login;
    formError(error, err.code === "user_not_found" && who ? `Nobody on Parley has the email or username “${who}”.` : err.message);
  }
});

function showInvite(url) {
  const absolute = new URL(url, location.origin).href;
  $("invite-url").value = absolute;
  $("invite-copied").textContent = "";
  openDialog($("invite-dialog"));
  $("invite-copy").focus();
}

$("invite-copy").addEventListener("click", async () => {
  const ok = await copy($("invite-url").value);
  $("invite-copied").textContent = ok ? "Link copied." : "Select the link and copy it.";
  if (!ok) $("invite-url").select();
});

async function copy(text, done) {
  try {
    await navigator.clipboard.writeText(text);
    if (done) toast(done);
    return true;
  } catch {
    return false;
  }
}

async function openRooms() {
  const ul = $("room-list");
  ul.replaceChildren(h("li", { class: "muted", text: "Loading…" }));
  ul.setAttribute("aria-busy", "true");
  openDialog($("rooms-dialog"));
  try {
    const rooms = await get("/rooms");
    ul.replaceChildren(
      ...rooms.map((room) =>
        h(
          "li",
          { class: "room", dataset: { slug: room.slug } },
          avatar({ name: room.title, seed: `c${room.id}` }),
          h(
            "div",
            { class: "room-text" },
            h("strong", { text: room.title }),
            room.about ? h("span", { class: "muted", text: room.about }) : null,
            h("span", { class: "room-counts" },
              h("span", { text: plural(room.member_count, "member", "members") }),
              " · ",
              h("span", { class: "online-count", text: `${room.online_count} online` }),
            ),
          ),
          h("button", {
            type: "button",
            class: `btn${room.joined ? "" : " primary"}`,
            text: room.joined ? "Open" : "Join",
            "aria-label": `${room.joined ? "Open" : "Join"} ${room.title}`,
            onclick: () => openRoom(room.slug),
          }),
        ),
      ),
    );
    if (!rooms.length) ul.replaceChildren(h("li", { class: "muted", text: "No public rooms yet." }));
  } catch (err) {
    ul.replaceChildren(h("li", { class: "form-error", text: err.message }));
  }
  ul.setAttribute("aria-busy", "false");
}

async function openRoom(slug) {
  try {
    const data = await post(`/rooms/${encodeURIComponent(slug)}/open`);
    store.upsertConv(data);
    $("rooms-dialog").close();
    openConversation(data.id);
  } catch (err) {
    toast(err.message);
  }
}

async function showMembers(conv) {
  const ul = $("member-list");
  await fetchConversation(conv.id);
  const members = [...(conv.members?.values() || [])].sort((a, b) => Number(b.online) - Number(a.online) || a.name.localeCompare(b.name));
  $("members-title").textContent = `Members of ${conv.title} (${members.length})`;
  ul.replaceChildren(
    ...members.map((m) =>
      h(
        "li",
        { class: "member" },
        avatar({ name: m.name, avatar: m.avatar, seed: `u${m.id}`, online: m.online }),
        h("span", { class: `member-name${m.online ? " online" : ""}`, text: m.name }),
        h("span", { class: "muted", text: [m.role !== "member" ? m.role : "", m.online ? "online" : ""].filter(Boolean).join(" · ") }),
      ),
    ),
  );
  openDialog($("members-dialog"));
}

$("new-chat-btn").addEventListener("click", openNewChat);
$("new-group-btn").addEventListener("click", openNewGroup);
$("rooms-btn").addEventListener("click", openRooms);
document.querySelector('[data-action="new-chat"]').addEventListener("click", openNewChat);
document.querySelector('[data-action="rooms"]').addEventListener("click", openRooms);

// --- toasts ------------------------------------------------------------------------------

const toastBox = h("div", { class: "toasts", role: "status", "aria-live": "polite" });
document.body.append(toastBox);
function toast(text) {
  const el = h("div", { class: "toast", text });
  toastBox.append(el);
  setTimeout(() => el.remove(), 4000);
}

// --- keyboard ----------------------------------------------------------------------------

document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && !document.querySelector("dialog[open]") && !document.querySelector(".menu")) {
    if (state.openId && !wide.matches) closeConversation();
  }
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "k") {
    e.preventDefault();
    if (!wide.matches && state.openId) closeConversation();
    $("filter").focus();
  }
});

// Touch screens: a tap on a message selects it, which shows its menu button.
$("message-list").addEventListener("click", (e) => {
  if (e.target.closest("a, button")) return;
  const li = e.target.closest("li.msg");
  for (const el of document.querySelectorAll("#message-list li.selected")) {
    if (el !== li) el.classList.remove("selected");
  }
  li?.classList.toggle("selected");
});

$("messages").addEventListener("scroll", () => {
  const conv = state.convs.get(state.openId);
  if (conv && $("messages").scrollTop < 300) loadOlder(conv);
});

// --- start -------------------------------------------------------------------------------

renderMe();
listView.render();
await loadConversations();
conn.connect();
if (boot.open) openConversation(boot.open, { push: false });
