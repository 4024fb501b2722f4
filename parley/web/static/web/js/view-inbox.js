// The sidebar's sections (Chats, Inbox) and the inbox: the visitors' conversations of my
// widgets, newest activity first, as the store filters them (docs/widget.md).

import { avatar } from "./avatar.js";
import { h, reconcile } from "./dom.js";
import { listTime, unreadBadge, unreadWords } from "./format.js";
import { inboxItems, isMine, state, unreadBySection } from "./store.js";

const $ = (id) => document.getElementById(id);
const ul = $("inbox-list");

export const STATUS_LABEL = { open: "Open", resolved: "Resolved", snoozed: "Snoozed" };

/** The inbox shows to people who own or answer a widget. */
export function hasInbox() {
  return Boolean(state.widgets && state.widgets.length);
}

function badge(el, n) {
  el.hidden = n <= 0;
  el.textContent = n > 0 ? unreadBadge(n, state.unreadCap) : "";
  el.setAttribute("aria-label", n > 0 ? unreadWords(n, state.unreadCap) : "");
}

/** Which tab is selected, their unread badges, which pane shows. */
export function renderSections() {
  const inbox = state.section === "inbox";
  $("sections").hidden = !hasInbox();
  for (const [tab, pane, on] of [
    ["tab-chats", "chats-pane", !inbox],
    ["tab-inbox", "inbox-pane", inbox],
  ]) {
    $(tab).setAttribute("aria-selected", String(on));
    $(tab).tabIndex = on ? 0 : -1;
    $(pane).hidden = !on;
  }
  $("filter").placeholder = inbox ? "Search visitors" : "Search chats";
  const unread = unreadBySection();
  badge($("chats-badge"), unread.chats);
  badge($("inbox-badge"), unread.inbox);
}

function options(select, choices) {
  const value = select.value;
  const sig = JSON.stringify(choices);
  if (select.dataset.sig !== sig) {
    select.dataset.sig = sig;
    select.replaceChildren(...choices.map(([v, label]) => h("option", { value: v, text: label })));
  }
  select.value = value;
}

/** The assignee and widget filters' choices follow my widgets and their teams. */
function renderFilters() {
  const widgets = state.widgets || [];
  const people = new Map();
  for (const w of widgets) for (const p of [w.owner, ...w.agents]) people.set(String(p.id), p);
  people.delete(String(state.me.id));
  options($("inbox-assignee"), [
    ["", "Anyone"],
    ["me", "Me"],
    ["none", "Unassigned"],
    ...[...people.values()].sort((a, b) => a.name.localeCompare(b.name)).map((p) => [String(p.id), p.name]),
  ]);
  options($("inbox-widget"), [["", "All widgets"], ...widgets.map((w) => [String(w.id), w.name])]);
  const f = state.inboxFilter;
  $("inbox-status").value = f.status;
  $("inbox-assignee").value = f.assignee;
  $("inbox-widget").value = f.widget;
}

/** "Snoozed until 14:05", "Snoozed until they write", "Resolved", "Open". */
export function statusLabel(record) {
  if (record.status !== "snoozed") return STATUS_LABEL[record.status];
  if (!record.snoozed_until) return "Snoozed until they write";
  const d = new Date(record.snoozed_until);
  return `Snoozed until ${d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })}`;
}

function previewOf(conv) {
  if (conv?.typing.size) return { text: "typing…", cls: "is-typing" };
  const m = conv?.last_message;
  if (!m) return { text: "", cls: "none" };
  const who = isMine(m.sender)
    ? "You: "
    : m.sender.kind === "user"
      ? `${m.sender.name}: `
      : m.sender.kind === "bot"
        ? `${m.sender.name} (bot): `
        : "";
  if (m.deleted) return { text: `${who}Message deleted`, cls: "deleted" };
  return { text: who + m.body.replace(/\s+/g, " ").slice(0, 200), cls: "" };
}

/** The visitor asked for a person (docs/widget.md "Handoff"), until one of the team writes. */
export const WAITING = "Waiting for an agent";

function item(record, old) {
  const conv = state.convs.get(record.id);
  const v = record.visitor;
  const unread = conv?.unread || 0;
  const when = conv?.last_message_at || record.last_message_at;
  const p = previewOf(conv);
  const assignee = record.assignee ? (String(record.assignee.id) === String(state.me.id) ? "me" : record.assignee.name) : null;
  const tags = [record.waiting_for_agent ? WAITING : null, record.status !== "open" ? STATUS_LABEL[record.status] : null, assignee ? `Assigned to ${assignee}` : "Unassigned", record.widget.name];
  const sig = JSON.stringify([v.name, v.email, v.online, unread, when, p.text, tags, state.openId === record.id]);
  if (old && old.dataset.sig === sig) return old;
  const label = [v.name, v.online ? "online" : null, unread ? unreadWords(unread, state.unreadCap) : null, ...tags]
    .filter(Boolean)
    .join(", ");
  return h(
    "li",
    { dataset: { sig, conversationId: record.id, status: record.status } },
    h(
      "a",
      {
        class: `conv-item${unread ? " has-unread" : ""}`,
        href: `/c/${record.id}/`,
        "aria-current": state.openId === record.id ? "page" : null,
        "data-focus": "link",
        "data-conversation": record.id,
      },
      avatar({ name: v.name, seed: `u${v.id}`, online: v.online }),
      h(
        "span",
        { class: "conv-main" },
        h(
          "span",
          { class: "conv-top" },
          h(
            "span",
            { class: `conv-title${v.online ? " online" : ""}` },
            h("span", { class: "visually-hidden", text: `${label}. ` }),
            h("span", { "aria-hidden": "true", text: v.name }),
          ),
          h("time", { class: "conv-time", datetime: when, text: listTime(when) }),
        ),
        h(
          "span",
          { class: "conv-bottom" },
          h("span", { class: `conv-preview ${p.cls}`, text: p.text || v.email || "" }),
          unread ? h("span", { class: "badge", "aria-hidden": "true", text: unreadBadge(unread, state.unreadCap) }) : null,
        ),
        h("span", { class: "inbox-tags", "aria-hidden": "true" }, ...tags.filter(Boolean).map((t) => h("span", { class: t === WAITING ? "tag waiting" : "tag", text: t }))),
      ),
    ),
  );
}

export function render() {
  renderSections();
  if (!hasInbox()) return;
  renderFilters();
  const shown = inboxItems();
  reconcile(ul, shown, (r) => String(r.id), item);
  ul.setAttribute("aria-busy", String(!state.inboxLoaded));
  $("inbox-empty").hidden = !state.inboxLoaded || shown.length > 0;
}
