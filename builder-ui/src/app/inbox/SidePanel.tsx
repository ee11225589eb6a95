// The side panel of a conversation: the handover summary, the person and
// deal data (saved with its revision), and leads and deals made from it.
import { useEffect, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, errorText, get, post, put } from "../api";

interface Data {
  revision: number;
  person_name: string;
  email: string;
  phone: string;
  org_name: string;
  org_address: string;
  value: string | null;
  currency: string;
  expected_close: string | null;
  notes: string;
}
interface Summary {
  at: string;
  summary: { reason: string; language: string; page: string; path: string[] | null; questions: string[] | null; vars: Record<string, unknown> | null };
}
interface Lead {
  id: string;
  kind: "lead" | "deal";
  created_at: string;
  person_name: string;
  email: string;
  value: string | null;
  currency: string;
}

const fields: [keyof Data, string, string?][] = [
  ["person_name", "Name"],
  ["email", "Email", "email"],
  ["phone", "Phone", "tel"],
  ["org_name", "Organisation"],
  ["org_address", "Address"],
  ["value", "Deal value"],
  ["currency", "Currency"],
  ["expected_close", "Expected close", "date"],
];

export function SidePanel({ id }: { id: string }) {
  const qc = useQueryClient();
  const summary = useQuery({
    queryKey: ["summary", id],
    queryFn: async () => {
      try {
        return await get<Summary>(`/conversations/${id}/summary`);
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return null;
        throw e;
      }
    },
  });
  const data = useQuery({ queryKey: ["data", id], queryFn: () => get<Data>(`/conversations/${id}/data`) });
  const leads = useQuery({ queryKey: ["leads", id], queryFn: () => get<{ leads: Lead[] | null }>(`/conversations/${id}/leads`) });
  const [form, setForm] = useState<Data | null>(null);
  useEffect(() => {
    if (data.data) setForm(data.data);
  }, [data.data]);
  const save = useMutation({
    mutationFn: (d: Data) =>
      put<Data>(`/conversations/${id}/data`, {
        ...d,
        value: d.value === "" ? null : d.value,
        expected_close: d.expected_close || undefined,
      }),
    onSuccess: (d) => {
      setForm(d);
      qc.setQueryData(["data", id], d);
    },
  });
  const create = useMutation({
    mutationFn: (kind: "lead" | "deal") => post(`/conversations/${id}/leads`, { kind }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ["leads", id] });
      void qc.invalidateQueries({ queryKey: ["conversation", id] });
    },
  });
  const s = summary.data?.summary;
  const conflict = save.error instanceof ApiError && save.error.status === 409;
  return (
    <aside className="sidepanel" data-testid="side-panel">
      {s && (
        <section>
          <h3>Handover summary</h3>
          <dl className="summary">
            <dt>Reason</dt>
            <dd>{s.reason}</dd>
            <dt>Language</dt>
            <dd>{s.language}</dd>
            {s.page && (
              <>
                <dt>Page</dt>
                <dd className="wrap">{s.page}</dd>
              </>
            )}
            {s.vars && Object.keys(s.vars).length > 0 && (
              <>
                <dt>Answers</dt>
                <dd>
                  {Object.entries(s.vars).map(([k, v]) => (
                    <div key={k}>
                      <code>{k}</code>: {String(v)}
                    </div>
                  ))}
                </dd>
              </>
            )}
            {s.questions && s.questions.length > 0 && (
              <>
                <dt>Questions</dt>
                <dd>
                  {s.questions.map((x, i) => (
                    <div key={i}>“{x}”</div>
                  ))}
                </dd>
              </>
            )}
            {s.path && (
              <>
                <dt>Path</dt>
                <dd className="small">{s.path.join(" → ")}</dd>
              </>
            )}
          </dl>
        </section>
      )}
      <section>
        <h3>Contact and deal</h3>
        {form && (
          <form
            className="stack tight"
            onSubmit={(e) => {
              e.preventDefault();
              save.mutate(form);
            }}
          >
            {fields.map(([k, label, type]) => (
              <label key={k}>
                {label}
                <input type={type || "text"} value={(form[k] as string) ?? ""} onChange={(e) => setForm({ ...form, [k]: e.target.value })} />
              </label>
            ))}
            <label>
              Notes
              <textarea rows={3} value={form.notes} onChange={(e) => setForm({ ...form, notes: e.target.value })} />
            </label>
            {conflict && (
              <div className="error">
                Someone else saved this data. <button type="button" onClick={() => void data.refetch().then((r) => r.data && setForm(r.data))}>Load theirs</button>
              </div>
            )}
            {save.error && !conflict && <div className="error">{errorText(save.error)}</div>}
            <button type="submit" disabled={save.isPending}>
              Save
            </button>
          </form>
        )}
      </section>
      <section>
        <div className="row">
          <button onClick={() => create.mutate("lead")} disabled={create.isPending}>
            Create lead
          </button>
          <button onClick={() => create.mutate("deal")} disabled={create.isPending}>
            Create deal
          </button>
        </div>
        {create.error && <div className="error">{errorText(create.error)}</div>}
        <ul className="leads">
          {(leads.data?.leads || []).map((l) => (
            <li key={l.id}>
              <span className={"badge " + l.kind}>{l.kind}</span> {l.person_name || l.email || "—"}
              {l.value && " · " + l.value + " " + l.currency}
              <div className="muted small">{new Date(l.created_at).toLocaleString()}</div>
            </li>
          ))}
        </ul>
      </section>
    </aside>
  );
}
