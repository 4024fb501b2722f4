// The visitor panel beside an open support conversation: who the visitor is, whether they
// are here now, status, assignee and the team's private notes (never shown to them).

import { avatar } from "./avatar.js";
import { h } from "./dom.js";
import { fullTime } from "./format.js";
import { state, teamOf } from "./store.js";
import { WAITING, statusLabel } from "./view-inbox.js";

const $ = (id) => document.getElementById(id);

/** "Firefox 128 on Windows" from a user agent string; the string itself when unknown. */
export function browserName(ua) {
  if (!ua) return "";
  const found = [
    [/Edg\/(\d+)/, "Edge"],
    [/OPR\/(\d+)/, "Opera"],
    [/Firefox\/(\d+)/, "Firefox"],
    [/(?:Chrome|Chromium)\/(\d+)/, "Chrome"],
    [/Version\/(\d+).*Safari/, "Safari"],
  ].find(([re]) => re.test(ua));
  const os = [
    [/Android/, "Android"],
    [/iPhone|iPad/, "iOS"],
    [/Windows/, "Windows"],
    [/Mac OS X/, "macOS"],
    [/Linux/, "Linux"],
  ].find(([re]) => re.test(ua));
  if (!found) return ua.slice(0, 120);
  const version = ua.match(found[0])[1];
  return `${found[1]} ${version}${os ? ` on ${os[1]}` : ""}`;
}

function row(term, value) {
  if (!value) return null;
  return [h("dt", { text: term }), h("dd", {}, value)];
}

function outLink(url) {
  // The visitor's browser said so: a link that tells the site nothing about us.
  return h("a", { href: url, target: "_blank", rel: "noopener noreferrer nofollow", text: url });
}

function renderVisitor(record) {
  const v = record.visitor;
  const attributes = Object.entries(v.attributes || {});
  $("support-visitor").replaceChildren(
    h(
      "div",
      { class: "visitor-head" },
      avatar({ name: v.name, seed: `u${v.id}`, online: v.online }),
      h(
        "div",
        {},
        h("strong", { class: "visitor-name", text: v.name }),
        h("span", { class: `visitor-presence${v.online ? " online" : ""}`, id: "visitor-presence", text: v.online ? "Online now" : "Offline" }),
        h("span", { class: `tag${v.verified ? " verified" : ""}`, text: v.verified ? "Verified by the site" : "Not verified" }),
      ),
    ),
    h(
      "dl",
      { class: "visitor-facts" },
      row("Email", v.email ? h("a", { href: `mailto:${v.email}`, text: v.email }) : null),
      row("Page", v.page_url ? outLink(v.page_url) : null),
      row("Came from", v.referrer ? outLink(v.referrer) : null),
      row("Browser", browserName(v.user_agent)),
      row("First seen", h("time", { datetime: v.first_seen, text: fullTime(v.first_seen) })),
      row("Widget", record.widget.name),
      ...attributes.map(([key, value]) => row(key, String(value))),
    ),
  );
}

function renderStatus(record) {
  $("support-status").textContent = statusLabel(record);
  $("support-status").dataset.status = record.status;
  const resolve = $("support-resolve");
  resolve.textContent = record.status === "open" ? "Resolve" : "Reopen";
  resolve.dataset.to = record.status === "open" ? "resolved" : "open";
  $("support-waiting").parentElement.hidden = !record.waiting_for_agent;
  $("support-waiting").textContent = WAITING;
}

/** The visitor's satisfaction rating (widgets that ask for one), once they gave it. */
function renderRating(record) {
  const rating = record.rating;
  $("support-rating-box").hidden = !rating;
  if (!rating) return;
  $("support-rating").replaceChildren(
    h("span", { class: "rating-score", text: `${rating.score} / 5` }),
    rating.comment ? h("q", { class: "rating-comment", text: rating.comment }) : null,
    h("time", { class: "muted small", datetime: rating.rated_at, text: fullTime(rating.rated_at) }),
  );
}

function renderAssignee(record) {
  const select = $("support-assignee");
  const team = teamOf(record.widget.id);
  if (record.assignee && !team.some((p) => p.id === record.assignee.id)) team.push(record.assignee);
  const choices = [["", "Unassigned"], ...team.map((p) => [String(p.id), String(p.id) === String(state.me.id) ? `${p.name} (me)` : p.name])];
  const sig = JSON.stringify(choices);
  if (select.dataset.sig !== sig) {
    select.dataset.sig = sig;
    select.replaceChildren(...choices.map(([value, label]) => h("option", { value, text: label })));
  }
  select.value = record.assignee ? String(record.assignee.id) : "";
}

export function renderNotes(conversationId) {
  const notes = state.notes.get(conversationId);
  const list = $("support-notes");
  if (!notes) {
    list.replaceChildren(h("li", { class: "muted", text: "Loading…" }));
    return;
  }
  list.replaceChildren(
    ...notes.map((n) =>
      h(
        "li",
        { class: "note" },
        h("p", { class: "note-body", text: n.body }),
        h("span", { class: "muted small" }, `${n.author ? n.author.name : "Someone who left"} · `, h("time", { datetime: n.created_at, text: fullTime(n.created_at) })),
      ),
    ),
  );
  if (!notes.length) list.replaceChildren(h("li", { class: "muted small", text: "No notes yet." }));
}

/** The panel for support record `record` (null: the open conversation is no visitor's). */
export function render(record) {
  const toggle = $("support-toggle");
  toggle.hidden = !record;
  if (!record) {
    setOpen(false);
    return;
  }
  renderVisitor(record);
  renderStatus(record);
  renderRating(record);
  renderAssignee(record);
  renderNotes(record.id);
}

/** Show or hide the panel (the header's "Visitor details" button says which). */
export function setOpen(open) {
  $("support-panel").hidden = !open;
  $("support-toggle").setAttribute("aria-expanded", String(open));
  document.getElementById("chat").classList.toggle("has-panel", open);
}
