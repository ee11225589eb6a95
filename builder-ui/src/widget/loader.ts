/*
 * Frontdesk widget loader: what a site embeds with
 *
 *   <script src="https://frontdesk.example/widget.js" data-channel="pk_…" async></script>
 *
 * It stays tiny (a budget test keeps it under 5 kB gzipped) and does three
 * things: it injects one iframe, served by Frontdesk, in which the chat runs
 * isolated from the page (its own origin, a strict CSP); it sizes that
 * iframe (a bubble when closed, a panel when open, the whole screen on a
 * phone); and it exposes window.Frontdesk, a small API that talks to the
 * frame with postMessage, checking origins both ways.
 *
 * The page's origin goes to the frame in its URL. Frontdesk serves the frame
 * with `frame-ancestors` set to exactly that origin, so no other site can
 * frame it with a borrowed origin, and the visitor socket checks that origin
 * against the channel's allow-list.
 */
import { isCmd, type HostToFrame, type FrameToHost, type WidgetEvent } from "./protocol";

type Listener = (data: unknown) => void;

interface FrontdeskAPI {
  open(): void;
  close(): void;
  toggle(): void;
  identify(identity: Record<string, unknown>): void;
  setVariables(vars: Record<string, unknown>): void;
  on(event: WidgetEvent, fn: Listener): () => void;
  off(event: WidgetEvent, fn: Listener): void;
  readonly isOpen: boolean;
  readonly version: 1;
}

declare global {
  interface Window {
    Frontdesk?: FrontdeskAPI | { q?: unknown[][] };
  }
}

(function () {
  const script = document.currentScript as HTMLScriptElement | null;
  const key = script && script.getAttribute("data-channel");
  const existing = window.Frontdesk as { version?: number; q?: unknown[][] } | undefined;
  if (!script || !key || (existing && existing.version === 1)) {
    return; // no key, or loaded twice: the first copy wins
  }
  const base = new URL(script.src, location.href);
  const frameOrigin = base.origin;
  const hostOrigin = location.origin;
  if (!/^https?:/.test(hostOrigin)) {
    console.warn("Frontdesk: the widget needs an http(s) page");
    return;
  }

  let ready = false;
  let open = false;
  const outbox: HostToFrame[] = [];
  const listeners: Record<string, Listener[]> = {};
  let vars: Record<string, unknown> = {};
  let identity: Record<string, unknown> | undefined;

  const frame = document.createElement("iframe");
  const q = new URLSearchParams({ key, origin: hostOrigin, lang: navigator.language || "" });
  frame.src = frameOrigin + "/widget/frame.html?" + q.toString();
  frame.title = script.getAttribute("data-title") || "Chat";
  frame.setAttribute("data-frontdesk", "widget");
  // Styles are set through the CSSOM, which a page's style-src CSP allows.
  const s = frame.style;
  s.position = "fixed";
  s.border = "0";
  s.right = "0";
  s.bottom = "0";
  s.zIndex = "2147483000";
  s.background = "transparent";
  s.colorScheme = "light";
  s.maxWidth = "100vw";
  s.maxHeight = "100vh";

  // The frame's state (visitor token, last seq, recent messages) lives in
  // the frame's own storage; where the browser refuses storage to
  // third-party frames, the frame asks the page to keep it, here.
  const storeKey = "fd:v1:" + key;
  const stored = (): string | null => {
    try {
      return localStorage.getItem(storeKey);
    } catch {
      return null;
    }
  };

  const compact = () => window.innerWidth < 520 || window.innerHeight < 500;

  function layout() {
    if (open && compact()) {
      s.width = "100vw";
      s.height = "100%";
    } else if (open) {
      s.width = "420px";
      s.height = "min(720px, 100vh)";
    } else {
      s.width = "96px";
      s.height = "96px";
    }
  }
  layout();

  function post(msg: HostToFrame) {
    if (!ready || !frame.contentWindow) {
      outbox.push(msg);
      return;
    }
    frame.contentWindow.postMessage(msg, frameOrigin);
  }

  function emit(name: string, data: unknown) {
    (listeners[name] || []).slice().forEach((fn) => {
      try {
        fn(data);
      } catch (e) {
        console.error(e);
      }
    });
  }

  window.addEventListener("message", (e: MessageEvent) => {
    if (e.origin !== frameOrigin || e.source !== frame.contentWindow) {
      return;
    }
    const m = e.data as FrameToHost;
    if (!m || m.fd !== 1) {
      return;
    }
    switch (m.type) {
      case "ready":
        ready = true;
        frame.contentWindow!.postMessage(
          {
            fd: 1,
            type: "init",
            page_url: location.href.slice(0, 2000),
            referrer: document.referrer.slice(0, 2000),
            vars,
            identity,
            compact: compact(),
            stored: stored(),
          } satisfies HostToFrame,
          frameOrigin,
        );
        outbox.splice(0).forEach(post);
        break;
      case "state":
        if (m.open !== open) {
          open = m.open;
          layout();
          emit(open ? "open" : "close", {});
        }
        break;
      case "event":
        emit(m.name, m.data);
        break;
      case "store":
        try {
          if (m.value === null) localStorage.removeItem(storeKey);
          else if (typeof m.value === "string" && m.value.length < 1_000_000) localStorage.setItem(storeKey, m.value);
        } catch {
          // Storage full or refused: the chat goes on without resume.
        }
        break;
    }
  });
  window.addEventListener("resize", () => {
    layout();
    if (ready) {
      post({ fd: 1, type: "host", compact: compact() });
    }
  });

  const api: FrontdeskAPI = {
    version: 1,
    get isOpen() {
      return open;
    },
    open: () => post({ fd: 1, type: "cmd", cmd: "open" }),
    close: () => post({ fd: 1, type: "cmd", cmd: "close" }),
    toggle: () => post({ fd: 1, type: "cmd", cmd: "toggle" }),
    identify(id) {
      identity = id && typeof id === "object" ? { ...id } : undefined;
      post({ fd: 1, type: "identify", identity });
    },
    setVariables(v) {
      if (v && typeof v === "object") {
        vars = { ...vars, ...v };
        post({ fd: 1, type: "vars", vars });
      }
    },
    on(event, fn) {
      (listeners[event] = listeners[event] || []).push(fn);
      return () => api.off(event, fn);
    },
    off(event, fn) {
      listeners[event] = (listeners[event] || []).filter((f) => f !== fn);
    },
  };
  window.Frontdesk = api;
  // Calls made before the script loaded, queued by a stub:
  // window.Frontdesk = {q: []}; Frontdesk.q.push(["open"]).
  if (existing && Array.isArray(existing.q)) {
    for (const call of existing.q) {
      const [name, ...args] = call as [string, ...unknown[]];
      if (isCmd(name) || name === "identify" || name === "setVariables" || name === "on") {
        (api as unknown as Record<string, (...a: unknown[]) => void>)[name](...args);
      }
    }
  }
  (document.body || document.documentElement).appendChild(frame);
})();
