// Messages between the loader (on the host page) and the chat frame. Both
// sides check the other's origin and window before reading one.

export type Cmd = "open" | "close" | "toggle";
export type WidgetEvent = "message" | "open" | "close";

export function isCmd(s: unknown): s is Cmd {
  return s === "open" || s === "close" || s === "toggle";
}

/** HostToFrame is what the loader posts to the frame. */
export type HostToFrame =
  | {
      fd: 1;
      type: "init";
      page_url: string;
      referrer: string;
      vars: Record<string, unknown>;
      identity?: Record<string, unknown>;
      compact: boolean;
      /** stored is the frame's state kept by the host page (see "store"). */
      stored?: string | null;
    }
  | { fd: 1; type: "cmd"; cmd: Cmd }
  | { fd: 1; type: "identify"; identity?: Record<string, unknown> }
  | { fd: 1; type: "vars"; vars: Record<string, unknown> }
  | { fd: 1; type: "host"; compact: boolean };

/** FrameToHost is what the frame posts to the loader. */
export type FrameToHost =
  | { fd: 1; type: "ready" }
  | { fd: 1; type: "state"; open: boolean; unread: number }
  | { fd: 1; type: "event"; name: WidgetEvent; data: unknown }
  /** store asks the loader to keep the frame's state in the page's
   * localStorage: browsers that block third-party storage refuse it to
   * the frame. null removes it. */
  | { fd: 1; type: "store"; value: string | null };
