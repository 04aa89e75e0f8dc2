// /runs: the list of runs; /runs/{id}: one run's timeline, following it live over
// GET /v1/swarm/runs/{id}/events (a finished run replays from its stored events).

import { ROOT, Unauthorized, apiKey, followEvents, getJSON, setApiKey } from "./api.js";
import { RunModel } from "./model.js";
import { Timeline } from "./timeline.js";

const $ = (id) => document.getElementById(id);
const LIST_REFRESH_MS = 5000; // the list picks up new runs and status changes
let listTimer = 0;

function say(text) {
  $("message").hidden = !text;
  $("message").textContent = text || "";
}

function askForKey(why) {
  say(why);
  $("key-form").hidden = false;
  $("key-input").focus();
}

function setupKeyForm(start) {
  $("key-button").addEventListener("click", () => {
    $("key-form").hidden = !$("key-form").hidden;
    $("key-input").value = apiKey();
  });
  $("key-form").addEventListener("submit", (e) => {
    e.preventDefault();
    setApiKey($("key-input").value.trim());
    $("key-form").hidden = true;
    say("");
    start();
  });
}

async function guarded(work) {
  try {
    await work();
  } catch (err) {
    if (err instanceof Unauthorized) askForKey(`${err.message}: enter it below.`);
    else say(`error: ${err.message}`);
  }
}

async function showList() {
  $("list-view").hidden = false;
  const body = $("run-table").tBodies[0];
  const page = await getJSON("/v1/swarm/runs?limit=100");
  const when = (t) => new Date(t * 1000).toLocaleString();
  body.replaceChildren(...page.data.map((run) => {
    const tr = document.createElement("tr");
    const link = document.createElement("a");
    link.href = `${ROOT}/runs/${encodeURIComponent(run.run_id)}`;
    link.textContent = run.run_id;
    const cells = [link, run.status, when(run.created), when(run.updated)];
    for (const c of cells) {
      const td = document.createElement("td");
      td.append(c);
      tr.append(td);
    }
    tr.dataset.status = run.status;
    return tr;
  }));
  if (!page.data.length) say("No runs yet. Send a request to the -swarm model.");
  clearTimeout(listTimer); // one refresh chain, even after a key change restarted the page
  listTimer = setTimeout(() => guarded(showList), LIST_REFRESH_MS);
}

let follower = null; // the run view's state, kept across a key change

async function showRun(runId) {
  $("run-view").hidden = false;
  $("run-title").textContent = runId;
  document.title = `${runId} · kimi-swarm`;
  if (!follower) {
    const model = new RunModel(runId);
    const timeline = new Timeline(model, {
      rows: $("rows"), axis: $("axis"), detail: $("detail"), summary: $("summary"),
    });
    follower = { model, timeline };
  }
  const { model, timeline } = follower;
  while (!model.ended) {
    await followEvents(runId, model.lastSeq, (ev) => {
      model.apply(ev);
      timeline.schedule();
    });
    if (model.ended) break;
    // The stream closed without a final event: still live (a proxy cut it), or gone for good.
    const record = await getJSON(`/v1/swarm/runs/${encodeURIComponent(runId)}`);
    if (!record.live) {
      say(`the run's event stream ended without a final event (status ${record.status})`);
      break;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  timeline.schedule();
}

function start() {
  const path = location.pathname.startsWith(ROOT) ? location.pathname.slice(ROOT.length) : "";
  const match = path.match(/^\/runs\/([^/]+)\/?$/);
  guarded(() => (match ? showRun(decodeURIComponent(match[1])) : showList()));
}

setupKeyForm(start);
start();
