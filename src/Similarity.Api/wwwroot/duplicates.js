// The duplicates page (admin): groups of near-identical items side by side, each member's fields with those that
// differ within the group marked, and the scores of its pairs; paged through the groups.
import { api, el, price, say, thumbnailOf } from "/app.js";
import { adminGate } from "/admin-gate.js";

const field = (id) => document.getElementById(id);
const status = field("status");
const limit = 10;
let after = 0;

/** A member's value of a field the API compares (Duplicates.ComparedFields). */
function valueOf(member, name) {
  if (name === "price") return price(member);
  if (name === "picture") return member.hasPicture ? "yes" : "no";
  return member[name] ?? "";
}

function memberCard(member, differs) {
  const rows = ["title", "brand", "price", "category", "description"].map((name) => {
    const value = String(valueOf(member, name));
    const text = differs.includes(name) ? el("mark", { text: value || "(none)" }) : value;
    return [el("dt", { text: name }), el("dd", {}, text)];
  });
  return el("li", { "data-sku": member.sku },
    el("a", { href: `/item.html?sku=${encodeURIComponent(member.sku)}` },
      member.hasPicture
        ? el("img", { src: thumbnailOf(member.sku), alt: member.title, loading: "lazy", width: 256, height: 256 })
        : el("span", { class: "no-picture", text: "no picture" }),
      el("span", { class: "title", text: member.sku })),
    el("dl", { class: "fields compact" }, ...rows.flat()));
}

function groupSection(group, number) {
  const heading = `Group ${number}: ${group.members.length} items`;
  const id = `group-${number}`;
  return el("section", { class: "dup-group", "aria-labelledby": id },
    el("h2", { id, text: heading }),
    el("p", { class: "meta", text: group.differs.length ? `They differ in: ${group.differs.join(", ")}.` : "They differ in none of the compared fields." }),
    el("ul", { class: "grid side-by-side" }, ...group.members.map((m) => memberCard(m, group.differs))),
    el("p", { class: "meta", text: group.pairs.map((p) => `${p.sku} ~ ${p.otherSku}: ${p.score.toFixed(3)}`).join(" · ") }));
}

async function show() {
  const query = new URLSearchParams({ by: field("by").value, minScore: field("min-score").value, after, limit });
  try {
    const page = await api(`/duplicates?${query}`, { admin: true });
    field("groups").replaceChildren(...page.groups.map((g, i) => groupSection(g, after + i + 1)));
    field("previous").hidden = after === 0;
    field("next").hidden = page.nextAfter === null;
    say(status, page.total ? `${page.total} groups of near-identical items; groups ${after + 1}–${after + page.groups.length} shown.` : "No near-identical items at this threshold.");
  } catch (error) {
    failed(error);
  }
}

const failed = adminGate(status, show);
field("query").addEventListener("submit", (event) => { event.preventDefault(); after = 0; show(); });
field("previous").addEventListener("click", () => { after = Math.max(0, after - limit); show(); });
field("next").addEventListener("click", () => { after += limit; show(); });
