// Message text into DOM nodes: never parsed as HTML; http(s) links become anchors.

const URL_RE = /\bhttps?:\/\/[^\s<>"']+/gi;
const TRAILING = /[.,;:!?'")\]}]+$/;

function trimUrl(raw) {
  let url = raw;
  const trail = url.match(TRAILING);
  if (trail) {
    url = url.slice(0, -trail[0].length);
    // Keep a closing parenthesis that balances one inside the link (Wikipedia style).
    const opens = (url.match(/\(/g) || []).length;
    const closes = (url.match(/\)/g) || []).length;
    if (opens > closes && trail[0].startsWith(")")) url += ")";
  }
  return url;
}

function safeHref(text) {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/** A fragment for `text`: text nodes and <a> elements only. */
export function renderText(text) {
  const frag = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(URL_RE)) {
    const url = trimUrl(match[0]);
    const href = safeHref(url);
    if (!href) continue;
    if (match.index > last) frag.append(document.createTextNode(text.slice(last, match.index)));
    const a = document.createElement("a");
    a.href = href;
    a.textContent = url;
    a.target = "_blank";
    a.rel = "noopener noreferrer nofollow ugc";
    frag.append(a);
    last = match.index + url.length;
  }
  if (last < text.length) frag.append(document.createTextNode(text.slice(last)));
  return frag;
}
