// Reactions and edits of a message, as pure functions over its data (store.js applies
// them; the view and the menus read them). Nothing here keeps state.

/** The reactions offered first (the server's `parley.chat.emoji.COMMON`); any other
 * single emoji is accepted too. */
export const COMMON = ["👍", "❤️", "😂", "😮", "😢", "🙏", "🎉", "👎"];

/** A message's reactions after a `reaction.added` / `reaction.removed` event: the event
 * carries the emoji's totals, so they replace what was shown for it (applied twice, the
 * same). `mine` changes only when the event is about me. */
export function withReactionEvent(reactions, frame, aboutMe) {
  const list = reactions ? [...reactions] : [];
  const at = list.findIndex((r) => r.emoji === frame.emoji);
  const mine = aboutMe ? frame.type === "reaction.added" : Boolean(list[at]?.mine);
  const next = { emoji: frame.emoji, count: frame.count, users: frame.users, mine };
  if (frame.count <= 0) {
    if (at >= 0) list.splice(at, 1);
  } else if (at >= 0) list[at] = next;
  else list.push(next);
  return list;
}

/** Who reacted, in words: "Alice, Bob and 3 others" (I am "You"). */
export function reactorsText(reaction, isMe) {
  const names = reaction.users.map((u) => (isMe(u) ? "You" : u.name));
  if (reaction.mine && !reaction.users.some(isMe)) names.unshift("You");
  const shown = names.slice(0, Math.max(reaction.users.length, 1));
  const others = reaction.count - shown.length;
  if (others > 0) return `${shown.join(", ")} and ${others} ${others === 1 ? "other" : "others"}`;
  if (shown.length > 1) return `${shown.slice(0, -1).join(", ")} and ${shown[shown.length - 1]}`;
  return shown.join("");
}

/** The accessible name of a reaction chip. */
export function reactionLabel(reaction, isMe) {
  const who = reactorsText(reaction, isMe);
  const n = reaction.count === 1 ? "1 reaction" : `${reaction.count} reactions`;
  const hint = reaction.mine ? "press to remove yours" : "press to add yours";
  return `${reaction.emoji} ${n}: ${who}; ${hint}`;
}
