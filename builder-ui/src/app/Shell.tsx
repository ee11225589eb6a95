import { NavLink, Outlet } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useAuth } from "./auth";
import { get, put } from "./api";
import type { FolderCounts } from "./types";

type Presence = "online" | "away" | "offline";

function PresenceToggle() {
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ["presence"], queryFn: () => get<{ status: Presence }>("/presence"), refetchInterval: 30_000 });
  const m = useMutation({
    mutationFn: (status: Presence) => put<{ status: Presence }>("/presence", { status }),
    onSuccess: (d) => qc.setQueryData(["presence"], d),
  });
  const status = q.data?.status || "offline";
  return (
    <label className={"presence " + status} title="Your availability for chats">
      <span className="dot" aria-hidden="true" />
      <select aria-label="Presence" value={status} onChange={(e) => m.mutate(e.target.value as Presence)} disabled={m.isPending}>
        <option value="online">Online</option>
        <option value="away">Away</option>
        <option value="offline">Offline</option>
      </select>
    </label>
  );
}

export function Shell() {
  const { me, logout, canBuild, isAdmin } = useAuth();
  const counts = useQuery({ queryKey: ["inbox-counts"], queryFn: () => get<FolderCounts>("/inbox/counts"), refetchInterval: 15_000 });
  const unassigned = counts.data?.unassigned ?? 0;
  return (
    <div className="shell">
      <nav className="side">
        <div className="brand">Frontdesk</div>
        <div className="ws muted">{me?.workspace.name}</div>
        {canBuild && <NavLink to="/assistants">Assistants</NavLink>}
        <NavLink to="/inbox">
          Inbox {unassigned > 0 && <span className="count">{unassigned}</span>}
        </NavLink>
        {isAdmin && <NavLink to="/channels">Channels</NavLink>}
        {isAdmin && <NavLink to="/webhooks">Webhooks</NavLink>}
        <NavLink to="/team">Team</NavLink>
        <div className="grow" />
        <PresenceToggle />
        <NavLink to="/account" title="Your account and password">
          Account
        </NavLink>
        <div className="me">
          <div>{me?.user.name || me?.user.email}</div>
          <div className="muted small">{me?.user.role}</div>
          <button className="linkish" onClick={() => void logout()}>
            Sign out
          </button>
        </div>
      </nav>
      <main className="main">
        <Outlet />
      </main>
    </div>
  );
}
