// A group's info and management, in one dialog: its name and description, its invite link
// (copied as a full URL, reset), its members (added, removed, made admin or member again)
// and leaving it. Each action goes through the REST API; what it changes comes back to
// every member as events (member.*, conversation.updated), which redraw this dialog.

import { avatar } from "./avatar.js";
import { del, patch, post } from "./api.js";
import { h, icon, replaceChildren } from "./dom.js";
import { openMenu } from "./menu.js";
import * as store from "./store.js";
import { state } from "./store.js";
import { $, confirmDialog, copy, formError, openDialog, toast } from "./ui.js";

const ROLE_LABEL = { owner: "Owner", admin: "Admin", member: "" };

const isAdmin = (conv) => conv.role === "owner" || conv.role === "admin";

/** What I may do to `member` (a member of the conversation's detail). */
function allowed(conv, member) {
  if (member.kind !== "user" || String(member.id) === String(state.me.id) || member.role === "owner") return {};
  return {
    // The owner changes roles; admins remove members, the owner removes admins too.
    role: conv.role === "owner",
    remove: conv.role === "owner" || (conv.role === "admin" && member.role === "member"),
  };
}

export function createGroupSettings({ sync }) {
  const dialog = $("group-dialog");
  const memberList = $("group-member-list");
  let convId = null;

  const current = () => (convId === null ? null : state.convs.get(convId) || null);

  async function refresh(conv) {
    await sync.fetchConversation(conv.id);
  }

  async function act(conv, work, done) {
    try {
      await work();
      if (done) toast(done);
      await refresh(conv);
    } catch (err) {
      toast(err.message);
    }
  }

  function memberActions(button, conv, member) {
    const can = allowed(conv, member);
    const items = [];
    if (can.role && member.role === "member") {
      items.push({ label: "Make admin", action: () => act(conv, () => patch(`/conversations/${conv.id}/members/${member.id}`, { role: "admin" }), `${member.name} is now an admin.`) });
    }
    if (can.role && member.role === "admin") {
      items.push({ label: "Remove as admin", action: () => act(conv, () => patch(`/conversations/${conv.id}/members/${member.id}`, { role: "member" }), `${member.name} is no longer an admin.`) });
    }
    if (can.remove) {
      items.push({ label: "Remove from group", danger: true, action: () => removeMember(conv, member) });
    }
    openMenu(button, items, `Actions for ${member.name}`);
  }

  async function removeMember(conv, member) {
    const ok = await confirmDialog({
      title: `Remove ${member.name}?`,
      text: `${member.name} will stop receiving messages from “${conv.title}”.`,
      ok: "Remove",
    });
    if (ok) act(conv, () => del(`/conversations/${conv.id}/members/${member.id}`), `${member.name} was removed.`);
  }

  function memberRow(conv, m) {
    const can = allowed(conv, m);
    const me = m.kind === "user" && String(m.id) === String(state.me.id);
    const role = ROLE_LABEL[m.role] ?? m.role;
    return h(
      "li",
      { class: "member", dataset: { id: m.id } },
      avatar({ name: m.name, avatar: m.avatar, seed: `u${m.id}`, online: m.online }),
      h("span", { class: `member-name${m.online ? " online" : ""}`, text: me ? `${m.name} (you)` : m.name }),
      h("span", { class: "muted member-role", text: role }),
      can.role || can.remove
        ? h("button", {
            type: "button",
            class: "icon-btn",
            "aria-label": `Actions for ${m.name}`,
            "aria-haspopup": "menu",
            "aria-expanded": "false",
            "data-focus": `member-${m.id}`,
            onclick: (e) => memberActions(e.currentTarget, conv, m),
          }, icon("dots"))
        : null,
    );
  }

  /** Redraw what events change while the dialog is open (members, roles, the link). */
  function render() {
    const conv = current();
    if (!dialog.open) return;
    if (!conv) {
      dialog.close(); // I left or was removed
      return;
    }
    const admin = isAdmin(conv);
    const members = [...(conv.members?.values() || [])].sort(
      (a, b) => ["owner", "admin", "member"].indexOf(a.role) - ["owner", "admin", "member"].indexOf(b.role) || a.name.localeCompare(b.name),
    );
    $("group-dialog-title").textContent = conv.title;
    $("group-about-text").textContent = conv.about || "No description.";
    $("group-about-text").hidden = admin;
    $("group-info-form").hidden = !admin;
    $("group-invite-box").hidden = !(admin && conv.invite_url);
    $("group-add-form").hidden = !admin;
    if (conv.invite_url) $("group-invite-url").value = new URL(conv.invite_url, location.origin).href;
    $("group-members-title").textContent = `Members (${members.length})`;
    replaceChildren(memberList, ...members.map((m) => memberRow(conv, m)));
  }

  async function open(conv) {
    convId = conv.id;
    $("group-name").value = conv.title;
    $("group-about").value = conv.about || "";
    formError($("group-info-error"), "");
    formError($("group-add-error"), "");
    $("group-invite-status").textContent = "";
    $("group-add-form").reset();
    dialog.addEventListener("close", () => (convId = null), { once: true });
    openDialog(dialog);
    render();
    await refresh(conv); // members and the invite link as they are now
    render();
  }

  $("group-info-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const conv = current();
    if (!conv) return;
    const title = $("group-name").value.trim();
    const about = $("group-about").value.trim();
    const error = $("group-info-error");
    if (!title) return formError(error, "Give the group a name.");
    formError(error, "");
    const changes = {};
    if (title !== conv.title) changes.title = title;
    if (about !== (conv.about || "")) changes.about = about;
    if (!Object.keys(changes).length) return toast("Nothing to save.");
    try {
      const data = await patch(`/conversations/${conv.id}`, changes);
      store.upsertConv(data);
      toast("Group info saved.");
    } catch (err) {
      formError(error, err.message);
    }
  });

  $("group-add-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const conv = current();
    const input = $("group-add-user");
    const who = input.value.trim();
    const error = $("group-add-error");
    if (!conv) return;
    if (!who) return formError(error, "Type an email address or a username.");
    formError(error, "");
    try {
      const member = await post(`/conversations/${conv.id}/members`, { user: who });
      input.value = "";
      toast(`${member.name} was added.`);
      await refresh(conv);
    } catch (err) {
      formError(error, err.code === "user_not_found" ? `Nobody on Parley has the email or username “${who}”.` : err.message);
      input.focus();
    }
  });

  $("group-invite-copy").addEventListener("click", async () => {
    const ok = await copy($("group-invite-url").value);
    $("group-invite-status").textContent = ok ? "Link copied." : "Select the link and copy it.";
    if (!ok) $("group-invite-url").select();
  });

  $("group-invite-reset").addEventListener("click", async () => {
    const conv = current();
    if (!conv) return;
    const ok = await confirmDialog({
      title: "Reset the invite link?",
      text: "The current link stops working; share the new one with the people you want to invite.",
      ok: "Reset link",
    });
    if (!ok) return;
    try {
      const answer = await post(`/conversations/${conv.id}/invite`);
      $("group-invite-url").value = answer.invite_url;
      $("group-invite-status").textContent = "The link was reset: the old one no longer works.";
      await refresh(conv);
    } catch (err) {
      $("group-invite-status").textContent = err.message;
    }
  });

  $("group-leave").addEventListener("click", async () => {
    const conv = current();
    if (!conv) return;
    const ok = await confirmDialog({
      title: "Leave group?",
      text: `You will stop receiving messages from “${conv.title}”.`,
      ok: "Leave group",
    });
    if (!ok) return;
    try {
      await post(`/conversations/${conv.id}/leave`);
      dialog.close();
      store.removeConv(conv.id);
    } catch (err) {
      toast(err.message);
    }
  });

  function conversationItems(conv) {
    return conv.kind === "group" ? [{ label: "Group info", action: () => open(conv) }] : [];
  }

  return { render, open, conversationItems };
}
