// A widget's bot, in the widgets screen: whether it answers, what it says, and its rules
// (keywords or a pattern, each with an answer; added, removed and moved up or down). The
// owner changes it, the agents read it (GET/PATCH /api/v1/widgets/{id}/bot; docs/widget.md
// "The bot"). The rules being edited are the form's until saved; the store keeps what
// the API answered.

import { get, patch } from "./api.js";
import { h } from "./dom.js";
import * as store from "./store.js";
import { state } from "./store.js";
import { $, failed, toast } from "./ui.js";

const TEXTS = { name: "b-name", greeting: "b-greeting", out_of_office: "b-out-of-office", fallback: "b-fallback", handoff_message: "b-handoff-message" };
const LABEL = {
  enabled: "The bot answers visitors",
  name: "Bot's name",
  greeting: "Bot's opening message",
  out_of_office: "Out-of-office answer",
  fallback: "Fallback answer",
  handoff_message: "Answer when a visitor asks for a person",
  handoff_words: "Words that ask for a person",
  rules: "Rules",
};

/** "a, b ,, c" -> ["a", "b", "c"]. */
export function words(text) {
  return text
    .split(",")
    .map((w) => w.trim())
    .filter(Boolean);
}

/** A rule of the API as the form edits it, and back. */
const toDraft = (rule) => ({ kind: rule.pattern != null ? "pattern" : "keywords", keywords: (rule.keywords || []).join(", "), pattern: rule.pattern || "", answer: rule.answer });
const fromDraft = (d) => (d.kind === "pattern" ? { pattern: d.pattern, answer: d.answer } : { keywords: words(d.keywords), answer: d.answer });

/** "Rule 3, answer: ..." from the API's `rules.2.answer`. */
export function problemLabel(field) {
  const rule = /^rules\.(\d+)\.(\w+)$/.exec(field);
  if (rule) return `Rule ${Number(rule[1]) + 1}, ${rule[2]}`;
  return LABEL[field] || field;
}

export function createBotSettings() {
  let widget = null; // the widget whose bot shows, or null
  let owner = false;
  let rules = []; // the rules as edited (drafts)
  let loaded = null; // the settings the form was last filled from

  function fill(bot) {
    loaded = bot;
    $("b-enabled").checked = bot.enabled;
    for (const [field, id] of Object.entries(TEXTS)) $(id).value = bot[field];
    $("b-handoff-words").value = bot.handoff_words.join(", ");
    rules = bot.rules.map(toDraft);
    problems(null);
    renderRules();
  }

  function move(index, by) {
    const to = index + by;
    if (to < 0 || to >= rules.length) return;
    [rules[index], rules[to]] = [rules[to], rules[index]];
    renderRules();
    $(`bot-rule-${to}`).querySelector(by < 0 ? "[data-move=up]" : "[data-move=down]")?.focus();
  }

  function ruleItem(rule, index) {
    const n = index + 1;
    const set = (key) => (e) => {
      rule[key] = e.target.value;
    };
    const kind = h(
      "select",
      { "aria-label": `Rule ${n}: matches`, onchange: (e) => ((rule.kind = e.target.value), renderRules()) },
      h("option", { value: "keywords", text: "Keywords", selected: rule.kind === "keywords" }),
      h("option", { value: "pattern", text: "Pattern", selected: rule.kind === "pattern" }),
    );
    const match =
      rule.kind === "pattern"
        ? h("input", { value: rule.pattern, maxlength: 200, spellcheck: "false", "aria-label": `Rule ${n}: pattern (a regular expression)`, placeholder: "order\\s*#?\\d+", oninput: set("pattern") })
        : h("input", { value: rule.keywords, "aria-label": `Rule ${n}: keywords (comma-separated)`, placeholder: "price, shipping", oninput: set("keywords") });
    const answer = h("textarea", { rows: 2, maxlength: 1000, "aria-label": `Rule ${n}: answer`, oninput: set("answer") });
    answer.value = rule.answer;
    const button = (text, label, onclick, extra = {}) => h("button", { type: "button", class: "btn", text, "aria-label": label, onclick, disabled: !owner, ...extra });
    return h(
      "li",
      { class: "bot-rule", id: `bot-rule-${index}` },
      h("div", { class: "bot-rule-match" }, kind, match),
      answer,
      h(
        "div",
        { class: "bot-rule-actions" },
        button("↑", `Move rule ${n} up`, () => move(index, -1), { "data-move": "up", disabled: !owner || index === 0 }),
        button("↓", `Move rule ${n} down`, () => move(index, 1), { "data-move": "down", disabled: !owner || index === rules.length - 1 }),
        button("Remove", `Remove rule ${n}`, () => {
          rules.splice(index, 1);
          renderRules();
          $("bot-rule-add").focus();
        }),
      ),
    );
  }

  function renderRules() {
    $("bot-rules").replaceChildren(...rules.map(ruleItem));
    $("bot-rules-empty").hidden = rules.length > 0;
    for (const el of $("bot-rules").querySelectorAll("input, select, textarea")) el.disabled = !owner;
  }

  function problems(err) {
    const box = $("bot-error");
    if (!err) {
      box.hidden = true;
      box.replaceChildren();
      return;
    }
    const lines = Object.entries(err.details || {}).map(([field, p]) => `${problemLabel(field)}: ${[].concat(p).join(" ")}`);
    box.replaceChildren(h("p", { text: err.message }), lines.length ? h("ul", {}, ...lines.map((l) => h("li", { text: l }))) : null);
    box.hidden = false;
  }

  async function load(w) {
    try {
      store.botLoaded(w.id, await get(`/widgets/${w.id}/bot`));
    } catch (err) {
      failed(err);
    }
  }

  /** Show the bot of `w` (null: none); `isOwner` may change it. */
  function show(w, isOwner) {
    const changed = w?.id !== widget?.id;
    widget = w;
    owner = isOwner;
    $("widget-bot-box").hidden = !w;
    if (!w) return;
    for (const el of $("bot-form").elements) el.disabled = !owner;
    $("bot-save").hidden = !owner;
    $("bot-rule-add").hidden = !owner;
    if (changed) {
      loaded = null;
      load(w);
    }
    render();
  }

  /** The store has (new) settings: fill the form when they are not the ones it shows. */
  function render() {
    if (!widget) return;
    const bot = state.bots.get(widget.id);
    if (bot && bot !== loaded) fill(bot);
  }

  $("bot-rule-add").addEventListener("click", () => {
    rules.push({ kind: "keywords", keywords: "", pattern: "", answer: "" });
    renderRules();
    $(`bot-rule-${rules.length - 1}`).querySelector("input").focus();
  });

  $("bot-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!widget || !owner) return;
    const body = { enabled: $("b-enabled").checked, handoff_words: words($("b-handoff-words").value), rules: rules.map(fromDraft) };
    for (const [field, id] of Object.entries(TEXTS)) body[field] = $(id).value;
    problems(null);
    try {
      store.botLoaded(widget.id, await patch(`/widgets/${widget.id}/bot`, body));
      toast("Bot saved.");
    } catch (err) {
      problems(err);
    }
  });

  return { show, render };
}
