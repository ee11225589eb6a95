import { useEffect, useState } from "react";
import { useParams } from "react-router";
import { useMutation, useQuery } from "@tanstack/react-query";
import { errorText, get, put } from "../api";

type Day = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";
interface Window {
  day: Day;
  start: string;
  end: string;
}
interface AssistantSettings {
  audience: "everyone" | "new_only";
  availability: { mode: "always" | "when_offline" | "schedule"; schedule?: Window[] | null; time_zone?: string };
}
const days: Day[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

export function Settings() {
  const { id } = useParams();
  const q = useQuery({ queryKey: ["settings", id], queryFn: () => get<AssistantSettings>(`/assistants/${id}/settings`) });
  const [s, setS] = useState<AssistantSettings | null>(null);
  useEffect(() => {
    if (q.data) setS(q.data);
  }, [q.data]);
  const save = useMutation({ mutationFn: (v: AssistantSettings) => put<AssistantSettings>(`/assistants/${id}/settings`, v), onSuccess: (v) => setS(v) });
  if (q.error) return <div className="page error">{errorText(q.error)}</div>;
  if (!s) return <div className="page muted">Loading…</div>;
  const av = s.availability;
  const schedule = av.schedule || [];
  const setAv = (v: Partial<AssistantSettings["availability"]>) => setS({ ...s, availability: { ...av, ...v } });
  return (
    <div className="page narrow">
      <h2>Settings</h2>
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate(s);
        }}
      >
        <fieldset>
          <legend>Availability: when the assistant answers</legend>
          {(
            [
              ["always", "Always"],
              ["when_offline", "Only when no agent is online"],
              ["schedule", "On a weekly schedule"],
            ] as const
          ).map(([v, label]) => (
            <label key={v} className="check">
              <input type="radio" name="mode" checked={av.mode === v} onChange={() => setAv({ mode: v, schedule: v === "schedule" ? schedule : undefined })} /> {label}
            </label>
          ))}
          {av.mode === "schedule" && (
            <div className="stack">
              <label>
                Time zone
                <input value={av.time_zone || ""} placeholder="Europe/Paris" onChange={(e) => setAv({ time_zone: e.target.value })} />
              </label>
              {schedule.map((w, i) => (
                <div key={i} className="row">
                  <select aria-label="Day" value={w.day} onChange={(e) => setAv({ schedule: schedule.map((x, j) => (j === i ? { ...x, day: e.target.value as Day } : x)) })}>
                    {days.map((d) => (
                      <option key={d}>{d}</option>
                    ))}
                  </select>
                  <input aria-label="From" type="time" value={w.start} onChange={(e) => setAv({ schedule: schedule.map((x, j) => (j === i ? { ...x, start: e.target.value } : x)) })} />
                  <input aria-label="To" type="time" value={w.end} onChange={(e) => setAv({ schedule: schedule.map((x, j) => (j === i ? { ...x, end: e.target.value } : x)) })} />
                  <button type="button" className="icon" aria-label="Remove" onClick={() => setAv({ schedule: schedule.filter((_, j) => j !== i) })}>
                    ×
                  </button>
                </div>
              ))}
              <button type="button" className="linkish" onClick={() => setAv({ schedule: [...schedule, { day: "mon", start: "09:00", end: "17:00" }] })}>
                + Add a time window
              </button>
            </div>
          )}
        </fieldset>
        <fieldset>
          <legend>Audience</legend>
          <label className="check">
            <input type="radio" name="aud" checked={s.audience === "everyone"} onChange={() => setS({ ...s, audience: "everyone" })} /> Everyone
          </label>
          <label className="check">
            <input type="radio" name="aud" checked={s.audience === "new_only"} onChange={() => setS({ ...s, audience: "new_only" })} /> New visitors only (returning ones go straight to agents)
          </label>
        </fieldset>
        {save.error && <div className="error">{errorText(save.error)}</div>}
        {save.isSuccess && <div className="ok">Saved.</div>}
        <div>
          <button className="primary" type="submit" disabled={save.isPending}>
            Save settings
          </button>
        </div>
      </form>
    </div>
  );
}
