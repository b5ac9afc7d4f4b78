// The feedback page (admin): how shoppers engage with the served lists — click-through and add-to-cart rates by
// position, by day and per experiment side, drawn as plain SVG bars — and the experiments with their verdicts.
import { api, el, say } from "/app.js";
import { adminGate } from "/admin-gate.js";

const field = (id) => document.getElementById(id);
const status = field("status");
const svgNs = "http://www.w3.org/2000/svg";
const percent = (rate) => `${(rate * 100).toFixed(1)}%`;

/** An SVG element with attributes and children. */
function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(svgNs, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

/**
 * Grouped bars: one group per label, a click-through and an add-to-cart bar in each, scaled to the largest rate.
 * Each bar's title says its figures (a pointer shows it); the chart's title and description name what it shows.
 */
function barChart(id, title, groups) {
  const width = 900, height = 220, left = 44, bottom = 34, top = 10;
  const max = Math.max(0.01, ...groups.flatMap((g) => [g.ctr, g.addToCartRate]));
  const slot = (width - left) / Math.max(groups.length, 1);
  const bar = Math.min(28, slot / 2.6);
  const y = (rate) => top + (height - top - bottom) * (1 - rate / max);
  const titleId = `${id}-title`;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": titleId },
    svg("title", { id: titleId }), svg("line", { class: "axis", x1: left, x2: width, y1: height - bottom, y2: height - bottom }),
    svg("text", { x: 4, y: top + 10 }), svg("text", { x: 4, y: height - bottom }));
  chart.querySelector("title").textContent = title;
  const [topLabel, zeroLabel] = chart.querySelectorAll(":scope > text");
  topLabel.textContent = percent(max);
  zeroLabel.textContent = "0%";
  groups.forEach((group, i) => {
    const x = left + i * slot + (slot - 2 * bar) / 2;
    const shape = (kind, rate, offset, text) => {
      const rect = svg("rect", { class: `bar ${kind}`, x: x + offset, y: y(rate), width: bar, height: height - bottom - y(rate) }, svg("title"));
      rect.firstChild.textContent = text;
      return rect;
    };
    const label = svg("text", { x: x + bar, y: height - bottom + 16, "text-anchor": "middle" });
    label.textContent = group.label;
    chart.append(svg("g", { "data-label": group.label },
      shape("ctr", group.ctr, 0, `${group.label}: click-through ${percent(group.ctr)} (${group.clicks} of ${group.impressions} shown)`),
      shape("cart", group.addToCartRate, bar, `${group.label}: add to cart ${percent(group.addToCartRate)} (${group.addsToCart} of ${group.impressions} shown)`),
      label));
  });
  const holder = field(id);
  holder.replaceChildren(groups.length ? chart : el("p", { text: "Nothing served in these days yet." }));
}

function experimentRow(e) {
  const rate = e.winRate === null ? "–" : `${percent(e.winRate)} (${percent(e.interval.low)}–${percent(e.interval.high)})`;
  return el("tr", { "data-name": e.name },
    el("th", { scope: "row", text: e.name }), el("td", { text: e.status }), el("td", { text: percent(e.share) }),
    el("td", { text: e.impressions }), el("td", { text: `${e.clicks.control} · ${e.clicks.treatment}` }),
    el("td", { text: `${e.wins.control} · ${e.wins.treatment}` }), el("td", { text: rate }), el("td", { text: e.verdict }));
}

async function show() {
  try {
    const days = field("days").value;
    const [stats, experiments] = await Promise.all([
      api(`/feedback/stats?days=${days}&positions=10`, { admin: true }),
      api("/experiments", { admin: true }),
    ]);
    barChart("by-position", `Click-through and add-to-cart rate by position, last ${days} days`,
      stats.byPosition.map((p) => ({ ...p, label: `position ${p.position}` })));
    barChart("by-day", `Click-through and add-to-cart rate by day, last ${days} days`,
      stats.byDay.map((d) => ({ ...d, label: d.day.slice(5) })));
    barChart("by-arm", `Click-through and add-to-cart rate per experiment side, last ${days} days`,
      stats.byArm.map((a) => ({ ...a, label: `${a.experiment} ${a.arm}` })));
    field("experiments").querySelector("tbody").replaceChildren(...experiments.experiments.map(experimentRow));
    say(status, experiments.experiments.length ? "" : "No experiment has run yet: start one with PUT /experiments/{name}.");
  } catch (error) {
    failed(error);
  }
}

// The key gate shows the charts once there is a key; a refused key is asked for again.
const failed = adminGate(status, show);
field("days").addEventListener("change", show);
