// Browser notifications: the permission, and which inbox changes notify
// (GET/PUT /api/v1/me/notifications, when the server has it).
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, get, put } from "../api";

interface Settings {
  notify_new_unassigned: boolean;
  notify_assigned: boolean;
  notify_new_message: boolean;
  notify_human_request: boolean;
}
const labels: [keyof Settings, string][] = [
  ["notify_new_unassigned", "New unassigned chat"],
  ["notify_assigned", "Chat assigned to me"],
  ["notify_new_message", "New message in my chats"],
  ["notify_human_request", "Visitor asks for a human"],
];

export function NotificationSettings() {
  const qc = useQueryClient();
  const [perm, setPerm] = useState(typeof Notification === "undefined" ? "unsupported" : Notification.permission);
  const [open, setOpen] = useState(false);
  const q = useQuery({
    queryKey: ["notification-settings"],
    queryFn: async () => {
      try {
        return await get<Settings>("/me/notifications");
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return null;
        throw e;
      }
    },
    enabled: open,
  });
  const save = useMutation({ mutationFn: (s: Settings) => put<Settings>("/me/notifications", s), onSuccess: (s) => qc.setQueryData(["notification-settings"], s) });
  return (
    <div className="notif">
      <button className="linkish small" onClick={() => setOpen((v) => !v)}>
        Notifications…
      </button>
      {open && (
        <div className="stack tight small">
          {perm === "default" && (
            <button onClick={() => void Notification.requestPermission().then(setPerm)}>Allow browser notifications</button>
          )}
          {perm === "denied" && <div className="muted">Blocked in the browser's site settings.</div>}
          {perm === "granted" && <div className="muted">Browser notifications are on.</div>}
          {q.data === null && <div className="muted">This server has no notification settings yet.</div>}
          {q.data &&
            labels.map(([k, label]) => (
              <label key={k} className="check">
                <input type="checkbox" checked={q.data![k]} onChange={(e) => save.mutate({ ...q.data!, [k]: e.target.checked })} /> {label}
              </label>
            ))}
        </div>
      )}
    </div>
  );
}
