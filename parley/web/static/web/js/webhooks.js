// Outgoing webhooks, in the widgets screen (the owner only): those of the widget shown,
// or (the "All my widgets" choice) the owner's, which get every widget's events. The
// endpoints, adding one (URL and events), deleting one, a new signing secret, a test
// event, and each endpoint's deliveries with every attempt's outcome. Every change goes
// through the webhooks API (/api/v1/widgets/{id}/webhooks, /api/v1/webhooks/...;
// docs/webhooks.md); the store keeps what it answered, under the widget's id or, for the
// owner's, under null (an endpoint's `widget`).

import { del, get, post } from "./api.js";
import { h } from "./dom.js";
import { fullTime } from "./format.js";
import * as store from "./store.js";
import { state } from "./store.js";
import { $, confirmDialog, failed, formError, toast } from "./ui.js";

export const EVENTS = ["conversation.created", "message.created", "conversation.assigned", "conversation.resolved"];

/** "200 in 35 ms", or what went wrong, for one attempt of a delivery. */
export function attemptOutcome(attempt) {
  const took = attempt.duration_ms != null ? ` in ${attempt.duration_ms} ms` : "";
  if (attempt.error) return `${attempt.status_code ? `${attempt.status_code}: ` : ""}${attempt.error}${took}`;
  if (attempt.status_code) return `${attempt.status_code}${took}`;
  return "no answer yet";
}

