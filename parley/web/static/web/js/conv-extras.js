// What a conversation shows besides its messages, as state: the lines of its timeline
// ("Carol joined", "Alice renamed the group"), its pinned messages and the unread divider.
// Part of the store: only store.js calls these (it owns every change to the state); they
// know nothing of the browser, so Node runs them too (tests/js/).

/** The event types that are lines of the timeline (parley/chat/timeline.py). */
export const TIMELINE_TYPES = new Set([
  "member.joined",
  "member.left",
  "member.updated",
  "conversation.updated",
  "message.pinned",
  "message.unpinned",
]);

export function blankExtras() {
  return {
    timeline: new Map(), // seq -> the event's frame
    pins: new Map(), // message seq -> {message_seq, seq, by, message}
    // The "New messages" divider goes after this seq (null: none): my read cursor when I
    // opened the conversation with unread messages, or where I marked it unread.
    dividerAfter: null,
    // I marked it unread here: do not mark it read again until I open it anew.
    keepUnread: false,
  };
}

/** A timeline event (from a history page or the socket), kept once by seq. */
export function addTimeline(conv, frame) {
  if (!TIMELINE_TYPES.has(frame.type) || frame.seq <= conv.cleared_through_seq) return false;
  conv.timeline.set(frame.seq, frame);
  return true;
}

/** The pins of a REST answer (a conversation's detail), the newest pin first. */
export function setPins(conv, pins) {
  conv.pins = new Map(pins.map((p) => [p.message_seq, p]));
}

/** `message.pinned`: false when the message is not here to show (the app reads the pins). */
export function pinned(conv, frame) {
  const message = conv.messages.get(frame.message_seq);
  if (!message || message.deleted) return false;
  conv.pins.set(frame.message_seq, { message_seq: frame.message_seq, seq: frame.seq, by: frame.by, message });
  return true;
}

export function unpinned(conv, frame) {
  conv.pins.delete(frame.message_seq);
}

/** A message went (deleted for everyone, for me, or cleared): so does its pin. */
export function dropPin(conv, seq) {
  conv.pins.delete(seq);
}

/** History cleared through `through`: its lines and pins go with it. */
export function clearExtras(conv, through) {
  for (const seq of [...conv.timeline.keys()]) if (seq <= through) conv.timeline.delete(seq);
  for (const seq of [...conv.pins.keys()]) if (seq <= through) conv.pins.delete(seq);
}

/** The pins, the newest pin first. */
export function pinList(conv) {
  return [...conv.pins.values()].sort((a, b) => b.seq - a.seq);
}
