// Parley's support widget, for any website:
//
//   <script src="https://PARLEY/widget.js" data-widget="KEY" async></script>
//
// This loader runs in the host page and holds nothing secret. It reads the widget's public
// settings, draws a launcher bubble and opens the chat: an iframe served by Parley, which
// the host page can neither restyle nor read (its storage keeps the visitor's token). The
// two talk only by postMessage, each checking where a message comes from: the loader
// takes messages from its own iframe on Parley's origin only, and the frame from this
// page's origin only. docs/widget.md, "Embedding".
//
// window.Parley: open(), close(), toggle(), identify({id, name, email, hash}),
// setAttributes({...}), reset(); and a `parley:ready` event on window once it exists.
(() => {
  "use strict";

  const script =
    document.currentScript || document.querySelector('script[data-widget][src*="/widget.js"]');
  if (!script || window.Parley || location.origin === "null") return;
  const key = script.getAttribute("data-widget") || "";
  const parley = new URL(script.src, location.href).origin;
  const base = `${parley}/widget/${encodeURIComponent(key)}`;
  const PHONE = window.matchMedia("(max-width: 520px)");
  const Z = "2147483000";

  function warn(text) {
    if (window.console) console.warn(`Parley widget ${key}: ${text}`);
  }

  // Inline styles with priority: the host page's stylesheets, even with !important, do
  // not win over them (and its CSP cannot forbid them: they are set through the CSSOM).
  function style(el, rules) {
    for (const [name, value] of Object.entries(rules)) el.style.setProperty(name, value, "important");
    return el;
  }

  function svg(paths, size) {
    const ns = "http://www.w3.org/2000/svg";
    const icon = document.createElementNS(ns, "svg");
    icon.setAttribute("viewBox", "0 0 24 24");
    icon.setAttribute("width", size);
    icon.setAttribute("height", size);
    icon.setAttribute("aria-hidden", "true");
    for (const d of paths) {
      const path = document.createElementNS(ns, "path");
      path.setAttribute("d", d);
      path.setAttribute("fill", "none");
      path.setAttribute("stroke", "currentColor");
      path.setAttribute("stroke-width", "2");
      path.setAttribute("stroke-linecap", "round");
      path.setAttribute("stroke-linejoin", "round");
      icon.appendChild(path);
    }
    return icon;
  }

  const CHAT_ICON = ["M4 5h16a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1h-9l-5 4v-4H4a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1z"];
  const CLOSE_ICON = ["M6 6l12 12M18 6L6 18"];

  function build(config) {
    const side = config.position === "left" ? "left" : "right";
    const accent = /^#[0-9a-fA-F]{6}$/.test(config.accent_color) ? config.accent_color : "#4f46e5";

    // Everything lives in a shadow root: the page's selectors do not reach inside.
    const host = style(document.createElement("div"), {
      all: "initial",
      position: "fixed",
      "z-index": Z,
      bottom: "0",
      [side]: "0",
      width: "0",
      height: "0",
      display: "block",
    });
    host.setAttribute("data-parley-widget", key);
    const root = host.attachShadow({ mode: "open" });

    const launcher = style(document.createElement("button"), {
      all: "initial",
      position: "fixed",
      bottom: "20px",
      [side]: "20px",
      width: "56px",
      height: "56px",
      "border-radius": "50%",
      background: accent,
      color: "#fff",
      cursor: "pointer",
      display: "flex",
      "align-items": "center",
      "justify-content": "center",
      "box-shadow": "0 4px 14px rgba(0,0,0,.25)",
      "z-index": Z,
    });
    launcher.type = "button";
    launcher.setAttribute("aria-label", config.title || "Chat");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("part", "launcher");
    const openIcon = svg(CHAT_ICON, "28");
    const closeIcon = svg(CLOSE_ICON, "26");
    style(closeIcon, { display: "none" });
    launcher.append(openIcon, closeIcon);

    const badge = style(document.createElement("span"), {
      all: "initial",
      position: "absolute",
      top: "-2px",
      [side === "right" ? "left" : "right"]: "-2px",
      "min-width": "20px",
      height: "20px",
      padding: "0 5px",
      "box-sizing": "border-box",
      "border-radius": "10px",
      background: "#d92d20",
      color: "#fff",
      font: "600 12px/20px system-ui, sans-serif",
      "text-align": "center",
      display: "none",
    });
    badge.setAttribute("aria-hidden", "true");
    launcher.appendChild(badge);

    const panel = style(document.createElement("div"), {
      all: "initial",
      position: "fixed",
      display: "none",
      overflow: "hidden",
      background: "#fff",
      "z-index": Z,
    });
    panel.setAttribute("part", "panel");
    const frame = style(document.createElement("iframe"), {
      all: "initial",
      display: "block",
      width: "100%",
      height: "100%",
      border: "0",
    });
    frame.title = config.title || "Chat";
    frame.setAttribute("referrerpolicy", "no-referrer");
    frame.src = `${base}/frame?origin=${encodeURIComponent(location.origin)}`;
    panel.appendChild(frame);
    root.append(panel, launcher);

    let isOpen = false;
    let frameReady = false;
    let nextId = 1;
    const queue = []; // messages for the frame until it says it is ready
    const waiting = new Map(); // request id -> {resolve, reject}

    function layout() {
      const phone = PHONE.matches;
      // A phone gets the whole screen; the frame has its own close button there.
      const box = phone
        ? { top: "0", bottom: "0", left: "0", right: "0", width: "100%", height: "100%", "border-radius": "0" }
        : {
            top: "auto",
            bottom: "88px",
            [side]: "20px",
            [side === "right" ? "left" : "right"]: "auto",
            width: "380px",
            height: "min(640px, calc(100vh - 108px))",
            "border-radius": "14px",
          };
      style(panel, {
        ...box,
        display: isOpen ? "block" : "none",
        "box-shadow": phone ? "none" : "0 12px 40px rgba(0,0,0,.28)",
      });
      style(launcher, { display: isOpen && phone ? "none" : "flex" });
      style(openIcon, { display: isOpen ? "none" : "block" });
      style(closeIcon, { display: isOpen ? "block" : "none" });
      launcher.setAttribute("aria-expanded", String(isOpen));
    }

    function post(message) {
      if (frameReady) frame.contentWindow.postMessage({ parley: "host", ...message }, parley);
      else queue.push(message);
    }

    /** A command for the frame, answered (validated there) by a "result" message. */
    function request(type, payload) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        try {
          payload = structuredClone(payload ?? {}); // what postMessage can carry, now
        } catch {
          const error = new Error(`Parley.${type}: plain values only.`);
          error.code = "invalid";
          reject(error);
          return;
        }
        waiting.set(id, { resolve, reject });
        post({ type, id, payload });
      });
    }

    function setOpen(open) {
      if (open === isOpen) return;
      isOpen = open;
      layout();
      post({ type: open ? "open" : "close" });
      if (open) frame.focus();
      else launcher.focus();
    }

    window.addEventListener("message", (event) => {
      // Only our own iframe, on Parley's origin: any other window or origin is ignored.
      if (event.origin !== parley || event.source !== frame.contentWindow) return;
      const data = event.data;
      if (!data || data.parley !== "frame" || typeof data.type !== "string") return;
      if (data.type === "ready") {
        frameReady = true;
        post({ type: "page", url: location.href, referrer: document.referrer });
        if (isOpen) post({ type: "open" });
        for (const message of queue.splice(0)) post(message);
      } else if (data.type === "close") {
        setOpen(false);
      } else if (data.type === "unread") {
        const count = Number(data.count) || 0;
        badge.textContent = count > 99 ? "99+" : String(count);
        style(badge, { display: count > 0 && !isOpen ? "block" : "none" });
      } else if (data.type === "result") {
        const waiter = waiting.get(data.re);
        if (!waiter) return;
        waiting.delete(data.re);
        if (data.ok) waiter.resolve(data.result ?? null);
        else {
          const error = new Error(String(data.message || "Refused."));
          error.code = String(data.code || "error");
          error.details = data.details;
          waiter.reject(error);
        }
      }
    });

    launcher.addEventListener("click", () => setOpen(!isOpen));
    PHONE.addEventListener("change", layout);
    layout();
    document.body.appendChild(host);

    window.Parley = Object.freeze({
      open: () => setOpen(true),
      close: () => setOpen(false),
      toggle: () => setOpen(!isOpen),
      /** The site's user: {id, hash} verifies them (HMAC, docs/widget.md), name and email are shown to the team. */
      identify: (user) => request("identify", user),
      /** Custom key/values shown to the team; an empty value removes a key. */
      setAttributes: (attributes) => request("attributes", attributes),
      /** Forget this visitor: the next message starts a new conversation. */
      reset: () => request("reset", {}),
      get isOpen() {
        return isOpen;
      },
    });
    window.dispatchEvent(new CustomEvent("parley:ready", { detail: { key } }));
  }

  function start() {
    // The settings are readable here only on one of the widget's allowed origins (CORS):
    // any other page gets no widget.
    fetch(`${base}/config`, { credentials: "omit" })
      .then((response) => (response.ok ? response.json() : Promise.reject(new Error(`HTTP ${response.status}`))))
      .then(build)
      .catch((err) => warn(`not shown (${err.message}); is ${location.origin} one of its allowed origins?`));
  }

  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
