// My availability for my widgets' visitors (available or away) and which notification
// emails I want, at the top of the Inbox. Read and changed through /api/v1/me/support
// (docs/widget.md, "Availability and business hours"); the store keeps what it answered.

import { get, patch } from "./api.js";
import * as store from "./store.js";
import { state } from "./store.js";
import { $, failed } from "./ui.js";

const EMAILS = {
  email_new_conversation: "avail-email-new",
  email_assigned: "avail-email-assigned",
  email_visitor_message: "avail-email-message",
};

export function createAvailability() {
  let loading = null;

  /** Read my settings once I am on a widget's team (the Inbox is shown). */
  function load() {
    if (state.supportPrefs || loading) return loading;
    loading = get("/me/support")
      .then((prefs) => store.supportPrefsLoaded(prefs))
      .catch(failed)
      .finally(() => {
        loading = null;
      });
    return loading;
  }

  function render() {
    const prefs = state.supportPrefs;
    $("availability").hidden = !prefs;
    if (!prefs) return;
    const toggle = $("avail-toggle");
    toggle.checked = prefs.available;
    $("avail-label").textContent = prefs.available ? "Available" : "Away";
    $("availability").dataset.available = String(prefs.available);
    for (const [field, id] of Object.entries(EMAILS)) $(id).checked = prefs[field];
  }

  async function change(fields, input) {
    input.disabled = true;
    try {
      store.supportPrefsLoaded(await patch("/me/support", fields));
    } catch (err) {
      failed(err);
      render(); // show what is true again
    } finally {
      input.disabled = false;
    }
  }

  $("avail-toggle").addEventListener("change", (e) => change({ available: e.currentTarget.checked }, e.currentTarget));
  for (const [field, id] of Object.entries(EMAILS)) {
    $(id).addEventListener("change", (e) => change({ [field]: e.currentTarget.checked }, e.currentTarget));
  }

  return { load, render };
}
