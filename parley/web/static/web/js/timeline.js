// The rows of the open conversation that are not messages: the lines of its timeline
// ("Carol joined", "Alice renamed the group to “Crew”", "Bob pinned a message") and the
// "New messages" divider. `withExtras` slots them between the message rows that
// view-conversation.js builds; each extra row renders itself and carries its own key.

import { h } from "./dom.js";
import { isMine } from "./store.js";

function who(sender) {
  return isMine(sender) ? "You" : sender.name;
}

/** What a timeline line says, or "" for an event shown as no line. */
export function lineText(conv, e) {
  const place = conv.kind === "public" ? "room" : "group";
  switch (e.type) {
    case "member.joined":
      return `${who(e.member)} joined`;
    case "member.left":
      if (e.removed_by) return `${who(e.removed_by)} removed ${isMine(e.member) ? "you" : e.member.name}`;
      return `${who(e.member)} left`;
    case "member.updated":
      if (e.role === "owner") return `${who(e.member)} ${isMine(e.member) ? "are" : "is"} now the owner`;
      if (e.role === "admin") return `${who(e.member)} ${isMine(e.member) ? "are" : "is"} now an admin`;
      return `${who(e.member)} ${isMine(e.member) ? "are" : "is"} no longer an admin`;
    case "conversation.updated": {
      // Only changes that say what changed and who made it (not a visitor's new name).
      if (!e.by || !e.changed) return "";
      const parts = [];
      if (e.changed.includes("title")) parts.push(`renamed the ${place} to “${e.title}”`);
      if (e.changed.includes("about")) parts.push(e.about ? "changed the description" : "removed the description");
      if (e.changed.includes("history_visible_to_new_members")) {
        parts.push(e.history_visible_to_new_members ? "showed the earlier messages to new members" : "hid the earlier messages from new members");
      }
      if (e.changed.includes("edits_allowed")) parts.push(e.edits_allowed ? "allowed editing messages" : "turned off editing messages");
      return parts.length ? `${who(e.by)} ${parts.join(" and ")}` : "";
    }
    case "message.pinned":
      return `${who(e.by)} pinned a message`;
    case "message.unpinned":
      return `${who(e.by)} unpinned a message`;
    default:
      return "";
  }
}

function lineRow(conv, e) {
  const text = lineText(conv, e);
  if (!text) return null;
  return {
    key: `e:${e.seq}`,
    render(old) {
      if (old && old.dataset.text === text) return old;
      return h("li", { class: "timeline-line", dataset: { text, seq: e.seq } }, h("span", { text }));
    },
  };
}

const dividerRow = {
  key: "unread-divider",
  render(old) {
    if (old) return old;
    return h("li", { class: "unread-divider", id: "unread-divider", role: "separator", "aria-label": "New messages" }, h("span", { text: "New messages" }));
  },
};

/** `rows` (day separators and messages, oldest first) with the timeline lines and the
 * unread divider put in by seq. A message right after a line shows its sender again. */
export function withExtras(conv, rows) {
  const stored = rows.filter((r) => r.m && r.m.seq !== undefined);
  // A line older than the oldest message shown belongs to history not read yet.
  const oldest = stored.length ? stored[0].m.seq : Infinity;
  const lines = [...conv.timeline.values()]
    .filter((e) => !conv.hasMore || e.seq > oldest)
    .sort((a, b) => a.seq - b.seq)
    .map((e) => ({ seq: e.seq, row: lineRow(conv, e) }))
    .filter((l) => l.row);
  const dividerBefore = conv.dividerAfter === null ? null : stored.find((r) => r.m.seq > conv.dividerAfter)?.m.seq;
  if (!lines.length && dividerBefore == null) return rows;
  const out = [];
  let next = 0;
  let broke = false;
  for (let row of rows) {
    if (row.m) {
      const seq = row.m.seq ?? Infinity; // mine still pending come after everything stored
      while (next < lines.length && lines[next].seq < seq) {
        out.push(lines[next++].row);
        broke = true;
      }
      if (seq === dividerBefore) {
        // Above the day's separator when the first unread message opens a day: the
        // separator sticks to the top and would cover the divider.
        const at = out.length && out[out.length - 1].day ? out.length - 1 : out.length;
        out.splice(at, 0, dividerRow);
        broke = true;
      }
      if (broke && !row.first) row = { ...row, first: true };
      broke = false;
    }
    out.push(row);
  }
  while (next < lines.length) out.push(lines[next++].row);
  return out;
}
