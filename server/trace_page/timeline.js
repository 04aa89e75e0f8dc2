// The run's timeline: one row for the orchestrator's stages, one bar per sub-agent task.
// Events only mark rows dirty; one requestAnimationFrame applies them all, so a burst of
// events from a 256-task fan-out costs one layout. Bars are placed with CSS variables
// (seconds since the run started) against one --span on the container, so a live run's
// growing time axis is a single style write per frame, not one per bar.

import { ORCHESTRATOR } from "./model.js";
import { showDetail } from "./detail.js";

const LIVE_TICK_MS = 250;

export class Timeline {
  constructor(model, { rows, axis, detail, summary }) {
    Object.assign(this, { model, rowsEl: rows, axisEl: axis, detailEl: detail, summaryEl: summary });
    this.rows = new Map(); // id -> {row, lane, its kept segments and marks}
    this.frameQueued = false;
    this.arrival = performance.now(); // when the latest event reached the page
    this.selected = null;
    this.lastAxisSpan = -1;
    this.rowsEl.addEventListener("click", (e) => this.onClick(e));
    this.addRow(ORCHESTRATOR, "orchestrator", "");
  }

  // Call after applying events: one frame will draw them all.
  schedule() {
    this.arrival = performance.now();
    this.requestFrame();
  }

  requestFrame() {
    if (this.frameQueued) return;
    this.frameQueued = true;
    requestAnimationFrame(() => this.frame());
  }

  now() {
    const m = this.model;
    if (m.ended || m.tLast === null) return m.tLast ?? 0;
    return m.tLast + (performance.now() - this.arrival) / 1000;
  }

  frame() {
    const began = performance.now();
    this.frameQueued = false;
    const m = this.model;
    if (m.added.length) {
      const fragment = document.createDocumentFragment();
      for (const id of m.added) fragment.append(this.addRow(id, id, m.tasks.get(id).agent, true));
      this.rowsEl.append(fragment);
      m.added = [];
    }
    const span = Math.max(this.now() - (m.t0 ?? 0), 0.001);
    this.rowsEl.parentElement.style.setProperty("--span", span.toFixed(3));
    for (const id of m.dirty) this.drawRow(id);
    m.dirty.clear();
    this.drawAxis(span);
    this.drawSummary(span);
    if (this.selected !== null && this.detailDirty) this.drawDetail();
    document.body.dataset.runStatus = m.ended ? m.status : "running";
    // Milliseconds from navigation to the first frame that drew the whole run (benchmarks).
    if (m.ended && !document.body.dataset.drawnMs) {
      document.body.dataset.drawnMs = performance.now().toFixed(1);
    }
    document.body.dataset.events = String(m.events);
    if (!m.ended) setTimeout(() => this.requestFrame(), LIVE_TICK_MS);
    const took = performance.now() - began; // the slowest frame's script time (benchmarks)
    if (took > +(document.body.dataset.slowestFrameMs || 0)) {
      document.body.dataset.slowestFrameMs = took.toFixed(1);
    }
  }

  addRow(id, label, agent, detached = false) {
    const row = document.createElement("div");
    row.className = "row";
    row.dataset.id = id;
    const name = document.createElement("div");
    name.className = "label";
    name.textContent = agent ? `${label} · ${agent}` : label;
    name.title = name.textContent;
    const lane = document.createElement("div");
    lane.className = "lane";
    row.append(name, lane);
    this.rows.set(id, { row, lane, queued: null, run: null, steps: 0, tools: [] });
    if (!detached) this.rowsEl.append(row);
    return row;
  }

  drawRow(id) {
    if (id === this.selected) this.detailDirty = true;
    if (id === ORCHESTRATOR) return this.drawOrchestrator();
    const task = this.model.tasks.get(id);
    const { row } = this.rows.get(id);
    row.dataset.status = task.status;
    row.title = task.reason ? `${task.status}: ${task.reason}` : task.status;
    row.classList.toggle("critical", this.model.isCritical(task));
    const t0 = this.model.t0;
    const end = task.ended ?? (this.model.ended ? this.model.tLast : null);
    // Elements are kept and moved, marks only appended: a redraw creates what is new.
    const r = this.rows.get(id);
    r.queued ??= r.lane.appendChild(document.createElement("div"));
    place(r.queued, "queued", task.queued - t0, (task.started ?? end ?? NaN) - t0);
    if (task.started !== null) {
      r.run ??= r.lane.appendChild(document.createElement("div"));
      place(r.run, `run ${task.status}`, task.started - t0, (end ?? NaN) - t0);
    }
    for (; r.steps < task.steps.length; r.steps++) {
      r.lane.append(mark("step", task.steps[r.steps].t - t0));
    }
    task.tools.forEach((call, i) => {
      r.tools[i] ??= r.lane.appendChild(mark("tool", call.t - t0));
      r.tools[i].classList.toggle("error", !!call.isError);
    });
  }

