// AgentSocket is the console's side of the agent websocket
// (GET /api/v1/agent/ws, api/agent_ws.go): inbox changes, notifications,
// the live events and typing of watched conversations, presence. It
// reconnects with backoff and re-watches; while it cannot connect at all
// (a server without the agent socket), `live` stays false and the inbox
// polls instead.

export interface AgentFrame {
  type: string;
  kind?: string;
  conversation_id?: string;
  seq?: number;
  message?: { id: string; author: "visitor" | "bot" | "agent" | "system"; author_name?: string; text: string; created_at: string; quick_replies?: { label: string; value: string }[] };
  author?: string;
  name?: string;
  on?: boolean;
  status?: string;
  reason?: string;
  code?: string;
  [k: string]: unknown;
}

type Listener = (f: AgentFrame) => void;

export class AgentSocket {
  live = false;
  private ws: WebSocket | null = null;
  private listeners = new Set<Listener>();
  private stateListeners = new Set<(live: boolean) => void>();
  private watches = new Set<string>();
  private attempt = 0;
  private timer: number | undefined;
  private ping: number | undefined;
  private stopped = false;

  constructor(private url: string) {}

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.clearTimeout(this.timer);
    window.clearInterval(this.ping);
    this.ws?.close(1000);
    this.ws = null;
    this.setLive(false);
  }

  on(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  onState(fn: (live: boolean) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  private setLive(v: boolean) {
    if (this.live === v) return;
    this.live = v;
    this.stateListeners.forEach((f) => f(v));
  }

  send(f: Record<string, unknown>): boolean {
    if (this.ws && this.ws.readyState === WebSocket.OPEN && this.live) {
      this.ws.send(JSON.stringify(f));
      return true;
    }
    return false;
  }

  watch(id: string) {
    this.watches.add(id);
    this.send({ type: "watch", conversation_id: id });
  }

  unwatch(id: string) {
    this.watches.delete(id);
    this.send({ type: "unwatch", conversation_id: id });
  }

  private connect() {
    if (this.stopped) return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.url);
    } catch {
      return this.retry();
    }
    this.ws = ws;
    ws.onmessage = (e) => {
      let f: AgentFrame;
      try {
        f = JSON.parse(String(e.data));
      } catch {
        return;
      }
      if (f.type === "hello") {
        this.attempt = 0;
        this.setLive(true);
        for (const id of this.watches) ws.send(JSON.stringify({ type: "watch", conversation_id: id }));
        window.clearInterval(this.ping);
        this.ping = window.setInterval(() => this.send({ type: "ping" }), 25_000);
      }
      this.listeners.forEach((fn) => fn(f));
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      window.clearInterval(this.ping);
      this.setLive(false);
      // Signed out (the session ended): stop; the app shows the login.
      if (e.code === 4001 || e.code === 1008) return;
      this.retry();
    };
  }

  private retry() {
    if (this.stopped) return;
    const cap = Math.min(30_000, 1000 * 2 ** this.attempt++);
    this.timer = window.setTimeout(() => this.connect(), 500 + Math.random() * cap);
  }
}

export function agentSocketURL(): string {
  const u = new URL("/api/v1/agent/ws", location.href);
  u.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  return u.toString();
}
