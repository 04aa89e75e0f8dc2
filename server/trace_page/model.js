// One run's state, rebuilt from its trace events (the same events live and in replay).
// Times are the server's clock (seconds since the epoch); the page never mixes in its own.

export const ORCHESTRATOR = "orchestrator";

export class RunModel {
  constructor(runId) {
    this.runId = runId;
    this.t0 = null; // first event
    this.tLast = null; // latest event
    this.status = "running";
    this.ended = false;
    this.error = null;
    this.model = "";
    this.agents = new Map(); // name -> {system_prompt, tools}
    this.stages = []; // {index, start, stepAt, end, tasks: [ids], critical: id|null}
    this.orchestratorSteps = [];
    this.tasks = new Map(); // task id -> task (see taskQueued)
    this.added = []; // task ids that have no row yet
    this.dirty = new Set(); // task ids (and ORCHESTRATOR) whose row must be redrawn
    this.tokens = { input: 0, output: 0 };
    this.criticalSteps = null;
    this.totalSteps = null;
    this.lastSeq = -1;
    this.events = 0;
  }

  apply(ev) {
    if (ev.sequence_number <= this.lastSeq) return; // a resumed stream may repeat
    this.lastSeq = ev.sequence_number;
    this.events += 1;
    const t = ev.time;
    if (this.t0 === null) this.t0 = t;
    this.tLast = Math.max(this.tLast ?? t, t);
    const d = ev.data || {};
    const task = ev.task ? this.tasks.get(ev.task) : undefined;
    switch (ev.type) {
      case "run.started":
        this.model = d.model || this.model;
        this.status = "running";
        this.ended = false;
        break;
      case "agent.created":
        this.agents.set(ev.agent, { systemPrompt: d.system_prompt, tools: d.tools || [] });
        break;
      case "task.queued":
        this.taskQueued(ev, t, d);
        break;
      case "task.started":
        if (task) Object.assign(task, { started: t, status: "running" });
        break;
      case "agent.step":
        this.step(ev, task, t, d);
        break;
      case "tool.called":
        if (task) task.tools.push({ callId: d.call_id, name: d.name, args: d.arguments, t, result: null });
        break;
      case "tool.result":
        if (task) this.toolResult(task, t, d);
        break;
      case "task.completed":
        if (task) this.taskCompleted(task, t, d);
        break;
      case "run.completed":
        Object.assign(this, { status: d.status, ended: true });
        Object.assign(this, { criticalSteps: d.critical_steps, totalSteps: d.total_steps });
        break;
      case "run.failed":
        Object.assign(this, { status: d.status || "failed", ended: true, error: d.error });
        break;
    }
    if (task) this.dirty.add(task.id);
    this.dirty.add(ORCHESTRATOR);
  }

  taskQueued(ev, t, d) {
    const stage = this.stages[this.stages.length - 1];
    const task = {
      id: ev.task, agent: ev.agent, text: d.task_text || "", stage: stage ? stage.index : 0,
      queued: t, started: null, ended: null, status: "queued", reason: null, answer: "",
      steps: [], tools: [], tokens: { input: 0, output: 0 },
    };
    this.tasks.set(task.id, task);
    this.added.push(task.id);
    this.dirty.add(task.id);
    if (stage) stage.tasks.push(task.id);
  }

  step(ev, task, t, d) {
    const usage = d.usage || {};
    const step = { t, index: d.step, finish: d.finish_reason, calls: d.tool_calls || [], usage };
    this.tokens.input += usage.prompt_tokens || 0;
    this.tokens.output += usage.completion_tokens || 0;
    if (task) {
      task.steps.push(step);
      task.tokens.input += usage.prompt_tokens || 0;
      task.tokens.output += usage.completion_tokens || 0;
      return;
    }
    this.orchestratorSteps.push(step);
    const prev = this.stages[this.stages.length - 1];
    const start = prev ? prev.end : this.t0;
    this.stages.push({ index: this.stages.length, start, stepAt: t, end: t, tasks: [], critical: null });
  }

  toolResult(task, t, d) {
    for (let i = task.tools.length - 1; i >= 0; i--) {
      const call = task.tools[i];
      if (call.callId === d.call_id && call.result === null) {
        Object.assign(call, { result: d.text ?? "", isError: !!d.is_error, t1: t });
        return;
      }
    }
  }

  taskCompleted(task, t, d) {
    Object.assign(task, { ended: t, status: d.status, reason: d.reason, answer: d.answer || "" });
    task.started = task.started ?? t;
    const stage = this.stages[task.stage];
    if (!stage) return;
    stage.end = Math.max(stage.end, t);
    // The critical path: the task the orchestrator waited for longest in this stage.
    const old = stage.critical;
    const best = old === null ? null : this.tasks.get(old);
    if (!best || t > best.ended || (t === best.ended && task.steps.length > best.steps.length)) {
      stage.critical = task.id;
      if (old !== null) this.dirty.add(old);
    }
  }

  isCritical(task) {
    const stage = this.stages[task.stage];
    return !!stage && stage.critical === task.id;
  }

  counts() {
    const out = { queued: 0, running: 0, completed: 0, failed: 0, timeout: 0, cancelled: 0 };
    for (const task of this.tasks.values()) out[task.status] = (out[task.status] || 0) + 1;
    return out;
  }
}
