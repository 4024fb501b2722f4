// The support widgets screen: my widgets; for their owner, create, change and delete one,
// its team (agents), its identity secret, and the embed tag to copy. Every change goes
// through the widgets API (/api/v1/widgets); the store keeps what it answered.

import { del, get, patch, post } from "./api.js";
import { h } from "./dom.js";
import * as store from "./store.js";
import { state } from "./store.js";
import { $, confirmDialog, copy, failed, formError, toast } from "./ui.js";
import { createWebhooks } from "./webhooks.js";
import { createBotSettings } from "./widget-bot.js";
import { createCannedReplies } from "./widget-canned.js";

const FIELDS = ["name", "title", "greeting", "welcome_message", "accent_color", "position", "ask_name", "ask_email"];
const INPUT = {
  name: "w-name",
  title: "w-title",
  greeting: "w-greeting",
  welcome_message: "w-welcome",
  accent_color: "w-color",
  position: "w-position",
  ask_name: "w-ask-name",
  ask_email: "w-ask-email",
  allowed_origins: "w-origins",
  require_identity: "w-identity",
  ratings: "w-ratings",
  auto_assign: "w-auto-assign",
  assign_limit: "w-assign-limit",
};
const LABEL = {
  name: "Name",
  title: "Title",
  greeting: "Greeting",
  welcome_message: "Welcome message",
  accent_color: "Accent colour",
  position: "Position",
  ask_name: "Ask for a name",
  ask_email: "Ask for an email",
  allowed_origins: "Allowed sites",
  require_identity: "Identified visitors only",
  ratings: "Ratings",
  auto_assign: "Auto-assignment",
  assign_limit: "Open conversations per person",
};
const CHECKS = ["require_identity", "ratings", "auto_assign"];

/** The tag a site owner puts on their pages (widget.js is served by this server). */
export function embedSnippet(publicKey, origin = location.origin) {
  return `<script src="${origin}/widget.js" data-widget="${publicKey}" async></script>`;
}

