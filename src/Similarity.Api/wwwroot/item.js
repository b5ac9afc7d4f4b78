// The item page: its picture and fields, and its similar items as a grid that follows the sliders and filters.
import { adminKey, api, card, el, price, say } from "/app.js";

const sku = new URLSearchParams(location.search).get("sku") ?? "";
const status = document.getElementById("status");
const similarStatus = document.getElementById("similar-status");
const grid = document.getElementById("similar");
const controls = document.getElementById("controls");
const field = (id) => document.getElementById(id);

/** Which modality carried a neighbour: the one whose cosine is clearly higher, or both. */
function why(result) {
  if (result.imageScore === null || result.imageScore === undefined) return "by its text (no picture to compare)";
  if (result.textScore === null || result.textScore === undefined) return "by its picture (no text to compare)";
  const gap = result.imageScore - result.textScore;
  if (gap > 0.1) return "mostly by its picture";
  if (gap < -0.1) return "mostly by its text";
  return "by picture and text alike";
}

const score = (value) => (value === null || value === undefined ? "–" : value.toFixed(3));

async function showItem() {
  try {
    const item = await api(`/items/${encodeURIComponent(sku)}`);
    document.title = `${item.title} · Similarity`;
    field("title").textContent = item.title;
    const picture = item.modalities.image
      ? el("img", { src: `/items/${encodeURIComponent(sku)}/image`, alt: item.title, width: 640, height: 640, id: "item-picture" })
      : el("p", { text: "No picture." });
    field("picture").replaceChildren(picture);
    const rows = [
      ["SKU", item.sku], ["Category", item.category], ["Brand", item.brand], ["Price", price(item)],
      ["Available", item.available ? "yes" : "no"], ["Description", item.description],
      ["Attention", `image ${item.attention.image.toFixed(2)} · text ${item.attention.text.toFixed(2)}`],
      ["Model set", item.fingerprint],
    ].filter(([, value]) => value !== null && value !== undefined && value !== "");
    field("fields").replaceChildren(...rows.flatMap(([name, value]) => [el("dt", { text: name }), el("dd", { text: value })]));
    field("item").hidden = false;
    say(status, "");
    return true;
  } catch (error) {
    say(status, error.status === 404 ? `There is no item with SKU “${sku}”.` : error.message, true);
    return false;
  }
}

let latest = 0;

async function showSimilar() {
  const query = new URLSearchParams({ k: field("k").value });
  if (field("reweight").checked) {
    query.set("imageWeight", field("image-weight").value);
    query.set("textWeight", field("text-weight").value);
  }
  for (const name of ["category", "brand", "priceMax", "available"]) {
    const value = controls.elements[name].value.trim();
    if (value !== "") query.set(name, value);
  }
  const request = ++latest;
  try {
    const answer = await api(`/similar/${encodeURIComponent(sku)}?${query}`);
    if (request !== latest) return; // a later move of a slider already asked again
    grid.replaceChildren(...answer.results.map((result) => card(result,
      el("span", { class: "meta", text: `score ${score(result.weightedScore ?? result.score)} · image ${score(result.imageScore)} · text ${score(result.textScore)}` }),
      el("span", { class: "why", text: why(result) }))));
    grid.dataset.rankedBy = answer.rankedBy;
    say(similarStatus, answer.results.length ? `${answer.results.length} similar items, ranked by ${answer.rankedBy === "fused" ? "the fused vector" : "the weights"}.` : "No similar items match.");
  } catch (error) {
    if (request === latest) say(similarStatus, error.message, true);
  }
}

/** "Often engaged with": the items shoppers engaged with together with this one (GET /co-engaged/{sku}). */
async function showEngaged() {
  const strip = field("engaged");
  const engagedStatus = field("engaged-status");
  try {
    const answer = await api(`/co-engaged/${encodeURIComponent(sku)}?k=10`);
    strip.replaceChildren(...answer.items.map((item) => {
      const shown = card({ ...item, hasImage: true },
        el("span", { class: "meta", text: `score ${score(item.score)} · ${item.visitors} shopper${item.visitors === 1 ? "" : "s"} engaged with both` }));
      // The answer does not say whether the service keeps a picture: a missing one becomes the placeholder.
      shown.querySelector("img").addEventListener("error", (event) => event.target.replaceWith(el("span", { class: "no-picture", text: "no picture" })));
      return shown;
    }));
    say(engagedStatus, answer.items.length ? "" : "No shoppers have engaged with this item together with others yet.");
  } catch (error) {
    strip.replaceChildren();
    say(engagedStatus, error.message, true);
  }
}

/**
 * For an admin (a key in this tab): how well the item's picture agrees with its text against its category's typical
 * agreement, and, when it agrees markedly less, the items its picture resembles instead. Nothing for a shopper.
 */
async function showMismatch() {
  if (!adminKey.get()) return;
  try {
    const answer = await api(`/checks/mismatch?sku=${encodeURIComponent(sku)}`, { admin: true });
    const item = answer.items[0];
    if (!item) return; // no picture or no text: nothing to compare
    const likely = item.likely;
    field("mismatch-summary").textContent = `Picture–text agreement ${item.agreement.toFixed(3)} against ${item.typical.toFixed(3)} typical of its category` +
      (likely ? ": the picture most likely does not show what the text says. It resembles these instead:" : ": the picture matches the text as well as its category's do.");
    field("mismatch").dataset.likely = likely;
    field("resembles").replaceChildren(...(likely ? item.resemblesInstead : []).map((r) =>
      card({ sku: r.sku, title: r.title, hasImage: true }, el("span", { class: "meta", text: `score ${r.score.toFixed(3)}` }))));
    field("mismatch").hidden = false;
  } catch (error) {
    if (error.status !== 401 && error.status !== 403) say(status, error.message, true);
  }
}

function showValues() {
  field("k-value").value = field("k").value;
  field("image-weight-value").value = Number(field("image-weight").value).toFixed(2);
  field("text-weight-value").value = Number(field("text-weight").value).toFixed(2);
}

// The two weights share 1: moving one moves the other, and ranks by them.
controls.addEventListener("input", (event) => {
  const other = { "image-weight": "text-weight", "text-weight": "image-weight" }[event.target.id];
  if (other) {
    field(other).value = (1 - Number(event.target.value)).toFixed(2);
    field("reweight").checked = true;
  }
  showValues();
  showSimilar();
});
controls.addEventListener("submit", (event) => event.preventDefault());

if (!sku) {
  // Opened without ?sku=: nothing to show or compare; say how to choose an item instead of asking for one.
  field("similar-heading").hidden = controls.hidden = field("engaged-heading").hidden = true;
  say(status, "No item chosen: open one from the catalog, or add ?sku=… to this page's address.", true);
  status.append(" ", el("a", { href: "/", text: "Go to the catalog" }));
} else if (await showItem()) {
  await Promise.all([showSimilar(), showEngaged()]);
  await showMismatch();
}
