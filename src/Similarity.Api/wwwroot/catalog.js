// The catalog page: a paged grid (GET /items), filters, and search by words or by a photo (POST /search).
import { api, card, el, say } from "/app.js";

const grid = document.getElementById("grid");
const status = document.getElementById("status");
const heading = document.getElementById("heading");
const next = document.getElementById("next");
const first = document.getElementById("first");
const pageSize = 24;
let nextAfter = null;

/** The filter form as query parameters, empty fields left out. */
function filters() {
  const query = new URLSearchParams();
  for (const [name, value] of new FormData(document.getElementById("filters"))) {
    if (String(value).trim() !== "") query.set(name, String(value).trim());
  }
  return query;
}

async function browse(afterSku = null) {
  const query = filters();
  query.set("limit", pageSize);
  if (afterSku) query.set("afterSku", afterSku);
  say(status, "Loading…");
  try {
    const page = await api(`/items?${query}`);
    grid.replaceChildren(...page.items.map((item) => card(item)));
    heading.textContent = "All items";
    nextAfter = page.nextAfterSku;
    next.hidden = !nextAfter;
    first.hidden = !afterSku;
    say(status, page.items.length ? `${page.items.length} items${afterSku ? ` after ${afterSku}` : ""}.` : "No items match.");
  } catch (error) {
    say(status, error.message, true);
  }
}

async function search(event) {
  event.preventDefault();
  const text = document.getElementById("search-text").value.trim();
  const image = document.getElementById("search-image").files[0];
  if (!text && !image) {
    say(status, "Type some words or choose a photo to search by.", true);
    return;
  }
  const form = new FormData();
  if (text) form.set("text", text);
  if (image) form.set("image", image);
  const query = filters();
  query.set("k", pageSize);
  say(status, "Searching…");
  try {
    const answer = await api(`/search?${query}`, { method: "POST", body: form });
    grid.replaceChildren(...answer.results.map((result) =>
      card(result, el("span", { class: "why", text: `score ${result.score.toFixed(3)}` }))));
    heading.textContent = image ? (text ? "Like this photo and these words" : "Like this photo") : `Like “${text}”`;
    next.hidden = first.hidden = true;
    say(status, `${answer.results.length} results.`);
  } catch (error) {
    say(status, error.message, true);
  }
}

document.getElementById("search").addEventListener("submit", search);
document.getElementById("filters").addEventListener("submit", (event) => { event.preventDefault(); browse(); });
document.getElementById("browse").addEventListener("click", () => browse());
next.addEventListener("click", () => browse(nextAfter));
first.addEventListener("click", () => browse());
browse();
