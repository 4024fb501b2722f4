// Browser notifications for messages in chats that are not on screen, and the tab title.

const BASE_TITLE = document.title || "Parley";

/** `count`: the unread count as shown ("3", "999+"), or "" for none. */
export function setUnreadTitle(count) {
  document.title = count ? `(${count}) ${BASE_TITLE}` : BASE_TITLE;
}

export function canAsk() {
  return "Notification" in window && Notification.permission === "default";
}

export function enabled() {
  return "Notification" in window && Notification.permission === "granted";
}

export async function ask() {
  if (!("Notification" in window)) return "unsupported";
  return Notification.requestPermission();
}

export function show({ title, body, tag, icon, onClick }) {
  if (!enabled()) return;
  try {
    const n = new Notification(title, { body, tag, icon, renotify: true });
    n.onclick = () => {
      window.focus();
      onClick?.();
      n.close();
    };
  } catch {
    /* some browsers allow notifications only from a service worker */
  }
}
