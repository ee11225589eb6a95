// The knowledge base editor (GET/PUT /assistants/{id}/knowledge): bio,
// tone, service rules, pricing style and FAQ entries, saved with the
// base's revision (a 409 says someone else saved).
import { useEffect, useState } from "react";
import { useParams } from "react-router";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, errorText, get, post, put } from "../api";

interface FAQEntry {
  key?: string;
  language?: string;
  question: string;
  variants?: string[];
  answer: string;
}
interface Base {
  revision: number;
  defaults?: boolean;
  language: string;
  bio: string;
  tone: string;
  rules: { offer: string[] | null; dont_offer: string[] | null; custom_offer_requirements: string[] | null; decline: Record<string, string> | null };
  pricing_style: "informative" | "balanced" | "assertive";
  faq: FAQEntry[] | null;
}

const lines = (s: string) => s.split("\n").map((x) => x.trim()).filter(Boolean);

export function Knowledge() {
  const { id } = useParams();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ["knowledge", id], queryFn: () => get<Base>(`/assistants/${id}/knowledge`), retry: false });
  const [b, setB] = useState<Base | null>(null);
  useEffect(() => {
    if (q.data) setB(q.data);
  }, [q.data]);
  const save = useMutation({
    mutationFn: (v: Base) => put<Base>(`/assistants/${id}/knowledge`, v),
    onSuccess: (v) => {
      setB(v);
      qc.setQueryData(["knowledge", id], v);
    },
  });
  const restore = useMutation({
    mutationFn: () => post<Base>(`/assistants/${id}/knowledge/restore-defaults`, {}),
    onSuccess: (v) => {
      setB(v);
      qc.setQueryData(["knowledge", id], v);
    },
  });
  if (q.error instanceof ApiError && q.error.status === 404) {
    return (
      <div className="page narrow">
        <h2>Knowledge base</h2>
        <p className="muted">This server does not serve the knowledge base API (/api/v1/assistants/{"{id}"}/knowledge) yet.</p>
      </div>
    );
  }
  if (q.error) return <div className="page error">{errorText(q.error)}</div>;
  if (!b) return <div className="page muted">Loading…</div>;
  const conflict = save.error instanceof ApiError && save.error.status === 409;
  const faq = b.faq || [];
  const setFAQ = (f: FAQEntry[]) => setB({ ...b, faq: f });
  return (
    <div className="page narrow">
      <div className="row between">
        <h2>Knowledge base</h2>
        <button
          onClick={() => {
            if (confirm("Replace the whole knowledge base with the pre-filled guidance?")) restore.mutate();
          }}
        >
          Restore defaults
        </button>
      </div>
      {b.defaults && <div className="banner">This is the pre-filled guidance: edit it and save to make it yours.</div>}
      {conflict && (
        <div className="banner conflict" role="alert">
          Someone else saved the knowledge base. <button onClick={() => void q.refetch().then((r) => r.data && setB(r.data))}>Load theirs</button>
        </div>
      )}
      <form
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate(b);
        }}
      >
        <label>
          Bio: how your assistant presents you
          <textarea rows={4} value={b.bio} onChange={(e) => setB({ ...b, bio: e.target.value })} />
        </label>
        <label>
          Tone
          <textarea rows={2} value={b.tone} onChange={(e) => setB({ ...b, tone: e.target.value })} />
        </label>
        <label>
          Pricing style
          <select value={b.pricing_style} onChange={(e) => setB({ ...b, pricing_style: e.target.value as Base["pricing_style"] })}>
            <option value="informative">Informative</option>
            <option value="balanced">Balanced</option>
            <option value="assertive">Assertive</option>
          </select>
        </label>
        <div className="grid3">
          <label>
            You offer (one per line)
            <textarea rows={5} value={(b.rules.offer || []).join("\n")} onChange={(e) => setB({ ...b, rules: { ...b.rules, offer: lines(e.target.value) } })} />
          </label>
          <label>
            You do not offer
            <textarea rows={5} value={(b.rules.dont_offer || []).join("\n")} onChange={(e) => setB({ ...b, rules: { ...b.rules, dont_offer: lines(e.target.value) } })} />
          </label>
          <label>
            A custom offer needs
            <textarea
              rows={5}
              value={(b.rules.custom_offer_requirements || []).join("\n")}
              onChange={(e) => setB({ ...b, rules: { ...b.rules, custom_offer_requirements: lines(e.target.value) } })}
            />
          </label>
        </div>
        <h3>FAQ</h3>
        {faq.map((f, i) => {
          const up = (v: Partial<FAQEntry>) => setFAQ(faq.map((x, j) => (j === i ? { ...x, ...v } : x)));
          return (
            <div key={i} className="field-box">
              <div className="row">
                <input aria-label="Question" className="grow" placeholder="Question" value={f.question} onChange={(e) => up({ question: e.target.value })} />
                <input aria-label="Language" className="short" placeholder={b.language} value={f.language || ""} onChange={(e) => up({ language: e.target.value || undefined })} />
                <button type="button" className="icon" aria-label="Remove" onClick={() => setFAQ(faq.filter((_, j) => j !== i))}>
                  ×
                </button>
              </div>
              <label>
                Other ways to ask (one per line)
                <textarea rows={2} value={(f.variants || []).join("\n")} onChange={(e) => up({ variants: lines(e.target.value) })} />
              </label>
              <label>
                Answer
                <textarea rows={3} value={f.answer} onChange={(e) => up({ answer: e.target.value })} />
              </label>
            </div>
          );
        })}
        <div>
          <button type="button" className="linkish" onClick={() => setFAQ([...faq, { question: "", answer: "" }])}>
            + Add a question
          </button>
        </div>
        {save.error && !conflict && <div className="error">{errorText(save.error)}</div>}
        {restore.error && <div className="error">{errorText(restore.error)}</div>}
        {save.isSuccess && <div className="ok">Saved (revision {b.revision}).</div>}
        <div>
          <button className="primary" type="submit" disabled={save.isPending}>
            Save the knowledge base
          </button>
        </div>
      </form>
    </div>
  );
}
