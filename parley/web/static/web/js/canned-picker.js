// The canned replies picker under the composer of a support conversation: `/` and a
// prefix list the widget's replies whose shortcut starts with it (rendered by the server
// for this conversation and me, docs/widget.md "Canned replies"); ArrowUp/ArrowDown pick,
// Enter or Tab or a click inserts the text, Escape closes.

import * as api from "./api.js";
import { insertReply, slashQuery } from "./canned.js";
import { h } from "./dom.js";
import { state } from "./store.js";

const WAIT_MS = 120; // typing fast asks once, for the last prefix

export function createCannedPicker(input, { onInsert }) {
  const list = document.getElementById("canned-list");
  let replies = [];
  let active = 0;
  let query = null;
  let asked = 0; // only the latest request's answer is shown
  let timer = null;

  function close() {
    clearTimeout(timer);
    asked += 1;
    replies = [];
    query = null;
    list.hidden = true;
    list.replaceChildren();
    input.removeAttribute("aria-activedescendant");
  }

  function render() {
    if (!replies.length) {
      list.hidden = true;
      input.removeAttribute("aria-activedescendant");
      return;
    }
    list.replaceChildren(
      ...replies.map((reply, index) =>
        h(
          "li",
          {
            id: `canned-${reply.id}`,
            role: "option",
            class: "canned-option",
            "aria-selected": index === active ? "true" : "false",
            // mousedown, not click: the box keeps its focus and its caret
            onmousedown: (e) => {
              e.preventDefault();
              insert(reply);
            },
          },
          h("span", { class: "canned-shortcut", text: `/${reply.shortcut}` }),
          h("span", { class: "canned-text", text: reply.text }),
        ),
      ),
    );
    list.hidden = false;
    input.setAttribute("aria-activedescendant", `canned-${replies[active].id}`);
    list.children[active]?.scrollIntoView({ block: "nearest" });
  }

  function insert(reply) {
    const target = query;
    close();
    if (!target) return;
    const next = insertReply(input.value, target, reply.text);
    input.value = next.value;
    input.setSelectionRange(next.caret, next.caret);
    onInsert();
  }

  async function ask(convId, found) {
    const ticket = ++asked;
    let answer;
    try {
      answer = await api.get(`/inbox/${convId}/canned?prefix=${encodeURIComponent(found.prefix)}`);
    } catch {
      answer = []; // no replies to offer: the message is typed by hand
    }
    if (ticket !== asked) return;
    query = found;
    replies = answer;
    active = 0;
    render();
  }

  /** After every change of the box: open, narrow or close the list. */
  function update() {
    const conv = state.convs.get(state.openId);
    const found = conv?.kind === "support" ? slashQuery(input.value, input.selectionStart) : null;
    if (!found) return close();
    clearTimeout(timer);
    timer = setTimeout(() => ask(conv.id, found), WAIT_MS);
  }

  /** The composer's keys while the list is open; true when the picker took the key. */
  function handleKey(e) {
    if (list.hidden || !replies.length) return false;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      active = (active + (e.key === "ArrowDown" ? 1 : -1) + replies.length) % replies.length;
      render();
    } else if ((e.key === "Enter" && !e.shiftKey) || e.key === "Tab") {
      insert(replies[active]);
    } else if (e.key === "Escape") {
      close();
    } else {
      return false;
    }
    e.preventDefault();
    e.stopPropagation(); // Escape closes the list, not the conversation (app.js)
    return true;
  }

  input.addEventListener("blur", close);
  return { update, handleKey, close };
}
