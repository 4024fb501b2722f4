// Parley's web client: wires the state (store.js), the socket (socket.js), reading from
// the server (sync.js), the composer, the actions and the views. No framework, no build
// step. store.js is the only module that changes the state; the others ask it to.

import { installActions } from "./actions.js";
import { setBase } from "./api.js";
import { createAvailability } from "./availability.js";
import { avatar, setGeneratedAvatarPath } from "./avatar.js";
import { createComposer } from "./composer.js";
import { createGroupSettings } from "./group-settings.js";
import { h } from "./dom.js";
import { unreadText } from "./format.js";
import { createInbox } from "./inbox.js";
import { closeMenu, openMenu } from "./menu.js";
import * as notify from "./notify.js";
import { createPins } from "./pins.js";
import { Connection } from "./socket.js";
import * as store from "./store.js";
import { state } from "./store.js";
import { createSync } from "./sync.js";
import * as theme from "./theme.js";
import { $, toast } from "./ui.js";
import { createUnreadDivider } from "./unread-divider.js";
import * as convView from "./view-conversation.js";
import * as inboxView from "./view-inbox.js";
import * as listView from "./view-list.js";
import * as searchView from "./view-search.js";
import * as supportView from "./view-support.js";
import { createWidgets } from "./widgets.js";

const boot = JSON.parse(document.getElementById("parley-boot").textContent);
store.start(boot.me, boot.limits.unread_cap);
setBase(boot.api);
setGeneratedAvatarPath(boot.urls.default_avatar);

const app = $("app");
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
  if (parts.has("list") || parts.has("inbox") || parts.has("section")) inboxView.render();
  if (parts.has("section")) showSection();
  if (parts.has("widgets")) widgets.render();
  if (parts.has("availability")) availability.render();
  if (parts.has("webhooks")) widgets.renderWebhooks();
  if (parts.has("automation")) widgets.renderAutomation();
  // On a widget's team (the Inbox shows): my availability is read once.
  if (parts.has("widgets") && inboxView.hasInbox()) availability.load();
  if (conv?.kind === "support" && (parts.has("support") || parts.has("notes"))) {
    supportView.render(state.inbox.get(conv.id) || null);
  }
  if (conv && parts.has("header")) convView.renderHeader(conv);
  if (parts.has("header") || parts.has("messages") || parts.has("closed")) pins.render();
  if (parts.has("header") || parts.has("list") || parts.has("closed")) groupSettings.render();
  if (parts.has("search")) searchView.render();
  if (conv && parts.has("messages")) {
    convView.renderMessages(conv, messageHandlers);
    unreadDivider.afterRender(conv);
    if (state.jump?.conv === conv.id && convView.reveal(state.jump.seq)) store.jumped();
    const box = $("messages");
    // Not enough history to scroll yet: fetch the next page right away.
    if (box.scrollHeight <= box.clientHeight + 50) sync.loadOlder(conv);
  }
  if (conv && (parts.has("typing") || parts.has("list"))) convView.renderTyping(conv);
  if (parts.has("title") || parts.has("list")) {
    const total = store.totalUnread();
    notify.setUnreadTitle(total > 0 ? unreadText(total, state.unreadCap) : "");
  }
  if (parts.has("banner")) renderBanner();
  if (parts.has("me")) renderMe();
}

// --- the socket --------------------------------------------------------------------------

