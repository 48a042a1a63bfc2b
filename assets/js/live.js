// The workspace event stream, read with fetch() and a stream reader so the token travels in
// the Authorization header (EventSource cannot send headers, and a token never goes in a URL).
// Reconnects with backoff and resumes with Last-Event-ID; a 410 (events pruned past our
// cursor) tells the page to reload everything and starts again from now.

import { authHeaders } from './api.js';

const SILENCE_MS = 40000; // the server sends a comment every 15 s; two missed means dead

export class LiveStream {
  /**
   * @param {string} workspaceId
   * @param {{onEvent: Function, onState: Function, onReset: Function, onUnauthorized: Function}} hooks
   */
  constructor(workspaceId, hooks) {
    this.ws = workspaceId;
    this.hooks = hooks;
    this.lastId = null;
    this.stopped = false;
    this.attempt = 0;
    this.controller = null;
    this.run();
  }

  stop() {
    this.stopped = true;
    if (this.controller) this.controller.abort();
    clearTimeout(this.retryTimer);
    clearTimeout(this.watchdog);
  }

  state(value) {
    this.hooks.onState(value);
  }

  async run() {
    while (!this.stopped) {
      const outcome = await this.connectOnce();
      if (this.stopped) return;
      if (outcome === 'unauthorized') {
        this.hooks.onUnauthorized();
        return;
      }
      if (outcome === 'reset') {
        this.lastId = null;
        this.hooks.onReset();
        continue;
      }
      this.state('reconnecting');
      this.attempt += 1;
      const delay = Math.min(15000, 500 * 2 ** Math.min(this.attempt, 5)) * (0.75 + Math.random() / 2);
      await new Promise((resolve) => { this.retryTimer = setTimeout(resolve, delay); });
    }
  }

  armWatchdog() {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => { if (this.controller) this.controller.abort(); }, SILENCE_MS);
  }

  async connectOnce() {
    this.controller = new AbortController();
    const headers = authHeaders({ Accept: 'text/event-stream' });
    if (this.lastId !== null) headers['Last-Event-ID'] = String(this.lastId);
    let res;
    try {
      res = await fetch(`/api/workspaces/${this.ws}/events/stream`, {
        headers, cache: 'no-store', signal: this.controller.signal,
      });
    } catch {
      return 'error';
    }
    if (res.status === 401) return 'unauthorized';
    if (res.status === 410) return 'reset';
    if (!res.ok || !res.body) return 'error';
    this.attempt = 0;
    this.state('live');
    this.armWatchdog();
    try {
      await this.read(res.body.pipeThrough(new TextDecoderStream()).getReader());
    } catch {
      // aborted or dropped: reconnect below
    }
    clearTimeout(this.watchdog);
    return 'error';
  }

  async read(reader) {
    let buffer = '';
    let event = { id: null, type: 'message', data: [] };
    for (;;) {
      const { value, done } = await reader.read();
      if (done || this.stopped) return;
      this.armWatchdog();
      buffer += value;
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop();
      for (const line of lines) {
        if (line === '') {
          if (event.data.length) this.dispatch(event);
          event = { id: null, type: 'message', data: [] };
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let val = colon < 0 ? '' : line.slice(colon + 1);
        if (val.startsWith(' ')) val = val.slice(1);
        if (field === 'id') event.id = val;
        else if (field === 'event') event.type = val;
        else if (field === 'data') event.data.push(val);
      }
    }
  }

  dispatch(raw) {
    if (raw.id !== null && raw.id !== '') this.lastId = raw.id;
    let parsed;
    try {
      parsed = JSON.parse(raw.data.join('\n'));
    } catch {
      return;
    }
    this.hooks.onEvent({ ...parsed, type: parsed.type || raw.type });
  }
}

/**
 * Coalesces re-reads triggered by events: `refresh(['a','b'], delayMs)` runs loaders a and b
 * once after the delay, then `after()`. A run already due sooner is kept, so a steady stream
 * of events cannot postpone it forever. Returns {refresh, cancel}.
 */
export function coalescer(loaders, after) {
  const pending = new Set();
  let timer = null;
  let dueAt = 0;
  const run = async () => {
    timer = null;
    const jobs = [...pending];
    pending.clear();
    try {
      await Promise.all(jobs.map((j) => loaders[j]()));
      after();
    } catch {
      // the next event or periodic refresh tries again
    }
  };
  return {
    refresh(what, delay = 200) {
      what.forEach((w) => pending.add(w));
      if (timer && dueAt <= Date.now() + delay) return;
      clearTimeout(timer);
      dueAt = Date.now() + delay;
      timer = setTimeout(run, delay);
    },
    cancel() { clearTimeout(timer); timer = null; },
  };
}