export function createWebhooks() {
  let widget = null; // the widget whose editor shows the webhooks (its owner's), or null
  let scope = "widget"; // "widget": that widget's webhooks; "all": the owner's
  const shownDeliveries = new Set(); // endpoint ids whose deliveries are open

  const key = () => (scope === "all" ? null : widget.id);
  const path = () => (scope === "all" ? "/webhooks" : `/widgets/${widget.id}/webhooks`);

  async function load() {
    try {
      store.webhooksLoaded(key(), await get(path()));
    } catch (err) {
      failed(err);
    }
  }

  async function loadDeliveries(endpoint) {
    try {
      const page = await get(`/webhooks/${endpoint.id}/deliveries?limit=20`);
      store.deliveriesLoaded(endpoint.id, page.results);
    } catch (err) {
      failed(err);
    }
  }

  /** Show the webhooks of `w` (null, or a widget I do not own: none). */
  function show(w) {
    const changed = w?.id !== widget?.id;
    widget = w;
    $("widget-webhooks-box").hidden = !w;
    if (!w) return;
    if (changed) {
      shownDeliveries.clear();
      formError($("webhook-error"), "");
      $("webhook-url").value = "";
      for (const box of $("webhook-form").querySelectorAll("input[name=event]")) box.checked = true;
      load();
    }
    render();
  }

  for (const radio of document.querySelectorAll("input[name=webhook-scope]")) {
    radio.addEventListener("change", () => {
      scope = radio.value;
      $("webhook-scope-note").textContent =
        scope === "all"
          ? "Parley posts the events of all your widgets, those you make later too, to your server, signed (Standard Webhooks) with each webhook's secret."
          : "Parley posts this widget's events to your server, signed (Standard Webhooks) with each webhook's secret.";
      if (widget) load();
      render();
    });
  }

  function attemptItem(a) {
    return h(
      "li",
      { class: "attempt", dataset: { ok: String(!a.error && a.status_code >= 200 && a.status_code < 300) } },
      `#${a.number} · `,
      h("time", { datetime: a.started_at, text: fullTime(a.started_at) }),
      ` · ${attemptOutcome(a)}`,
    );
  }

  function deliveriesOf(endpoint) {
    const list = state.deliveries.get(endpoint.id);
    if (!list) return h("p", { class: "muted small", text: "Loading…" });
    if (!list.length) return h("p", { class: "muted small", text: "Nothing was sent yet." });
    return h(
      "ol",
      { class: "delivery-list", "aria-label": `Deliveries to ${endpoint.url}` },
      ...list.map((d) =>
        h(
          "li",
          { class: "delivery", dataset: { state: d.state } },
          h("span", { class: "delivery-head" }, h("strong", { text: d.event_type }), ` · ${d.state} · `, h("time", { datetime: d.created_at, text: fullTime(d.created_at) })),
          d.attempts.length ? h("ol", { class: "attempt-list" }, ...d.attempts.map(attemptItem)) : h("span", { class: "muted small", text: " · waiting for its first attempt" }),
        ),
      ),
    );
  }

  function endpointItem(endpoint) {
    const open = shownDeliveries.has(endpoint.id);
    return h(
      "li",
      { class: "webhook", dataset: { webhookId: endpoint.id } },
      h("code", { class: "webhook-url", text: endpoint.url }),
      h("span", { class: "muted small", text: endpoint.events.length === EVENTS.length ? "All events" : endpoint.events.join(", ") }),
      h(
        "div",
        { class: "copy-row" },
        h("label", { for: `webhook-secret-${endpoint.id}`, class: "visually-hidden", text: `Signing secret of ${endpoint.url}` }),
        h("input", { id: `webhook-secret-${endpoint.id}`, readonly: true, spellcheck: "false", value: endpoint.secret }),
        h("button", { type: "button", class: "btn", text: "New secret…", "aria-label": `New secret for ${endpoint.url}`, onclick: () => rotate(endpoint) }),
      ),
      h(
        "div",
        { class: "webhook-actions" },
        h("button", { type: "button", class: "btn", text: "Send test event", "aria-label": `Send a test event to ${endpoint.url}`, onclick: () => test(endpoint) }),
        h("button", { type: "button", class: "btn", text: open ? "Hide deliveries" : "Deliveries", "aria-expanded": String(open), "aria-label": `Deliveries to ${endpoint.url}`, onclick: () => toggleDeliveries(endpoint) }),
        open ? h("button", { type: "button", class: "btn", text: "Refresh", "aria-label": `Refresh the deliveries to ${endpoint.url}`, onclick: () => loadDeliveries(endpoint) }) : null,
        h("button", { type: "button", class: "btn danger", text: "Delete…", "aria-label": `Delete the webhook to ${endpoint.url}`, onclick: () => remove(endpoint) }),
      ),
      open ? deliveriesOf(endpoint) : null,
    );
  }

  function render() {
    if (!widget) return;
    const list = state.webhooks.get(key());
    $("webhook-list").replaceChildren(...(list || []).map(endpointItem));
    $("webhook-empty").hidden = !list || list.length > 0;
  }

  function toggleDeliveries(endpoint) {
    if (shownDeliveries.has(endpoint.id)) shownDeliveries.delete(endpoint.id);
    else {
      shownDeliveries.add(endpoint.id);
      loadDeliveries(endpoint);
    }
    render();
  }

  async function rotate(endpoint) {
    const ok = await confirmDialog({
      title: "Make a new signing secret?",
      text: "Deliveries are signed with the new secret from the next attempt on: update your receiver with it.",
      ok: "New secret",
    });
    if (!ok) return;
    try {
      const { secret } = await post(`/webhooks/${endpoint.id}/secret`);
      store.webhookSaved({ ...endpoint, secret });
      toast("New secret made.");
    } catch (err) {
      failed(err);
    }
  }

  async function test(endpoint) {
    try {
      await post(`/webhooks/${endpoint.id}/test`);
      toast("Test event queued.");
      shownDeliveries.add(endpoint.id);
      await loadDeliveries(endpoint);
    } catch (err) {
      failed(err);
    }
  }

  async function remove(endpoint) {
    const ok = await confirmDialog({
      title: "Delete this webhook?",
      text: `Events stop going to ${endpoint.url}, and its deliveries are deleted (those still pending are not sent).`,
      ok: "Delete webhook",
    });
    if (!ok) return;
    try {
      await del(`/webhooks/${endpoint.id}`);
      store.webhookRemoved(endpoint.widget, endpoint.id);
      toast("Webhook deleted.");
    } catch (err) {
      failed(err);
    }
  }

  $("webhook-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!widget) return;
    const url = $("webhook-url").value.trim();
    const events = [...$("webhook-form").querySelectorAll("input[name=event]:checked")].map((b) => b.value);
    if (!url) return formError($("webhook-error"), "Type the address your server receives the events at.");
    if (!events.length) return formError($("webhook-error"), "Choose at least one event.");
    formError($("webhook-error"), "");
    try {
      store.webhookSaved(await post(path(), { url, events }));
      $("webhook-url").value = "";
      toast("Webhook added.");
    } catch (err) {
      const details = Object.entries(err.details || {}).map(([field, problems]) => `${field}: ${[].concat(problems).join(" ")}`);
      formError($("webhook-error"), [err.message, ...details].join(" "));
    }
  });

  return { show, render };
}
