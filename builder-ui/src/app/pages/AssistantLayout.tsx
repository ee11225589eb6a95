import { NavLink, Outlet, useParams } from "react-router";
import { useQuery } from "@tanstack/react-query";
import { get, errorText } from "../api";
import type { Assistant } from "../types";

export function useAssistant(id: string | undefined) {
  return useQuery({ queryKey: ["assistant", id], queryFn: () => get<Assistant>("/assistants/" + id), enabled: !!id });
}

export function AssistantLayout() {
  const { id } = useParams();
  const q = useAssistant(id);
  const a = q.data;
  return (
    <div className="assistant">
      <header className="assistant-head">
        <div className="title">
          <NavLink to="/assistants" className="muted">
            Assistants
          </NavLink>
          <span className="muted"> / </span>
          <strong>{a?.name || "…"}</strong>
          {a && <span className={"badge " + a.status}>{a.status}</span>}
          {a && a.latest_version > 0 && <span className="muted small">v{a.latest_version} live</span>}
        </div>
        <nav className="tabs">
          <NavLink to="builder">Builder</NavLink>
          <NavLink to="versions">Versions</NavLink>
          <NavLink to="settings">Settings</NavLink>
          <NavLink to="knowledge">Knowledge</NavLink>
          <NavLink to="analytics">Analytics</NavLink>
        </nav>
      </header>
      {q.error && <div className="error pad">{errorText(q.error)}</div>}
      <div className="assistant-body">
        <Outlet />
      </div>
    </div>
  );
}
