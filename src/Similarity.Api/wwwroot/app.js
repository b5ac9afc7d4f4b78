// What every page shares: calling the API, the admin key (kept for this browser session only), item cards.

const keyName = "similarity.adminKey";

export const adminKey = {
  get: () => sessionStorage.getItem(keyName),
  set: (key) => sessionStorage.setItem(keyName, key),
  clear: () => sessionStorage.removeItem(keyName),
};

/** Calls the API; an answer that is not 2xx throws an Error carrying the ProblemDetails' words. */
export async function api(path, { method = "GET", body, admin = false, accept = "application/json", headers: extra = {} } = {}) {
  const headers = { Accept: accept, ...extra };
  if (admin && adminKey.get()) headers["X-Api-Key"] = adminKey.get();
  const response = await fetch(path, { method, body, headers });
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const problem = await response.json();
      const details = problem.errors ? Object.values(problem.errors).flat().join(" ") : "";
      message = [problem.title, problem.detail ?? details].filter(Boolean).join(" ");
    } catch { /* not a ProblemDetails */ }
    const error = new Error(message);
    error.status = response.status;
    throw error;
  }
  if (response.status === 204) return null;
  return accept === "application/json" ? response.json() : response.blob();
}

/** An element with attributes and children; text is always set as text, never parsed as HTML. */
export function el(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") element.textContent = value;
    else if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...children.filter((child) => child !== null && child !== undefined));
  return element;
}

export const thumbnailOf = (sku) => `/items/${encodeURIComponent(sku)}/image?size=thumb`;

/** An item's price: in its currency, or as a bare amount saying it has none (a symbol is never guessed). */
export function price(item) {
  if (item.price === null || item.price === undefined) return "";
  if (!item.currency) {
    const amount = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 4 }).format(item.price);
    return `${amount} (no currency)`;
  }
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: item.currency }).format(item.price);
  } catch {
    return `${item.price} ${item.currency}`; // a code the browser does not know
  }
}

/** Whether the service keeps a picture of it: an item says so in modalities, a search result in hasImage. */
const hasPicture = (item) => item.hasImage ?? item.modalities?.image ?? false;

/** One item as a card: its thumbnail (or a placeholder when it has none), title, price and any extra lines. */
export function card(item, ...lines) {
  const picture = hasPicture(item)
    ? el("img", { src: thumbnailOf(item.sku), alt: item.title, loading: "lazy", width: 256, height: 256 })
    : el("span", { class: "no-picture", text: "no picture" });
  return el("li", { "data-sku": item.sku },
    el("a", { href: `/item.html?sku=${encodeURIComponent(item.sku)}` },
      picture,
      el("span", { class: "title", text: item.title }),
      el("span", { class: "meta", text: [price(item), item.available === false ? "unavailable" : ""].filter(Boolean).join(" · ") }),
      ...lines));
}

/** Writes a message where screen readers hear it (the element is an aria-live region). */
export function say(region, message, isError = false) {
  region.textContent = message;
  region.classList.toggle("error", isError);
}
