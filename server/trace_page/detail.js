// The side panel for one clicked row: a task's steps and tool calls (arguments and results),
// or the orchestrator's stages. Built on click (and while that row changes), never per event.

import { ORCHESTRATOR } from "./model.js";

export function showDetail(el, model, id) {
  el.hidden = false;
  el.replaceChildren(...(id === ORCHESTRATOR ? orchestrator(model) : task(model, model.tasks.get(id))));
}

function h(tag, text = "", cls = "") {
  const el = document.createElement(tag);
  if (text) el.textContent = text;
  if (cls) el.className = cls;
  return el;
}

function since(model, t) {
  return t === null || t === undefined ? "—" : `+${(t - model.t0).toFixed(2)} s`;
}

function facts(pairs) {
  const dl = h("dl");
  for (const [k, v] of pairs) dl.append(h("dt", k), h("dd", String(v)));
  return dl;
}

function block(title, text, open = false) {
  const d = h("details");
  d.open = open;
  d.append(h("summary", title), h("pre", text));
  return d;
}

function task(model, t) {
  const end = t.ended ?? (model.ended ? model.tLast : null);
  const out = [
    h("h2", `${t.id} · ${t.agent}`),
    facts([
      ["status", t.status + (t.reason ? ` (${t.reason})` : "")],
      ["queued", since(model, t.queued)],
      ["started", since(model, t.started)],
      ["ended", since(model, t.ended)],
      ["waited", t.started === null ? "—" : `${(t.started - t.queued).toFixed(2)} s`],
      ["ran", t.started === null || end === null ? "—" : `${(end - t.started).toFixed(2)} s`],
      ["steps", t.steps.length],
      ["tokens in / out", `${t.tokens.input} / ${t.tokens.output}`],
      ["on the critical path", model.isCritical(t) ? "yes" : "no"],
    ]),
    block("task", t.text, true),
  ];
  if (t.answer) out.push(block("answer", t.answer, true));
  out.push(h("h3", "steps"));
  const steps = h("ol", "", "steps");
  for (const s of t.steps) {
    const u = s.usage;
    const calls = s.calls.length ? ` → ${s.calls.join(", ")}` : "";
    steps.append(h("li", `${since(model, s.t)}  ${u.prompt_tokens ?? 0}/${u.completion_tokens ?? 0} tok, ${s.finish}${calls}`));
  }
  out.push(steps, h("h3", "tool calls"));
  for (const c of t.tools) {
    const d = h("details", "", c.isError ? "call error" : "call");
    d.append(h("summary", `${c.name}  ${since(model, c.t)}${c.t1 ? ` (${(c.t1 - c.t).toFixed(2)} s)` : ""}`));
    d.append(h("h4", "arguments"), h("pre", pretty(c.args)));
    d.append(h("h4", c.isError ? "error" : "result"), h("pre", c.result ?? "(running)"));
    out.push(d);
  }
  if (!t.tools.length) out.push(h("p", "none"));
  return out;
}

function orchestrator(model) {
  const out = [h("h2", "orchestrator"), facts([
    ["status", model.ended ? model.status : "running"],
    ["model calls", model.orchestratorSteps.length],
    ["agents", [...model.agents.keys()].join(", ") || "none"],
  ])];
  const list = h("ol", "", "steps");
  for (const stage of model.stages) {
    const crit = stage.critical ? `, waited for ${stage.critical}` : "";
    const span = `${since(model, stage.start)} → ${since(model, stage.end)}`;
    list.append(h("li", `stage ${stage.index + 1}: ${span}, ${stage.tasks.length} tasks${crit}`));
  }
  out.push(h("h3", "stages"), list);
  for (const [name, a] of model.agents) {
    out.push(block(`agent ${name} (tools: ${a.tools.join(", ") || "none"})`, a.systemPrompt || ""));
  }
  return out;
}

function pretty(raw) {
  try {
    return JSON.stringify(JSON.parse(raw), null, 2);
  } catch (_) {
    return raw ?? "";
  }
}
