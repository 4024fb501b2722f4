// Files in messages (docs/files.md). In the composer: a tray of files taken from the
// button, a drop or a paste, each uploaded at once (POST /uploads, XMLHttpRequest for its
// progress) with a progress bar and a cancel; Send takes the finished ones. In the
// timeline: images as thumbnails that open the lightbox, other files as download links
// with their name and size.

import { apiBase, csrfToken } from "./api.js";
import { h, icon } from "./dom.js";
import { formatSize } from "./format.js";
import { openLightbox } from "./lightbox.js";
import { toast } from "./ui.js";

export { formatSize };

/** Upload `file`; `onProgress(fraction)` while it goes. Resolves with the upload (the
 * server's answer), rejects with {code, message}. `.abort()` on the returned promise
 * cancels it (rejects with code "aborted"). */
export function uploadFile(file, onProgress) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    xhr.open("POST", `${apiBase()}/uploads`);
    xhr.setRequestHeader("X-CSRFToken", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status === 201) return resolve(xhr.response);
      const body = xhr.response || {};
      reject({ code: body.code || `http_${xhr.status}`, message: body.message || `The server answered ${xhr.status}.` });
    });
    xhr.addEventListener("error", () => reject({ code: "network", message: "The upload failed: the server cannot be reached." }));
    xhr.addEventListener("abort", () => reject({ code: "aborted", message: "Cancelled." }));
    const form = new FormData();
    // A pasted screenshot has no name: "pasted.png" rather than a blank.
    form.append("file", file, file.name || `pasted.${(file.type.split("/")[1] || "bin").replace(/\W/g, "")}`);
    xhr.send(form);
  });
  done.abort = () => xhr.abort();
  return done;
}

/** The composer's tray of files for the next message: one per conversation, like the
 * text drafts (an upload goes on while another conversation is open). */
