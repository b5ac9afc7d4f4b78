// The imports page (admin): upload a catalog and its pictures with every choice POST /imports takes (format, a
// mapping of your own columns, what becomes of a row whose picture fails, an idempotency key), follow the job to
// its end, see its row errors and warnings, download them all as CSV.
import { adminKey, api, el, say } from "/app.js";

const field = (id) => document.getElementById(id);
const status = field("status");
const ended = new Set(["succeeded", "succeeded_with_errors", "failed", "cancelled"]);
/** Our fields a mapping may name (CatalogField.All); sku and title are required. */
const ourFields = ["sku", "title", "description", "category", "brand", "price", "currency", "available", "image", "imageUrl", "attributes"];
let followed = null;
let columns = [];

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
  if (c.warnings) parts.push(`${c.warnings} row${c.warnings === 1 ? "" : "s"} stored with a warning`);
  if (job.rowsPerSecond) parts.push(`${job.rowsPerSecond.toFixed(1)} rows/s`);
  if (!ended.has(job.status) && job.rowsPerSecond && c.total !== null) {
    parts.push(`about ${Math.ceil((c.total - c.processed) / job.rowsPerSecond)} s left`);
  }
  if (job.checks?.total) parts.push(checkSummary(job.checks));
  if (job.error) parts.push(job.error);
  return parts.join(" · ");
}

/** The catalog checks' names as people read them, by the API's kind. */
const checkNames = { duplicate: "duplicates", mismatch: "pictures unlike their text", noPicture: "without a picture",
  smallPicture: "small pictures", boilerplateDescription: "boilerplate descriptions", repeatedTitle: "repeated titles" };

function checkSummary(checks) {
  return "checks: " + Object.entries(checkNames).filter(([kind]) => checks[kind]).map(([kind, name]) => `${checks[kind]} ${name}`).join(", ");
}

async function showChecks(job) {
  const page = await api(`/imports/${job.id}/checks?limit=200`, { admin: true });
  const link = (sku) => el("a", { href: `/item.html?sku=${encodeURIComponent(sku)}`, text: sku });
  field("checks").querySelector("tbody").replaceChildren(...page.checks.map((c) => el("tr", { "data-kind": c.kind },
    el("td", { text: checkNames[c.kind] ?? c.kind }), el("td", {}, link(c.sku)), el("td", { text: c.detail }),
    el("td", {}, ...c.related.flatMap((sku, i) => (i ? [", ", link(sku)] : [link(sku)]))))));
  field("checks").hidden = page.checks.length === 0;
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
      await showChecks(job).catch(failed);
      say(status, `The import ${job.status.replaceAll("_", " ")}.`);
      listRecent();
      return;
    }
    // The next look in a second: the job's figures change batch by batch, not faster.
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** Hides the previous job's panel: a new upload (or a refused one) must not show another job's figures. */
function clearJob() {
  followed = null;
  field("job").hidden = true;
  field("job-summary").textContent = "";
  field("errors").querySelector("tbody").replaceChildren();
  field("errors").hidden = true;
  field("errors-csv").hidden = true;
  field("checks").querySelector("tbody").replaceChildren();
  field("checks").hidden = true;
}

/** The header line's cells: the delimiter the header uses most (comma, semicolon or tab), quotes honoured. */
function headerCells(line) {
  const delimiter = [",", ";", "\t"].map((d) => [d, line.split(d).length]).sort((a, b) => b[1] - a[1])[0][0];
  const cells = [];
  let cell = "", quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') { cell += '"'; i++; } else if (ch === '"') quoted = false; else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === delimiter) { cells.push(cell.trim()); cell = ""; } else cell += ch;
  }
  cells.push(cell.trim());
  return cells.filter(Boolean);
}

/** Reads the chosen file's first line in the browser and offers its columns for each of our fields. */
async function previewColumns() {
  const file = field("catalog").files[0];
  columns = [];
  if (file) {
    const head = await file.slice(0, 64 * 1024).text();
    columns = headerCells(head.replace(/^\uFEFF/, "").split(/\r?\n/)[0] ?? "");
  }
  field("columns").textContent = file
    ? (columns.length ? `Columns found in ${file.name}: ${columns.join(", ")}.` : `No header line found in ${file.name}.`)
    : "Choose a catalog file to see its columns.";
  field("mapping-fields").replaceChildren(...ourFields.map((name) => {
    const same = columns.find((c) => c.toLowerCase() === name.toLowerCase()) ?? "";
    return el("label", { text: `${name}${name === "sku" || name === "title" ? " (required)" : ""}` },
      el("select", { id: `map-${name}`, "data-field": name },
        el("option", { value: "", text: "— not in the file —" }),
        ...columns.map((c) => el("option", { value: c, text: c, selected: c === same }))));
  }));
}

function showMapping() {
  field("mapping").hidden = field("format").value !== "mapped";
}

/** The mapping form field: our field → your column, for each field given a column. */
function mappingJson() {
  const mapping = {};
  for (const select of field("mapping-fields").querySelectorAll("select")) {
    if (select.value) mapping[select.dataset.field] = select.value;
  }
  return JSON.stringify(mapping);
}

async function upload(event) {
  event.preventDefault();
  clearJob();
  const form = new FormData();
  form.set("catalog", field("catalog").files[0]);
  if (field("images").files[0]) form.set("images", field("images").files[0]);
  const format = field("format").value;
  if (format === "mapped") form.set("mapping", mappingJson());
  else if (format) form.set("format", format);
  form.set("missingImage", field("missing-image").value);
  const key = field("idempotency-key").value.trim();
  say(status, "Uploading…");
  try {
    const job = await api("/imports", { method: "POST", body: form, admin: true, headers: key ? { "Idempotency-Key": key } : {} });
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
      el("td", { text: new Date(job.createdAt).toLocaleString() }), el("td", { text: job.fileName ?? "" }), el("td", { text: job.format }),
      el("td", { text: job.status.replaceAll("_", " ") }),
      el("td", { text: job.counts.processed }), el("td", { text: job.counts.errors }), el("td", { text: job.counts.warnings ?? 0 }),
      el("td", { text: job.checks?.total ?? 0 }),
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
field("catalog").addEventListener("change", () => previewColumns().catch(failed));
field("format").addEventListener("change", showMapping);
field("cancel").addEventListener("click", () => api(`/imports/${followed}`, { method: "DELETE", admin: true }).catch(failed));
field("resume").addEventListener("click", () =>
  api(`/imports/${followed}/resume`, { method: "POST", admin: true }).then(() => follow(followed)).catch(failed));
field("errors-csv").addEventListener("click", async (event) => {
  // The CSV needs the key, so it is built here, page by page through `after` (every row, not the first page's
  // 1 000), with the columns and quoting of the API's own text/csv answer, and handed to the browser as a file.
  event.preventDefault();
  try {
    const quote = (value) => {
      const text = value === null || value === undefined ? "" : String(value);
      return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
    };
    const lines = ["row,line,sku,columns,reason,stored"];
    for (let after = 0; after !== null;) {
      const page = await api(`/imports/${followed}/errors?after=${after}&limit=1000`, { admin: true });
      for (const e of page.errors) lines.push([e.row, e.line, e.sku, e.columns, e.reason, e.stored ? "true" : "false"].map(quote).join(","));
      after = page.nextAfter ?? null;
    }
    const csv = new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv" });
    const link = el("a", { href: URL.createObjectURL(csv), download: "import-errors.csv" });
    link.click();
    URL.revokeObjectURL(link.href);
  } catch (error) {
    failed(error);
  }
});
showAdmin();
