// Messages found by a search (GET /api/v1/search), under the conversations in the sidebar.
// Matched words come as parts of the snippet, shown in <mark>: everything is text, never
// markup from the server.

import { h } from "./dom.js";
import { fullTime, listTime } from "./format.js";
import { isMine, state } from "./store.js";

const section = document.getElementById("search-results");
const ul = document.getElementById("search-list");
const status = document.getElementById("search-status");
const more = document.getElementById("search-more");

function item(hit) {
  // As the list's previews: "You: ", the sender's name in groups, nobody in a direct chat
  // (its title is the other person already).
  const direct = state.convs.get(hit.conversation)?.kind === "direct";
  const who = isMine(hit.sender) ? "You: " : direct ? "" : `${hit.sender.name}: `;
  return h(
    "li",
    null,
    h(
      "a",
      {
        class: "search-hit",
        href: `/c/${hit.conversation}/`,
        dataset: { conversation: hit.conversation, seq: hit.seq },
      },
      h(
        "span",
        { class: "search-top" },
        h("span", { class: "search-where", text: hit.conversation_title || "…" }),
        h("time", { datetime: hit.created_at, title: fullTime(hit.created_at), text: listTime(hit.created_at) }),
      ),
      h(
        "span",
        { class: "search-snippet" },
        who ? h("span", { class: "search-who", text: who }) : null,
        hit.snippet.map((part) => (part.match ? h("mark", { text: part.text }) : part.text)),
      ),
    ),
  );
}

export function render() {
  const s = state.search;
  section.hidden = !s.q;
  if (!s.q) {
    ul.replaceChildren();
    return;
  }
  ul.replaceChildren(...s.results.map(item));
  let text = "";
  if (s.error) text = s.error;
  else if (s.loading) text = "Searching messages…";
  else if (!s.results.length) text = "No messages match.";
  if (status.textContent !== text) status.textContent = text;
  more.hidden = !s.cursor || s.loading;
}
