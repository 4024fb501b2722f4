// The lightbox: a message's image at full size, over everything, in a modal <dialog>
// (Escape and the close button close it, focus goes back to the thumbnail); the arrows
// go through the message's other images.

import { h, icon } from "./dom.js";
import { formatSize } from "./format.js";

let dialog = null;

function build() {
  const img = h("img", { class: "lightbox-img", alt: "" });
  const caption = h("figcaption", { class: "lightbox-caption" });
  const prev = h("button", { type: "button", class: "icon-btn lightbox-prev", "aria-label": "Previous image" }, icon("back"));
  const next = h("button", { type: "button", class: "icon-btn lightbox-next", "aria-label": "Next image" }, icon("back"));
  const close = h("button", { type: "button", class: "icon-btn lightbox-close", "aria-label": "Close image" }, icon("close"));
  const el = h("dialog", { class: "lightbox", id: "lightbox", "aria-label": "Image" }, close, prev, h("figure", {}, img, caption), next);
  document.body.append(el);
  const view = { el, img, caption, prev, next, files: [], index: 0 };
  close.addEventListener("click", () => el.close());
  prev.addEventListener("click", () => show(view, view.index - 1));
  next.addEventListener("click", () => show(view, view.index + 1));
  el.addEventListener("click", (e) => {
    if (e.target === el) el.close(); // the backdrop
  });
  el.addEventListener("keydown", (e) => {
    if (e.key === "ArrowLeft") show(view, view.index - 1);
    if (e.key === "ArrowRight") show(view, view.index + 1);
  });
  return view;
}

function show(view, index) {
  if (index < 0 || index >= view.files.length) return;
  view.index = index;
  const f = view.files[index];
  view.img.src = f.url;
  view.img.alt = f.name;
  view.caption.replaceChildren(
    h("span", { text: `${f.name} · ${formatSize(f.size)}` }),
    " ",
    h("a", { href: f.url, download: f.name, text: "Download" }),
  );
  view.prev.hidden = index === 0;
  view.next.hidden = index === view.files.length - 1;
}

/** Show image `index` of `files` (a message's images). */
export function openLightbox(files, index) {
  dialog = dialog || build();
  dialog.files = files;
  show(dialog, index);
  if (!dialog.el.open) dialog.el.showModal();
}
