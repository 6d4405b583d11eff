// The live stream: one WebSocket that reconnects with `after=<highest seq seen>` so nothing is
// missed, says plainly when it is down, and drops the repeats a replay can overlap with.

const SEEN_LIMIT = 4000;
const AUTH_FAILED = 4401;

export class LiveStream {
  // onMessage(message), onStatus("live" | "down" | "auth", sinceDate), seq() -> last seq seen
  constructor({ topics = ">", onMessage, onStatus, seq }) {
    Object.assign(this, { topics, onMessage, onStatus, seq });
    this.socket = null;
    this.retryMs = 500;
    this.stopped = false;
    this.seen = new Set();
    this.downSince = null;
  }

  start() {
    this.stopped = false;
    this.open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close();
  }

  open() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const query = new URLSearchParams({ topics: this.topics, after: String(this.seq()) });
    const socket = new WebSocket(`${scheme}://${location.host}/api/v1/stream?${query}`);
    this.socket = socket;
    socket.onopen = () => {
      this.retryMs = 500;
      this.downSince = null;
      this.onStatus("live", null);
    };
    socket.onmessage = (message) => this.receive(JSON.parse(message.data));
    socket.onclose = (closing) => {
      if (socket !== this.socket || this.stopped) return;
      if (closing.code === AUTH_FAILED) {
        this.onStatus("auth", null);
        return;
      }
      this.downSince = this.downSince || new Date();
      this.onStatus("down", this.downSince);
      this.timer = setTimeout(() => this.open(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 10000);
    };
  }

  receive(message) {
    const id = message.event && message.event.event_id;
    if (id) {
      if (this.seen.has(id)) return;
      this.seen.add(id);
      if (this.seen.size > SEEN_LIMIT) this.seen.delete(this.seen.values().next().value);
    }
    this.onMessage(message);
  }
}