  drawOrchestrator() {
    const m = this.model;
    const { row, lane } = this.rows.get(ORCHESTRATOR);
    row.dataset.status = m.ended ? m.status : "running";
    const t0 = m.t0 ?? 0;
    const parts = [];
    for (const stage of m.stages) {
      parts.push(seg("think", stage.start - t0, stage.stepAt - t0, `stage ${stage.index + 1}`));
      if (stage.tasks.length) {
        const open = stage.tasks.some((id) => m.tasks.get(id).ended === null) && !m.ended;
        parts.push(seg("wait", stage.stepAt - t0, open ? NaN : stage.end - t0));
      }
    }
    const last = m.stages[m.stages.length - 1];
    const waiting = last && last.tasks.some((id) => m.tasks.get(id).ended === null);
    if (!m.ended && !waiting && m.t0 !== null) {
      parts.push(seg("think", (last ? last.end : m.t0) - t0, NaN)); // a model call under way
    }
    lane.replaceChildren(...parts);
  }

  drawAxis(span) {
    if (Math.abs(span - this.lastAxisSpan) < span * 0.02) return;
    this.lastAxisSpan = span;
    const step = niceStep(span / 8);
    const ticks = [];
    for (let t = 0; t <= span; t += step) {
      const tick = document.createElement("span");
      tick.style.setProperty("--a", t.toFixed(3));
      tick.textContent = `${+t.toFixed(2)} s`;
      ticks.push(tick);
    }
    this.axisEl.replaceChildren(...ticks);
  }

  drawSummary(span) {
    const m = this.model;
    const c = m.counts();
    const items = [
      ["status", m.ended ? m.status : "running"],
      ["model", m.model],
      ["wall time", `${span.toFixed(2)} s`],
      ["tokens in / out", `${m.tokens.input} / ${m.tokens.output}`],
      ["tasks", `${m.tasks.size} (${c.queued} queued, ${c.running} running, ${c.completed} done, ${c.failed + c.timeout + c.cancelled} not ok)`],
      ["stages", String(m.stages.length)],
      ["critical / total steps", m.criticalSteps === null ? "…" : `${m.criticalSteps} / ${m.totalSteps}`],
    ];
    if (m.error) items.push(["error", m.error]);
    const dl = document.createElement("dl");
    for (const [k, v] of items) {
      const dt = document.createElement("dt");
      dt.textContent = k;
      const dd = document.createElement("dd");
      dd.textContent = v;
      if (k === "status") dd.dataset.status = v;
      dl.append(dt, dd);
    }
    this.summaryEl.replaceChildren(dl);
  }

  onClick(e) {
    const row = e.target.closest(".row");
    if (!row) return;
    for (const el of this.rowsEl.querySelectorAll(".row.selected")) el.classList.remove("selected");
    row.classList.add("selected");
    this.selected = row.dataset.id;
    this.drawDetail();
  }

  drawDetail() {
    this.detailDirty = false;
    showDetail(this.detailEl, this.model, this.selected);
  }
}

// A bar segment from a to b seconds (NaN b: still open, it reaches the right edge = now).
function seg(kind, a, b, label = "") {
  const el = place(document.createElement("div"), kind, a, b);
  if (label) el.textContent = label;
  return el;
}

function place(el, kind, a, b) {
  const open = Number.isNaN(b);
  el.className = `seg ${kind}${open ? " open" : ""}`;
  el.style.setProperty("--a", a.toFixed(3));
  if (open) el.style.removeProperty("--b");
  else el.style.setProperty("--b", Math.max(b, a).toFixed(3));
  return el;
}

function mark(kind, a) {
  const el = document.createElement("i");
  el.className = `mark ${kind}`;
  el.style.setProperty("--a", a.toFixed(3));
  return el;
}

function niceStep(raw) {
  const p = 10 ** Math.floor(Math.log10(raw || 1));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}
