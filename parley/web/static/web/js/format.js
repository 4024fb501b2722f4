// Dates, times and counts as people read them in a chat.

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const weekdayFmt = new Intl.DateTimeFormat(undefined, { weekday: "short" });
const shortDateFmt = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
const longDateFmt = new Intl.DateTimeFormat(undefined, {
  weekday: "long",
  day: "numeric",
  month: "long",
});
const fullDateFmt = new Intl.DateTimeFormat(undefined, {
  day: "numeric",
  month: "long",
  year: "numeric",
});
const fullFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });

function startOfDay(d) {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
}

export function dayKey(iso) {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

const DAY = 86400000;

/** "Today", "Yesterday", "Monday 3 March", "3 March 2024". */
export function dayLabel(iso) {
  const d = new Date(iso);
  const diff = Math.round((startOfDay(new Date()) - startOfDay(d)) / DAY);
  if (diff === 0) return "Today";
  if (diff === 1) return "Yesterday";
  if (diff < 7 && diff > 0) return longDateFmt.format(d);
  if (d.getFullYear() === new Date().getFullYear()) return longDateFmt.format(d);
  return fullDateFmt.format(d);
}

export function timeOf(iso) {
  return timeFmt.format(new Date(iso));
}

export function fullTime(iso) {
  return fullFmt.format(new Date(iso));
}

/** The time in a conversation list: 14:05 today, "Tue" this week, "3 Mar" before. */
export function listTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const diff = Math.round((startOfDay(new Date()) - startOfDay(d)) / DAY);
  if (diff <= 0) return timeFmt.format(d);
  if (diff < 7) return weekdayFmt.format(d);
  return shortDateFmt.format(d);
}

export function lastSeen(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const diff = Math.round((startOfDay(new Date()) - startOfDay(d)) / DAY);
  if (diff <= 0) return `last seen today at ${timeFmt.format(d)}`;
  if (diff === 1) return `last seen yesterday at ${timeFmt.format(d)}`;
  return `last seen ${shortDateFmt.format(d)}`;
}

export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

// Unread counts: the server counts up to `cap` (PARLEY["UNREAD_CAP"]) and a count at the
// cap means that many or more, so it is never shown as an exact number.

/** "3", or "999+" (more than cap − 1) at the cap: for the tab title. */
export function unreadText(n, cap) {
  return n >= cap ? `${cap - 1}+` : String(n);
}

/** The list badge: as `unreadText`, and no more than "99+". */
export function unreadBadge(n, cap) {
  const most = Math.min(99, cap - 1);
  return n > most ? `${most}+` : String(n);
}

/** "3 unread", or "more than 999 unread" at the cap: for screen readers. */
export function unreadWords(n, cap) {
  return n >= cap ? `more than ${cap - 1} unread` : `${n} unread`;
}

/** A file size for people: "840 B", "12 KB", "3.4 MB". */
export function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10240 ? 1 : 0)} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1).replace(/\.0$/, "")} MB`;
  return `${(bytes / 1024 / 1024 / 1024).toFixed(1)} GB`;
}
