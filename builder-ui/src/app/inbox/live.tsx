// The agent socket for the whole console: inbox changes refresh the
// folders, notifications become browser notifications, and pages watch
// the conversations they show.
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "react-router";
import { AgentSocket, agentSocketURL, type AgentFrame } from "./agentSocket";

const Ctx = createContext<{ socket: AgentSocket; live: boolean } | null>(null);

const titles: Record<string, string> = {
  new_unassigned: "A new chat is waiting",
  assigned_to_you: "A chat was assigned to you",
  new_message: "New message from a visitor",
  asks_for_human: "A visitor asks for a human",
};

export function LiveProvider({ children }: { children: ReactNode }) {
  const qc = useQueryClient();
  const nav = useNavigate();
  const socket = useMemo(() => new AgentSocket(agentSocketURL()), []);
  const [live, setLive] = useState(false);
  useEffect(() => {
    const offState = socket.onState(setLive);
    const off = socket.on((f: AgentFrame) => {
      switch (f.type) {
        case "inbox":
        case "hidden":
          void qc.invalidateQueries({ queryKey: ["inbox"] });
          void qc.invalidateQueries({ queryKey: ["inbox-counts"] });
          if (f.conversation_id) void qc.invalidateQueries({ queryKey: ["conversation-meta", f.conversation_id] });
          break;
        case "resync":
          void qc.invalidateQueries({ queryKey: ["inbox"] });
          void qc.invalidateQueries({ queryKey: ["inbox-counts"] });
          void qc.invalidateQueries({ queryKey: f.conversation_id ? ["conversation", f.conversation_id] : ["conversation"] });
          break;
        case "presence":
          if (f.status) qc.setQueryData(["presence"], (old: object | undefined) => ({ ...(old || {}), status: f.status }));
          break;
        case "hello":
          if (typeof f.presence === "string") qc.setQueryData(["presence"], (old: object | undefined) => ({ ...(old || {}), status: f.presence }));
          void qc.invalidateQueries({ queryKey: ["inbox"] });
          void qc.invalidateQueries({ queryKey: ["inbox-counts"] });
          break;
        case "notification":
          notify(f, (id) => nav("/inbox/all/" + id));
          break;
      }
    });
    socket.start();
    return () => {
      off();
      offState();
      socket.stop();
    };
  }, [socket, qc, nav]);
  return <Ctx.Provider value={{ socket, live }}>{children}</Ctx.Provider>;
}

export function useLive() {
  const v = useContext(Ctx);
  if (!v) throw new Error("useLive outside LiveProvider");
  return v;
}

function notify(f: AgentFrame, open: (id: string) => void) {
  if (typeof Notification === "undefined" || Notification.permission !== "granted" || !f.conversation_id) return;
  if (document.visibilityState === "visible" && document.hasFocus() && location.pathname.endsWith("/" + f.conversation_id)) return;
  const n = new Notification(titles[f.kind || ""] || "Frontdesk", { body: "Conversation " + f.conversation_id, tag: f.kind + ":" + f.conversation_id });
  n.onclick = () => {
    window.focus();
    open(f.conversation_id!);
    n.close();
  };
}