export function createWidgets() {
  let editing = null; // the id of the widget in the editor, "new", or null
  const webhooks = createWebhooks();
  const bot = createBotSettings();
  const canned = createCannedReplies();

  const mine = (w) => String(w.owner.id) === String(state.me.id);
  const current = () => (state.widgets || []).find((w) => w.id === editing) || null;

  function widgetItem(w) {
    const team = [w.owner, ...w.agents].length;
    return h(
      "li",
      { class: `widget-item${editing === w.id ? " selected" : ""}`, dataset: { widgetId: w.id } },
      h("span", { class: "swatch", "aria-hidden": "true", dataset: { color: w.accent_color } }),
      h(
        "span",
        { class: "widget-item-text" },
        h("strong", { text: w.name }),
        h("span", { class: "muted small", text: `${mine(w) ? "Yours" : `${w.owner.name}'s`} · ${team === 1 ? "1 person" : `${team} people`} answer · ${w.public_key}` }),
      ),
      h("button", {
        type: "button",
        class: "btn",
        text: mine(w) ? "Edit" : "View",
        "aria-label": `${mine(w) ? "Edit" : "View"} ${w.name}`,
        "aria-expanded": String(editing === w.id),
        "aria-controls": "widget-editor",
        onclick: () => edit(w.id),
      }),
    );
  }

  function renderList() {
    const widgets = state.widgets || [];
    $("widget-list").replaceChildren(...widgets.map(widgetItem));
    // The swatch's colour: CSSOM, not a style attribute (the Content-Security-Policy).
    for (const el of $("widget-list").querySelectorAll(".swatch")) el.style.background = el.dataset.color;
    $("widget-list-empty").hidden = !state.widgets || widgets.length > 0;
  }

  function fill(w) {
    const values = w || { name: "", title: "Chat with us", greeting: "", welcome_message: "", accent_color: "#2563eb", position: "right", ask_name: "off", ask_email: "off", allowed_origins: [], require_identity: false, ratings: false, auto_assign: false, assign_limit: 5 };
    for (const f of FIELDS) $(INPUT[f]).value = values[f];
    $("w-origins").value = values.allowed_origins.join("\n");
    for (const f of CHECKS) $(INPUT[f]).checked = values[f];
    $("w-assign-limit").value = values.assign_limit;
    for (const el of $("widget-form").querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    formError($("widget-error"), "");
  }

  function renderEditor() {
    const editor = $("widget-editor");
    editor.hidden = editing === null;
    if (editing === null) {
      bot.show(null, false);
      canned.show(null);
      return webhooks.show(null);
    }
    const w = current();
    const owner = editing === "new" || (w && mine(w));
    $("widget-editor-title").textContent = editing === "new" ? "New widget" : w ? w.name : "";
    $("widget-agent-note").hidden = owner;
    for (const el of $("widget-form").elements) el.disabled = !owner;
    $("widget-delete").hidden = editing === "new";
    $("widget-save").textContent = editing === "new" ? "Create widget" : "Save";
    for (const id of ["widget-embed", "widget-secret-box"]) $(id).hidden = editing === "new";
    $("agent-form").hidden = !owner;
    webhooks.show(editing !== "new" && w && owner ? w : null); // its owner's only
    bot.show(editing !== "new" && w ? w : null, owner); // the agents read it
    canned.show(editing !== "new" && w ? w : null); // the whole team manages them
    if (editing === "new" || !w) {
      $("widget-agents").replaceChildren();
      return;
    }
    $("widget-snippet").value = embedSnippet(w.public_key);
    $("widget-secret-box").hidden = !owner;
    $("widget-secret").value = w.secret || "";
    $("widget-agents").replaceChildren(
      h("li", { class: "member" }, h("span", { class: "member-name", text: w.owner.name }), h("span", { class: "muted", text: "owner" })),
      ...w.agents.map((a) =>
        h(
          "li",
          { class: "member" },
          h("span", { class: "member-name", text: a.name }),
          h("span", { class: "muted", text: `@${a.username}` }),
          owner ? h("button", { type: "button", class: "btn", text: "Remove", "aria-label": `Remove ${a.name}`, onclick: () => removeAgent(w, a) }) : null,
        ),
      ),
    );
  }

  function render() {
    renderList();
    renderEditor();
  }

  function edit(id) {
    editing = editing === id ? null : id;
    const w = current();
    fill(editing === "new" ? null : w);
    formError($("agent-error"), "");
    $("widget-copied").textContent = "";
    render();
    if (editing !== null) {
      // Scroll the screen's own body only: scrollIntoView would move the whole page too.
      const body = $("widget-editor").parentElement;
      body.scrollTop = $("widget-editor").offsetTop - body.offsetTop - 8;
      (editing === "new" ? $("w-name") : $("widget-editor-title")).focus({ preventScroll: true });
    }
  }

  function values() {
    const out = {};
    for (const f of FIELDS) out[f] = $(INPUT[f]).value;
    out.allowed_origins = $("w-origins").value.split(/\s+/).filter(Boolean);
    for (const f of CHECKS) out[f] = $(INPUT[f]).checked;
    // Not a number: sent as typed, so the server names the field in its refusal.
    const limit = $("w-assign-limit").value.trim();
    out.assign_limit = /^\d+$/.test(limit) ? Number(limit) : limit;
    return out;
  }

  function showProblems(err) {
    const details = err.details || {};
    const lines = [];
    for (const [field, problems] of Object.entries(details)) {
      const input = INPUT[field] && $(INPUT[field]);
      if (input) input.setAttribute("aria-invalid", "true");
      lines.push(`${LABEL[field] || field}: ${[].concat(problems).join(" ")}`);
    }
    const box = $("widget-error");
    box.replaceChildren(h("p", { text: err.message }), lines.length ? h("ul", {}, ...lines.map((l) => h("li", { text: l }))) : null);
    box.hidden = false;
  }

  $("widget-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    for (const el of $("widget-form").querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    formError($("widget-error"), "");
    try {
      const saved = editing === "new" ? await post("/widgets", values()) : await patch(`/widgets/${editing}`, values());
      const created = editing === "new";
      store.widgetSaved(saved);
      editing = saved.id;
      render();
      toast(created ? "Widget created. Put its tag on your site." : "Saved.");
      if (created) $("widget-snippet").focus();
    } catch (err) {
      showProblems(err);
    }
  });

  $("widget-delete").addEventListener("click", async () => {
    const w = current();
    if (!w) return;
    const ok = await confirmDialog({
      title: "Delete this widget?",
      text: `“${w.name}” stops working on your sites, and every visitor conversation it had is deleted with its messages and notes.`,
      ok: "Delete widget",
    });
    if (!ok) return;
    try {
      await del(`/widgets/${w.id}`);
      editing = null;
      store.widgetRemoved(w.id);
      toast("Widget deleted.");
      $("widget-new").focus();
    } catch (err) {
      failed(err);
    }
  });

  $("widget-rotate").addEventListener("click", async () => {
    const w = current();
    if (!w) return;
    const ok = await confirmDialog({
      title: "Rotate the secret?",
      text: "Hashes your site made with the current secret stop verifying at once: update your server with the new one.",
      ok: "Rotate secret",
    });
    if (!ok) return;
    try {
      const { secret } = await post(`/widgets/${w.id}/secret`);
      store.widgetSaved({ ...w, secret });
      toast("New secret made.");
    } catch (err) {
      failed(err);
    }
  });

  $("widget-copy").addEventListener("click", async () => {
    const ok = await copy($("widget-snippet").value);
    $("widget-copied").textContent = ok ? "Copied." : "Select the tag and copy it.";
    if (!ok) $("widget-snippet").select();
  });

  $("agent-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const w = current();
    const who = $("agent-input").value.trim();
    if (!w || !who) return formError($("agent-error"), "Type an email address or a username.");
    formError($("agent-error"), "");
    try {
      store.widgetSaved(await post(`/widgets/${w.id}/agents`, { user: who }));
      $("agent-input").value = "";
    } catch (err) {
      formError($("agent-error"), err.code === "user_not_found" ? `Nobody on Parley has the email or username “${who}”.` : err.message);
    }
    $("agent-input").focus();
  });

  async function removeAgent(w, agent) {
    try {
      await del(`/widgets/${w.id}/agents/${agent.id}`);
      store.widgetSaved(await get(`/widgets/${w.id}`));
      $("agent-input").focus();
    } catch (err) {
      failed(err);
    }
  }

  $("widget-new").addEventListener("click", () => edit("new"));

  return {
    render,
    renderWebhooks: () => webhooks.render(),
    renderAutomation: () => {
      bot.render();
      canned.render();
    },
  };
}