const conn = new Connection(boot.ws, {
  resumeState: () => store.resumeState(),
  onHello: (frame) => store.helloReceived(frame),
  onStatus(status) {
    store.setConnection(status);
    if (status === "ready") afterReady();
  },
  onEvent(frame) {
    if (frame.type === "resumed") return onResumed(frame);
    if (frame.type === "error") {
      console.warn("server error", frame.code, frame.message);
      return;
    }
    const hints = store.apply(frame);
    if (hints.unknown) sync.fetchConversation(hints.unknown).then(inbox.conversationKnown);
    if (hints.refresh) sync.fetchConversation(hints.refresh);
    if (hints.support) inbox.fetchSupport(hints.support);
    if (hints.incoming) onIncoming(hints.incoming.conv, hints.incoming.message);
  },
});
const sync = createSync(conn);
const inbox = createInbox();
const widgets = createWidgets();
const availability = createAvailability();
const composer = createComposer(conn, { maxLength: boot.limits.message_max_length, limits: boot.limits });
const unreadDivider = createUnreadDivider({ conn, sync });
const pins = createPins({ conn, sync });
const groupSettings = createGroupSettings({ sync });
const { messageHandlers } = installActions({
  conn,
  sync,
  transmit: composer.transmit,
  openConversation: (id) => openConversation(id),
  maxGroupMembers: boot.limits.group_max_members,
  extraItems: {
    message: (conv, m) => [...pins.messageItems(conv, m), ...unreadDivider.messageItems(conv, m)],
    conversation: (conv) => [...groupSettings.conversationItems(conv), ...pins.conversationItems(conv), ...unreadDivider.conversationItems(conv)],
  },
});

function onResumed(frame) {
  const { reset, unknown, reloadList } = store.resumed(frame);
  for (const cid of reset) sync.fetchConversation(cid, true);
  if (reloadList) sync.loadConversations().then(() => inbox.loadWidgets());
  for (const cid of unknown) sync.fetchConversation(cid).then(inbox.conversationKnown);
}

