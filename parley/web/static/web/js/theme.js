// Light and dark: the system's choice until the user picks one (remembered per browser).

const KEY = "parley-theme";
const media = window.matchMedia("(prefers-color-scheme: dark)");

export function current() {
  const forced = document.documentElement.dataset.theme;
  if (forced === "dark" || forced === "light") return forced;
  return media.matches ? "dark" : "light";
}

export function toggle() {
  const next = current() === "dark" ? "light" : "dark";
  document.documentElement.dataset.theme = next;
  try {
    localStorage.setItem(KEY, next);
  } catch {
    /* private mode: applies to this page only */
  }
  return next;
}
