// The server's API from the page: the API key (kept in localStorage), JSON reads, and an
// SSE reader built on fetch, because EventSource cannot send an Authorization header.

const KEY = "kimi-swarm.api-key";
// The server's --root-path (a proxy's prefix), written into the page by the server.
export const ROOT = document.documentElement.dataset.root || "";

export class Unauthorized extends Error {}

export function apiKey() {
  return localStorage.getItem(KEY) || "";
}

export function setApiKey(key) {
  if (key) localStorage.setItem(KEY, key);
  else localStorage.removeItem(KEY);
}

function headers(extra = {}) {
  const key = apiKey();
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}

async function checked(resp) {
  if (resp.status === 401) throw new Unauthorized("this server needs an API key");
  if (!resp.ok) {
    let message = `${resp.status} ${resp.statusText}`;
    try {
      message = (await resp.json()).error.message || message;
    } catch (_) { /* not an OpenAI-shaped error */ }
    throw new Error(message);
  }
  return resp;
}

export async function getJSON(path) {
  return (await checked(await fetch(ROOT + path, { headers: headers() }))).json();
}

// Calls onEvent(event) for each event of run `runId` after sequence `after`; resolves when
// the server ends the stream. Reconnecting is the caller's choice (it knows the last id).
export async function followEvents(runId, after, onEvent, signal) {
  const extra = after >= 0 ? { "Last-Event-ID": String(after) } : {};
  const url = `${ROOT}/v1/swarm/runs/${encodeURIComponent(runId)}/events`;
  const resp = await checked(await fetch(url, { headers: headers(extra), signal }));
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replaceAll("\r\n", "\n");
    // One pass over the chunk; the unfinished tail is kept once (no copy per frame).
    let start = 0;
    let end;
    while ((end = buffer.indexOf("\n\n", start)) >= 0) {
      const data = buffer
        .slice(start, end)
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).trimStart())
        .join("\n");
      start = end + 2;
      if (data) onEvent(JSON.parse(data));
    }
    buffer = buffer.slice(start);
  }
}
