// The catalog page: a paged grid (GET /items), filters, and search by words or by a photo (POST /search).
import { api, card, el, say } from "/app.js";

const grid = document.getElementById("grid");
const status = document.getElementById("status");
const heading = document.getElementById("heading");
const next = document.getElementById("next");
const first = document.getElementById("first");
const pageSize = 24;
let nextAfter = null;
/** How many items the listing's filters match: the first page says, later pages keep it. */
let total = null;

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
    if (!afterSku) total = page.total ?? null;
    nextAfter = page.nextAfterSku;
    next.hidden = !nextAfter;
    first.hidden = !afterSku;
    say(status, page.items.length ? shown(page.items.length, afterSku) : "No items match.");
  } catch (error) {
    say(status, error.message, true);
  }
}

/** "3,000 items; showing 24." on the first page, "Showing 24 of 3,000 items, after mug-0024." on later ones. */
function shown(count, afterSku) {
  const of = total === null ? `${count} items` : `${total.toLocaleString()} ${total === 1 ? "item" : "items"}`;
  if (!afterSku) return total === null || total === count ? `${of}.` : `${of}; showing the first ${count}.`;
  return total === null ? `${of} after ${afterSku}.` : `Showing ${count} of ${of}, after ${afterSku}.`;
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
