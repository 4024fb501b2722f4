// What the visitor sees in the frame, drawn from the frame's state. Every text that comes
// from people (messages, names) is set as text, never as HTML.

const $ = (id) => document.getElementById(id);

const list = $("message-list");
const scroller = $("messages");

function timeOf(iso) {
  const date = iso ? new Date(iso) : new Date();
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function bubble({ key, mine, name, bot, body, time, note, deleted }) {
  const item = document.createElement("li");
  item.className = `msg ${mine ? "mine" : "theirs"}${bot ? " from-bot" : ""}`;
  item.dataset.key = key;
  if (!mine && name) {
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = name;
    if (bot) {
      // An automated answer is never presented as a person's.
      const badge = document.createElement("span");
      badge.className = "bot-badge";
      badge.textContent = "Bot";
      who.append(" ", badge);
    }
    item.appendChild(who);
  }
  const text = document.createElement("p");
  text.className = deleted ? "body deleted" : "body";
  text.textContent = deleted ? "This message was deleted." : body;
  item.appendChild(text);
  const meta = document.createElement("span");
  meta.className = "meta";
  meta.textContent = note ? `${time} · ${note}` : time;
  item.appendChild(meta);
  return item;
}

/** The state a message of mine has reached, as words (and a data attribute for tests). */
function progress(state, message) {
  if (message.failed) return ["failed", "Not sent"];
  if (message.seq == null) return ["sending", "Sending…"];
  if (state.conversation && state.conversation.read_seq >= message.seq) return ["read", "Read"];
  if (state.conversation && state.conversation.delivered_seq >= message.seq) return ["delivered", "Delivered"];
  return ["sent", "Sent"];
}

export function renderMessages(state) {
  const nearBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 60;
  const items = [];
  if (state.config.welcome_message) {
    items.push(
      bubble({ key: "welcome", mine: false, name: state.config.title, body: state.config.welcome_message, time: "" }),
    );
    items[0].classList.add("welcome");
  }
  const stored = [...state.messages.values()].sort((a, b) => a.seq - b.seq);
  const stamped = new Set(stored.map((m) => m.client_id));
  const waiting = [...state.pending.values()].filter((p) => !stamped.has(p.client_id));
  for (const message of [...stored, ...waiting]) {
    const mine = message.sender ? message.sender.kind === "visitor" : true;
    const [stage, note] = mine ? progress(state, message) : [null, ""];
    const item = bubble({
      key: message.seq != null ? `s${message.seq}` : `c${message.client_id}`,
      mine,
      name: message.sender?.name,
      bot: message.sender?.kind === "bot",
      body: message.body,
      time: timeOf(message.created_at),
      note: note || (message.edited_at && !message.deleted ? "edited" : ""),
      deleted: message.deleted,
    });
    if (stage) item.dataset.state = stage;
    items.push(item);
  }
  list.replaceChildren(...items);
  if (nearBottom || state.scrollToEnd) {
    scroller.scrollTop = scroller.scrollHeight;
    state.scrollToEnd = false;
  }
  $("earlier").hidden = !state.hasMore;
}

export function renderStatus(state) {
  const line = $("status");
  let text = "";
  if (state.problem) text = state.problem;
  else if (state.conversation && state.link === "offline") text = "Reconnecting…";
  else if (state.conversation?.status === "resolved") text = "This conversation is resolved. Write to open it again.";
  line.textContent = text;
  line.hidden = !text;
  document.body.dataset.link = state.link;
  document.body.dataset.status = state.conversation?.status || "new";
}

export function renderTyping(state) {
  const who = [...state.typing.values()].filter((t) => t.until > Date.now()).map((t) => t.name);
  $("typing").textContent = who.length ? `${who.join(", ")} ${who.length > 1 ? "are" : "is"} typing…` : "";
}

export function renderPrechat(state) {
  const form = $("prechat");
  const rows = [
    ["name", state.config.ask_name],
    ["email", state.config.ask_email],
  ];
  let any = false;
  for (const [field, ask] of rows) {
    const shown = ask !== "off" && !state.conversation && !state.details[field];
    $(`prechat-${field}-row`).hidden = !shown;
    $(`prechat-${field}-hint`).textContent = ask === "required" ? "(required)" : "(optional)";
    $(`prechat-${field}`).required = ask === "required";
    any ||= shown;
  }
  form.hidden = !any;
}

export function showError(text) {
  const line = $("error");
  line.textContent = text || "";
  line.hidden = !text;
}

/** "Monday 9 June at 09:00", in the visitor's own time zone and language. */
export function backAt(iso) {
  const date = new Date(iso);
  const day = date.toLocaleDateString([], { weekday: "long", day: "numeric", month: "long" });
  return `${day} at ${date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`;
}

/** Nobody answers now: the widget's offline message, when the hours open again, and a
 * form for an email when the team has none of the visitor's. */
export function renderOffline(state) {
  const config = state.config;
  const offline = config.online === false;
  $("offline").hidden = !offline;
  document.body.dataset.online = String(!offline);
  if (!offline) return;
  $("offline-text").textContent = config.offline_message || "We are away right now. Leave a message and we will answer as soon as we can.";
  $("offline-back").textContent = config.back_at ? `We are back ${backAt(config.back_at)}.` : "";
  $("offline-back").hidden = !config.back_at;
  const given = state.emailLeft || state.details.email || state.visitor?.email_given;
  $("offline-email-form").hidden = Boolean(given);
  $("offline-thanks").hidden = !state.emailLeft;
  if (state.emailLeft) $("offline-thanks").textContent = `Thanks! We will write to you at ${state.emailLeft}.`;
}

/** "Talk to a human" while the conversation is open and nobody was asked for yet; once
 * asked, a line that says so. */
export function renderHandoff(state) {
  const conv = state.conversation;
  const open = Boolean(conv) && conv.status !== "resolved";
  $("handoff-row").hidden = !open;
  $("handoff").hidden = Boolean(state.waiting);
  $("handoff-asked").hidden = !state.waiting;
}

/** The rating prompt: on widgets that ask, once the conversation is resolved; thanks
 * once rated. */
export function renderRating(state) {
  const ask = Boolean(state.config.ratings) && state.conversation?.status === "resolved";
  $("rating").hidden = !ask;
  $("rating-form").hidden = Boolean(state.rated);
  $("rating-thanks").hidden = !state.rated;
}