export function createAttachmentTray({ tray, button, picker, dropZone, pasteTarget, limits, onChange }) {
  const trays = new Map(); // conversation id -> its items
  let items = []; // {key, name, size, progress, status: uploading|done|failed, upload, job, error}
  let next = 1;

  function changed() {
    render();
    onChange?.();
  }

  function add(files) {
    if (button.hidden) {
      toast("Files cannot be sent in this conversation.");
      return;
    }
    for (const file of files) {
      const name = file.name || "Pasted image";
      if (items.length >= limits.max_files_per_message) {
        toast(`A message may carry at most ${limits.max_files_per_message} files.`);
        break;
      }
      if (file.size > limits.max_file_bytes) {
        toast(`"${name}" is too large (${formatSize(file.size)}): a file may be at most ${formatSize(limits.max_file_bytes)}.`);
        continue;
      }
      const item = { key: next++, name, size: file.size, progress: 0, status: "uploading", upload: null, error: null };
      item.job = uploadFile(file, (fraction) => {
        item.progress = fraction;
        const bar = tray.querySelector(`[data-key="${item.key}"] progress`);
        if (bar) bar.value = fraction;
      });
      item.job.then(
        (upload) => {
          item.status = "done";
          item.upload = upload;
          changed();
        },
        (err) => {
          if (err.code === "aborted") return;
          item.status = "failed";
          item.error = err.message;
          toast(`"${name}" was not sent: ${err.message}`);
          changed();
        },
      );
      items.push(item);
    }
    changed();
  }

  function remove(key) {
    const i = items.findIndex((it) => it.key === key);
    if (i < 0) return;
    const [item] = items.splice(i, 1);
    if (item.status === "uploading") item.job.abort();
    if (item.status === "done") discard(item.upload);
    changed();
  }

  function discard(upload) {
    // Nobody will send it: let the server forget it now rather than in a day.
    fetch(`${apiBase()}/uploads/${upload.id}`, {
      method: "DELETE",
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
    }).catch(() => {});
  }

  function render() {
    tray.hidden = items.length === 0;
    tray.replaceChildren(
      ...items.map((item) => {
        const preview = item.upload?.thumbnail_url
          ? h("img", { class: "tray-thumb", src: item.upload.thumbnail_url, alt: "" })
          : h("span", { class: "tray-thumb tray-file" }, icon("file"));
        const state =
          item.status === "uploading"
            ? h("progress", { max: "1", value: String(item.progress), "aria-label": `Uploading ${item.name}` })
            : item.status === "failed"
              ? h("span", { class: "tray-error", role: "alert", text: item.error })
              : h("span", { class: "tray-size", text: formatSize(item.upload.size) });
        return h(
          "li",
          { class: `tray-item ${item.status}`, dataset: { key: item.key } },
          preview,
          h("span", { class: "tray-text" }, h("span", { class: "tray-name", text: item.name }), state),
          h(
            "button",
            {
              type: "button",
              class: "icon-btn tray-remove",
              "aria-label": item.status === "uploading" ? `Cancel uploading ${item.name}` : `Remove ${item.name}`,
              title: item.status === "uploading" ? "Cancel" : "Remove",
              onclick: () => remove(item.key),
            },
            icon("close"),
          ),
        );
      }),
    );
  }

  button.addEventListener("click", () => picker.click());
  picker.addEventListener("change", () => {
    add([...picker.files]);
    picker.value = "";
  });
  pasteTarget.addEventListener("paste", (e) => {
    const files = [...(e.clipboardData?.files || [])];
    if (!files.length) return; // text: the textarea takes it
    e.preventDefault();
    add(files);
  });
  let depth = 0; // dragenter/leave fire for every child crossed
  const hasFiles = (e) => [...(e.dataTransfer?.types || [])].includes("Files");
  dropZone.addEventListener("dragenter", (e) => {
    if (!hasFiles(e)) return;
    depth += 1;
    dropZone.classList.add("dropping");
  });
  dropZone.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) dropZone.classList.remove("dropping");
  });
  dropZone.addEventListener("dragover", (e) => {
    if (hasFiles(e)) e.preventDefault(); // allows the drop
  });
  dropZone.addEventListener("drop", (e) => {
    depth = 0;
    dropZone.classList.remove("dropping");
    if (!hasFiles(e)) return;
    e.preventDefault();
    add([...e.dataTransfer.files]);
  });

  return {
    add,
    /** Conversation `id` was opened: its own files show. */
    show(id) {
      items = trays.get(id) || [];
      trays.set(id, items);
      render();
    },
    /** Whether a file is still uploading (Send waits). */
    busy: () => items.some((it) => it.status === "uploading"),
    /** The uploads ready to go with the next message. */
    ready: () => items.filter((it) => it.status === "done").map((it) => it.upload),
    /** Empty the tray: the uploads were sent (`discardLeft`: or are dropped). */
    clear(discardLeft = false) {
      for (const item of items.splice(0)) {
        if (item.status === "uploading") item.job.abort();
        else if (discardLeft && item.status === "done") discard(item.upload);
      }
      changed();
    },
  };
}

/** A message's files in the timeline. */
export function renderAttachments(files) {
  const images = files.filter((f) => f.kind === "image" && f.thumbnail_url);
  const others = files.filter((f) => !(f.kind === "image" && f.thumbnail_url));
  const box = h("div", { class: "attachments" });
  if (images.length) {
    box.append(
      h(
        "div",
        { class: `att-images n${Math.min(images.length, 4)}` },
        images.map((f, i) =>
          h(
            "button",
            {
              type: "button",
              class: "att-image",
              "aria-label": `Open image ${f.name}`,
              onclick: () => openLightbox(images, i),
            },
            h("img", {
              src: f.thumbnail_url,
              alt: f.name,
              loading: "lazy",
              width: f.width ? String(Math.min(f.width, 480)) : undefined,
              height: f.width ? String(Math.round((Math.min(f.width, 480) * f.height) / f.width)) : undefined,
            }),
          ),
        ),
      ),
    );
  }
  for (const f of others) {
    box.append(
      h(
        "a",
        { class: "att-file", href: f.url, download: f.name, "aria-label": `Download ${f.name}, ${formatSize(f.size)}` },
        icon("file"),
        h("span", { class: "att-file-text" }, h("span", { class: "att-file-name", text: f.name }), h("span", { class: "att-file-size", text: formatSize(f.size) })),
      ),
    );
  }
  return box;
}
