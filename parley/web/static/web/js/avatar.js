// Avatars: the picture when there is one, else initials on a colour derived from the id.

import { h } from "./dom.js";

function hue(seed) {
  // FNV-1a, then the golden angle: neighbouring ids get clearly different colours.
  let n = 2166136261;
  for (const ch of String(seed)) n = Math.imul(n ^ ch.charCodeAt(0), 16777619) >>> 0;
  return Math.round((n % 997) * 137.508) % 360;
}

export function initials(name) {
  const words = String(name || "?").trim().split(/\s+/).filter(Boolean);
  const letters = words.length > 1 ? words[0][0] + words[words.length - 1][0] : (words[0] || "?").slice(0, 2);
  return letters.toUpperCase();
}

let generatedPath = null;
/** The path of the server's generated (initials) pictures: drawn here instead. */
export function setGeneratedAvatarPath(path) {
  generatedPath = path;
}

function realPicture(url) {
  if (!url) return null;
  if (generatedPath && new URL(url, location.origin).pathname === generatedPath) return null;
  return url;
}

/** @param {{name: string, avatar?: string|null, seed: any, online?: boolean, size?: string}} o */
export function avatar({ name, avatar: url, seed, online = false, size = "" }) {
  const el = h("span", { class: `avatar ${size}`.trim(), "aria-hidden": "true" });
  url = realPicture(url);
  if (url) {
    el.append(h("img", { src: url, alt: "", loading: "lazy" }));
  } else {
    el.style.setProperty("--h", hue(seed ?? name));
    el.append(h("span", { class: "initials", text: initials(name) }));
  }
  if (online) el.append(h("span", { class: "presence-dot" }));
  return el;
}