function afterReady() {
  const open = state.convs.get(state.openId);
  if (open) {
    conn.send({ type: "conversation.open", conversation: open.id });
    sync.fetchConversation(open.id); // who came and went while the socket was down
    sync.markRead(open);
  }
  for (const conv of state.convs.values()) {
    composer.resendPending(conv);
    if (conv !== open && conv.last_seq > conv.delivered_seq) sync.markDelivered(conv, conv.last_seq);
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

// --- notifications -------------------------------------------------------------------------

function onIncoming(conv, message) {
  const onScreen = conv.id === state.openId && document.visibilityState === "visible";
  if (onScreen) {
    sync.markRead(conv);
    return;
  }
  sync.markDelivered(conv, message.seq);
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
  if (conv && document.visibilityState === "visible") sync.markRead(conv);
});

// --- opening and closing a conversation ------------------------------------------------

async function openConversation(id, { push = true } = {}) {
  closeMenu(false);
  let conv = state.convs.get(id);
  if (!conv) {
    conv = await sync.fetchConversation(id);
    if (!conv) {
      toast("That conversation does not exist or you are not in it.");
      if (push) history.replaceState(null, "", "/");
      return;
    }
  }
  if (state.openId && state.openId !== id) {
    composer.stopTyping();
    conn.send({ type: "conversation.close", conversation: state.openId });
  }
  const switching = store.setOpen(id) !== id;
  if (push && location.pathname !== `/c/${id}/`) history.pushState({ c: id }, "", `/c/${id}/`);
  app.dataset.view = "conversation";
  if (state.section === "widgets") store.setSection(conv.kind === "support" ? "inbox" : "chats");
  $("widgets-screen").hidden = true;
  $("placeholder").hidden = true;
  $("conversation").hidden = false;
  if (switching) {
    convView.clear();
    composer.showDraft(id);
  }
  unreadDivider.opened(conv); // before it is marked read: the divider goes where I stopped
  convView.scrollToBottomNext();
  convView.renderHeader(conv);
  convView.renderMessages(conv, messageHandlers);
  unreadDivider.afterRender(conv);
  pins.render();
  convView.renderTyping(conv);
  listView.render();
  if (!conv.historyLoaded) sync.loadHistory(conv);
  inbox.opened(conv);
  // Open first, then read the members: a group's presence comes only while it is open.
  conn.send({ type: "conversation.open", conversation: id });
  sync.fetchConversation(id);
  sync.markRead(conv);
  if (wide.matches) composer.focus();
  else $("back-btn").focus();
}

function closeConversation({ push = true } = {}) {
  if (state.openId) {
    composer.stopTyping();
    conn.send({ type: "conversation.close", conversation: state.openId });
  }
  const was = store.setOpen(null);
  app.dataset.view = "list";
  $("conversation").hidden = true;
  $("placeholder").hidden = false;
  convView.clear();
  supportView.render(null);
  listView.render();
  inboxView.render();
  const home = SECTION_PATH[state.section === "inbox" ? "inbox" : "chats"];
  if (push && location.pathname !== home) history.pushState({}, "", home);
  if (was) document.querySelector(`[data-conversation="${was}"]`)?.focus();
}

// --- sections: chats, the support inbox, the widgets screen ------------------------------

const SECTION_PATH = { chats: "/", inbox: "/inbox/", widgets: "/widgets/" };

/** Show what the section wants in the main area (the widgets screen, or what was there). */
function showSection() {
  const onWidgets = state.section === "widgets";
  $("widgets-screen").hidden = !onWidgets;
  if (onWidgets) {
    $("conversation").hidden = true;
    $("placeholder").hidden = true;
    app.dataset.view = "widgets";
  } else if (!state.openId) {
    $("placeholder").hidden = false;
    app.dataset.view = "list";
  }
}

function goTo(section, { push = true } = {}) {
  if (section === "widgets" && state.openId) closeConversation({ push: false });
  if (section !== "widgets" && state.section === "widgets") {
    store.setSection(section);
    closeConversation({ push: false });
  } else {
    store.setSection(section);
  }
  if (push && !state.openId && location.pathname !== SECTION_PATH[section]) {
    history.pushState({}, "", SECTION_PATH[section]);
  }
  if (section === "widgets") $("widgets-title").focus();
  if (section === "inbox" && !state.inboxLoaded) inbox.loadInbox();
}

$("tab-chats").addEventListener("click", () => goTo("chats"));
$("tab-inbox").addEventListener("click", () => goTo("inbox"));
$("widgets-back").addEventListener("click", () => goTo(inboxView.hasInbox() ? "inbox" : "chats"));

window.addEventListener("popstate", () => {
  const m = location.pathname.match(/^\/c\/(\d+)\/$/);
  if (m) return openConversation(Number(m[1]), { push: false });
  const section = Object.keys(SECTION_PATH).find((k) => SECTION_PATH[k] === location.pathname) || "chats";
  if (state.openId) closeConversation({ push: false });
  goTo(section, { push: false });
});

$("back-btn").addEventListener("click", () => closeConversation());

for (const list of [$("conversation-list"), $("inbox-list")]) {
  list.addEventListener("click", (e) => {
    const a = e.target.closest("a[data-conversation]");
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    openConversation(Number(a.dataset.conversation));
  });
}

// One box: it filters the chats by name as I type, and searches messages (docs/search.md)
// when I pause or press Enter.
$("filter").addEventListener("input", (e) => {
  store.setFilter(e.target.value);
  sync.search(e.target.value, { delay: 400 });
});
$("filter").addEventListener("keydown", (e) => {
  if (e.key === "Enter") sync.search(e.target.value);
});
$("search-more").addEventListener("click", () => sync.searchMore());
$("search-list").addEventListener("click", async (e) => {
  const a = e.target.closest("a[data-seq]");
  if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
  e.preventDefault();
  const id = Number(a.dataset.conversation);
  await openConversation(id);
  const conv = state.convs.get(id);
  if (conv && state.openId === id) sync.reveal(conv, Number(a.dataset.seq));
});

// --- the main menu -----------------------------------------------------------------------

$("main-menu-btn").addEventListener("click", (e) => {
  const items = [];
  if (boot.urls.profile) items.push({ label: "Profile", action: () => (location.href = boot.urls.profile) });
  items.push({ label: "Support widgets", action: () => goTo("widgets") });
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

// --- keyboard, touch, scrolling ------------------------------------------------------------

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
  if (conv && $("messages").scrollTop < 300) sync.loadOlder(conv);
});

// --- start -------------------------------------------------------------------------------

renderMe();
listView.render();
for (const notice of boot.notices || []) toast(notice);
await Promise.all([sync.loadConversations(), inbox.loadWidgets()]);
conn.connect();
if (boot.section && boot.section !== "chats") goTo(boot.section, { push: false });
if (boot.open) openConversation(boot.open, { push: false });
