// The imports page (admin): upload a catalog and its pictures, follow the job to its end, see its row errors.
import { adminKey, api, el, say } from "/app.js";

const field = (id) => document.getElementById(id);
const status = field("status");
const ended = new Set(["succeeded", "succeeded_with_errors", "failed", "cancelled"]);
let followed = null;

function showAdmin() {
  const hasKey = Boolean(adminKey.get());
  field("key-form").hidden = hasKey;
  field("admin").hidden = !hasKey;
  if (hasKey) listRecent();
}

/** A 401 means the key is wrong: forget it and ask again. */
function failed(error) {
  if (error.status === 401) {
    adminKey.clear();
    showAdmin();
    say(status, "That admin key was refused; enter it again.", true);
  } else {
    say(status, error.message, true);
  }
}

function summary(job) {
  const c = job.counts;
  const parts = [`${job.status.replaceAll("_", " ")}`, `${c.processed}${c.total === null ? "" : ` of ${c.total}`} rows`,
    `${c.inserted} new`, `${c.updated + c.reembedded} changed`, `${c.unchanged} unchanged`, `${c.errors} row error${c.errors === 1 ? "" : "s"}`];
  if (job.rowsPerSecond) parts.push(`${job.rowsPerSecond.toFixed(1)} rows/s`);
  if (!ended.has(job.status) && job.rowsPerSecond && c.total !== null) {
    parts.push(`about ${Math.ceil((c.total - c.processed) / job.rowsPerSecond)} s left`);
  }
  if (job.error) parts.push(job.error);
  return parts.join(" · ");
}

async function showErrors(job) {
  const page = await api(`/imports/${job.id}/errors?limit=200`, { admin: true });
  const body = field("errors").querySelector("tbody");
  body.replaceChildren(...page.errors.map((e) => el("tr", {},
    el("td", { text: e.row }), el("td", { text: e.line ?? "" }), el("td", { text: e.sku ?? "" }),
    el("td", { text: e.columns ?? "" }), el("td", { text: e.reason }), el("td", { text: e.stored ? "yes" : "no" }))));
  field("errors").hidden = page.errors.length === 0;
  field("errors-csv").hidden = page.errors.length === 0;
}

async function follow(id) {
  followed = id;
  field("job").hidden = false;
  while (followed === id) {
    let job;
    try {
      job = await api(`/imports/${id}`, { admin: true });
    } catch (error) {
      failed(error);
      return;
    }
    const progress = field("progress");
    progress.max = Math.max(1, job.counts.total ?? job.counts.processed);
    progress.value = ended.has(job.status) && job.status.startsWith("succeeded") ? progress.max : job.counts.processed;
    field("job-summary").textContent = summary(job);
    field("cancel").hidden = ended.has(job.status);
    field("resume").hidden = job.status !== "failed";
    if (ended.has(job.status)) {
      await showErrors(job).catch(failed);
      say(status, `The import ${job.status.replaceAll("_", " ")}.`);
      listRecent();
      return;
    }
    // The next look in a second: the job's figures change batch by batch, not faster.
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function upload(event) {
  event.preventDefault();
  const form = new FormData();
  form.set("catalog", field("catalog").files[0]);
  if (field("images").files[0]) form.set("images", field("images").files[0]);
  say(status, "Uploading…");
  try {
    const job = await api("/imports", { method: "POST", body: form, admin: true });
    say(status, "Uploaded; the import runs.");
    follow(job.id);
  } catch (error) {
    failed(error);
  }
}

async function listRecent() {
  try {
    const jobs = await api("/imports?limit=10", { admin: true });
    field("recent").replaceChildren(...jobs.map((job) => el("tr", {},
      el("td", { text: new Date(job.createdAt).toLocaleString() }), el("td", { text: job.status.replaceAll("_", " ") }),
      el("td", { text: job.counts.processed }), el("td", { text: job.counts.errors }),
      el("td", {}, el("button", { type: "button", class: "secondary", text: "Follow", "aria-label": `Follow the import of ${new Date(job.createdAt).toLocaleString()}`, onclick: () => follow(job.id) })))));
  } catch (error) {
    failed(error);
  }
}

field("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  adminKey.set(field("key").value.trim());
  field("key").value = "";
  say(status, "");
  showAdmin();
});
field("forget").addEventListener("click", () => { adminKey.clear(); showAdmin(); });
field("upload").addEventListener("submit", upload);
field("cancel").addEventListener("click", () => api(`/imports/${followed}`, { method: "DELETE", admin: true }).catch(failed));
field("resume").addEventListener("click", () =>
  api(`/imports/${followed}/resume`, { method: "POST", admin: true }).then(() => follow(followed)).catch(failed));
field("errors-csv").addEventListener("click", async (event) => {
  // The CSV needs the key, so it is fetched here and handed to the browser as a file.
  event.preventDefault();
  try {
    const csv = await api(`/imports/${followed}/errors`, { admin: true, accept: "text/csv" });
    const link = el("a", { href: URL.createObjectURL(csv), download: "import-errors.csv" });
    link.click();
    URL.revokeObjectURL(link.href);
  } catch (error) {
    failed(error);
  }
});
showAdmin();
