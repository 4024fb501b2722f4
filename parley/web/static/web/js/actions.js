// What a person does to messages and conversations: the message menu, the conversation
// menu (members, invite link, clear history, leave), starting a direct chat or a group,
// and the public-room directory.

import { get, post } from "./api.js";
import { avatar } from "./avatar.js";
import { h } from "./dom.js";
import { exportConversation } from "./export.js";
import { plural } from "./format.js";
import { openMenu } from "./menu.js";
import { installMessageChanges } from "./message-changes.js";
import * as store from "./store.js";
import { state } from "./store.js";
import { $, confirmDialog, copy, failed, formError, openDialog, toast } from "./ui.js";

/** `openConversation(id)` shows a conversation; `transmit` resends a failed message;
 * `maxGroupMembers` is how many people a new group may name (the server's limit);
 * `extraItems` are other modules' entries in the menus: {message(conv, m), conversation(conv)}
 * (pins, marking unread, group info). */
export function installActions({ conn, sync, transmit, openConversation, maxGroupMembers, extraItems }) {
  // --- messages -------------------------------------------------------------------------

  const changes = installMessageChanges({ conn });
  const messageHandlers = {
    toggleReaction: changes.toggleReaction,
    showEdits: changes.showEdits,
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
        items.push({ label: "React…", action: () => changes.reactMenu(button, conv, m) });
        if (mine && conv.edits_allowed !== false) {
          items.push({ label: "Edit", action: () => changes.edit(conv, m) });
        }
      }
      items.push({ label: "Delete for me", action: () => deleteMessage(conv, m.seq, "me") });
      if (!m.deleted && (mine || moderator)) {
        items.push({ label: "Delete for everyone", danger: true, action: () => deleteMessage(conv, m.seq, "everyone") });
      }
      items.push(...extraItems.message(conv, m));
      openMenu(button, items, "Message actions");
    },
  };

  async function deleteMessage(conv, seq, scope) {
    try {
      await conn.request({ type: "message.delete", conversation: conv.id, seq, scope });
      if (scope === "me") store.hideMessage(conv, seq);
      else store.tombstone(conv, seq);
      $("message-list").focus?.();
    } catch (err) {
      failed(err);
    }
  }

  // --- the conversation menu ------------------------------------------------------------

  async function clearHistory(conv) {
    const ok = await confirmDialog({
      title: "Clear history?",
      text: `Every message in “${conv.title}” up to now disappears for you. The others keep theirs.`,
      ok: "Clear history",
    });
    if (!ok) return;
    try {
      const ack = await conn.request({ type: "history.clear", conversation: conv.id });
      store.clearHistory(conv, ack.result?.through_seq ?? conv.last_seq);
      toast("History cleared.");
    } catch (err) {
      failed(err);
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

  async function showMembers(conv) {
    const ul = $("member-list");
    await sync.fetchConversation(conv.id);
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

  function showInvite(url) {
    $("invite-url").value = new URL(url, location.origin).href;
    $("invite-copied").textContent = "";
    openDialog($("invite-dialog"));
    $("invite-copy").focus();
  }

  $("invite-copy").addEventListener("click", async () => {
    const ok = await copy($("invite-url").value);
    $("invite-copied").textContent = ok ? "Link copied." : "Select the link and copy it.";
    if (!ok) $("invite-url").select();
  });

  $("conv-menu-btn").addEventListener("click", (e) => {
    const conv = state.convs.get(state.openId);
    if (!conv) return;
    const items = [...extraItems.conversation(conv)];
    if (conv.kind === "public") {
      items.push({ label: "Members", action: () => showMembers(conv) });
    }
    if (conv.kind === "group" && conv.invite_url) {
      items.push({ label: "Invite link", action: () => showInvite(conv.invite_url) });
    }
    if (conv.kind === "group" && (conv.role === "owner" || conv.role === "admin")) {
      const allowed = conv.edits_allowed !== false;
      items.push({ label: "Members may edit messages", checked: allowed, action: () => changes.setEditsAllowed(conv, !allowed) });
    }
    items.push({ label: "Export…", action: () => exportConversation(conv) });
    items.push({ label: "Clear history…", danger: true, action: () => clearHistory(conv) });
    if (conv.kind === "group" || conv.kind === "public") {
      items.push({ label: conv.kind === "public" ? "Leave room…" : "Leave group…", danger: true, action: () => leave(conv) });
    }
    openMenu(e.currentTarget, items, "Conversation menu");
  });

  // --- new conversations ----------------------------------------------------------------

  const nobody = (who) => `Nobody on Parley has the email or username “${who}”.`;

  function openNewChat() {
    $("new-chat-form").reset();
    formError($("new-chat-error"), "");
    openDialog($("new-chat-dialog"));
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
      formError(error, err.code === "user_not_found" ? nobody(who) : err.message);
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
    if (members.length > maxGroupMembers) {
      return formError(error, `A new group names at most ${maxGroupMembers} people; add more later or share its invite link.`);
    }
    try {
      const data = await post("/conversations/groups", { title, members });
      store.upsertConv(data);
      $("new-group-dialog").close();
      await openConversation(data.id);
      if (data.invite_url) showInvite(data.invite_url);
    } catch (err) {
      const who = err.details?.login;
      formError(error, err.code === "user_not_found" && who ? nobody(who) : err.message);
    }
  });

  // --- public rooms ---------------------------------------------------------------------

  async function openRooms() {
    const ul = $("room-list");
    ul.replaceChildren(h("li", { class: "muted", text: "Loading…" }));
    ul.setAttribute("aria-busy", "true");
    openDialog($("rooms-dialog"));
    try {
      const rooms = await get("/rooms");
      ul.replaceChildren(...rooms.map(roomItem));
      if (!rooms.length) ul.replaceChildren(h("li", { class: "muted", text: "No public rooms yet." }));
    } catch (err) {
      ul.replaceChildren(h("li", { class: "form-error", text: err.message }));
    }
    ul.setAttribute("aria-busy", "false");
  }

  function roomItem(room) {
    return h(
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
    );
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

  $("new-chat-btn").addEventListener("click", openNewChat);
  $("new-group-btn").addEventListener("click", openNewGroup);
  $("rooms-btn").addEventListener("click", openRooms);
  document.querySelector('[data-action="new-chat"]').addEventListener("click", openNewChat);
  document.querySelector('[data-action="rooms"]').addEventListener("click", openRooms);

  return { messageHandlers };
}
