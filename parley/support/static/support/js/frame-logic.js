// The frame's decisions that need no page: which postMessage to take from the host,
// whether the frame sits where it was made for, what is unread, what the outbox keeps,
// what the first message carries and which failures are worth another try. Plain
// functions of their arguments (tests/js/frame-logic.test.mjs runs them under node).

/** Whether `event` is the host page talking to this frame: from its parent window, from
 * the origin the frame was made for, in the widget's envelope. Anything else is ignored. */
export function fromHost(event, { framed, parent, hostOrigin }) {
  if (!framed || event.source !== parent || event.origin !== hostOrigin) return false;
  const data = event.data;
  return Boolean(data) && data.parley === "host" && typeof data.type === "string";
}

/** Whether the frame sits in a page of the origin it was made for, as far as the browser
 * tells (`location.ancestorOrigins`: Chromium and Safari; others rely on the policy). */
export function rightHost({ framed, ancestorOrigins, hostOrigin }) {
  return !framed || !ancestorOrigins || ancestorOrigins[0] === hostOrigin;
}

/** How many of the team's messages come after the visitor's read cursor. */
export function unreadCount(messages, readSeq) {
  let count = 0;
  for (const message of messages) {
    if (message.sender?.kind !== "visitor" && !message.deleted && message.seq > readSeq) count += 1;
  }
  return count;
}

/** What the outbox keeps in storage: every message not yet stored by the server, in the
 * order written, but those it refused. */
export function outboxOf(pending) {
  return [...pending.values()].filter((item) => !item.failed).map(({ client_id, body }) => ({ client_id, body }));
}

/** The fields of a message sent over HTTP; the first one also carries what the team
 * sees of the visitor (only what is known: no empty fields). */
export function messageFields(item, { first, details, page }) {
  const fields = { client_id: item.client_id, body: item.body };
  if (!first) return fields;
  const extra = {
    name: details.name,
    email: details.email,
    page_url: page.url,
    referrer: page.referrer,
  };
  for (const [name, value] of Object.entries(extra)) if (value) fields[name] = value;
  if (Object.keys(details.attributes || {}).length) fields.attributes = details.attributes;
  return fields;
}

/** Whether a failed send is tried again with the same client_id (the connection, the
 * server's availability, a rate limit), or given back to the visitor with its reason. */
export function retryable(err) {
  return ["network", "disconnected", "timeout", "unavailable", "rate_limited"].includes(err.code) || err.status >= 500;
}
