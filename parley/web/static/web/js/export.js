// Exporting a conversation's history (docs/export.md): the server builds a zip in a
// background job, so ask for it, follow it until it is ready, then download it as a file.

import { get, post } from "./api.js";
import { failed, toast } from "./ui.js";

const FIRST_POLL_MS = 500;
const MAX_POLL_MS = 5000;
// A very long history takes a while; past this, stop following (the export still
// finishes on the server: GET /api/v1/exports lists it with its download link).
const GIVE_UP_MS = 15 * 60 * 1000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Export `conv` as the signed-in member sees it and download the zip. */
export async function exportConversation(conv) {
  toast(`Preparing the export of “${conv.title}”…`);
  try {
    let job = await post(`/conversations/${conv.id}/exports`);
    const started = Date.now();
    let pause = FIRST_POLL_MS;
    while (job.state === "queued" || job.state === "running") {
      if (Date.now() - started > GIVE_UP_MS) {
        toast("The export is taking very long. Try again later.");
        return;
      }
      await sleep(pause);
      pause = Math.min(pause * 2, MAX_POLL_MS);
      job = await get(`/exports/${job.id}`);
    }
    if (job.state !== "ready") {
      toast("The export could not be made.");
      return;
    }
    download(job.download);
    toast("Export ready: your browser downloads it.");
  } catch (err) {
    failed(err);
  }
}

function download(url) {
  // The server answers with Content-Disposition: attachment, so the page stays.
  const link = document.createElement("a");
  link.href = url;
  link.download = "";
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
}
