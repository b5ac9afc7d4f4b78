// The clusters page (admin): the catalog's clusters, each a strip of its central pictures with its label words and
// the categories it spans; a cluster's members page by page below.
import { api, card, el, say, thumbnailOf } from "/app.js";
import { adminGate } from "/admin-gate.js";

const field = (id) => document.getElementById(id);
const status = field("status");
const pageSize = 48;
let shown = null;

function strip(cluster) {
  return el("ul", { class: "strip", "aria-label": `Central items of cluster ${cluster.id}` },
    ...cluster.central.map((sku) => el("li", {},
      el("a", { href: `/item.html?sku=${encodeURIComponent(sku)}` },
        el("img", { src: thumbnailOf(sku), alt: sku, width: 96, height: 96 })))));
}

function clusterSection(cluster) {
  const id = `cluster-${cluster.id}`;
  const label = cluster.label.length ? cluster.label.join(", ") : "no telling words";
  const categories = cluster.categories.map((c) => `${c.category ?? "no category"} (${c.items})`).join(", ");
  return el("section", { class: "cluster", "aria-labelledby": id, "data-cluster": cluster.id },
    el("h2", { id, text: `${cluster.id}. ${label}` }),
    el("p", { class: "meta", text: `${cluster.size} items · categories: ${categories}` }),
    strip(cluster),
    el("button", { type: "button", class: "secondary", text: "Show the members", "aria-label": `Show the members of cluster ${cluster.id}`, onclick: () => members(cluster.id, 0) }));
}

async function members(id, after) {
  try {
    const page = await api(`/clusters/${id}?after=${after}&limit=${pageSize}`, { admin: true });
    shown = { id, next: page.nextAfter };
    const cards = page.members.map((m) => card({ sku: m.sku, title: m.title, hasImage: true }, el("span", { class: "meta", text: `${m.category ?? ""} · ${m.similarity.toFixed(3)}` })));
    if (after === 0) field("members").replaceChildren(...cards); else field("members").append(...cards);
    field("members-heading").textContent = `Members of cluster ${id} (${page.cluster.size})`;
    field("members-section").hidden = false;
    field("more").hidden = page.nextAfter === null;
  } catch (error) {
    failed(error);
  }
}

async function show() {
  try {
    const answer = await api("/clusters", { admin: true });
    const s = answer.state;
    field("state").textContent = s.computedAt
      ? `${s.clusters} clusters of ${s.items} items, computed ${new Date(s.computedAt).toLocaleString()} (number chosen by ${s.chosenBy}${s.silhouette === null ? "" : `, silhouette ${s.silhouette.toFixed(3)}`}).`
      : "The catalog has not been clustered yet: it is, in the background, once it has enough items.";
    field("clusters").replaceChildren(...answer.clusters.map(clusterSection));
    say(status, "");
  } catch (error) {
    failed(error);
  }
}

const failed = adminGate(status, show);
field("more").addEventListener("click", () => shown && members(shown.id, shown.next));
