// The publish dialog: saves the draft, replays the transcript tests, runs
// the checks, shows what changed since the live version, then publishes.
import { useEffect, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { ApiError, errorText, get, post, type Diagnostic } from "../api";
import type { Graph } from "../types";
import { Dialog } from "../ui";
import { diffEmpty, diffGraphs, type GraphDiff } from "./graph";

interface Replay {
  changed: number;
  results: { id: string; name: string; ok: boolean; error?: string; differences?: { step: number; action: string; field: string; want: string; got: string }[] | null }[] | null;
}

export function PublishDialog({
  assistantID,
  graph,
  latestVersion,
  flush,
  onClose,
  onFocus,
}: {
  assistantID: string;
  graph: Graph;
  latestVersion: number;
  flush(): Promise<number>;
  onClose(): void;
  onFocus(d: Diagnostic): void;
}) {
  const qc = useQueryClient();
  const [step, setStep] = useState<"preparing" | "ready" | "publishing" | "done" | "failed">("preparing");
  const [revision, setRevision] = useState(0);
  const [replay, setReplay] = useState<Replay | null>(null);
  const [errors, setErrors] = useState<Diagnostic[]>([]);
  const [warnings, setWarnings] = useState<Diagnostic[]>([]);
  const [diff, setDiff] = useState<GraphDiff | null>(null);
  const [error, setError] = useState("");
  const [published, setPublished] = useState(0);

  useEffect(() => {
    let stop = false;
    (async () => {
      try {
        const rev = await flush();
        const [rp, ck, live] = await Promise.all([
          post<Replay>("/assistants/" + assistantID + "/draft/replay"),
          post<{ errors: Diagnostic[] | null; warnings: Diagnostic[] | null }>("/assistants/" + assistantID + "/draft/check", { graph }),
          latestVersion > 0 ? get<{ graph: Graph }>("/assistants/" + assistantID + "/versions/" + latestVersion) : Promise.resolve(null),
        ]);
        if (stop) return;
        setRevision(rev);
        setReplay(rp);
        setErrors(ck.errors || []);
        setWarnings(ck.warnings || []);
        setDiff(diffGraphs(live?.graph, graph));
        setStep("ready");
      } catch (e) {
        if (!stop) {
          setError(errorText(e));
          setStep("failed");
        }
      }
    })();
    return () => {
      stop = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  async function publish() {
    setStep("publishing");
    setError("");
    try {
      const v = await post<{ number: number }>("/assistants/" + assistantID + "/versions", { revision });
      setPublished(v.number);
      setStep("done");
      void qc.invalidateQueries({ queryKey: ["assistant", assistantID] });
      void qc.invalidateQueries({ queryKey: ["assistants"] });
      void qc.invalidateQueries({ queryKey: ["versions", assistantID] });
    } catch (e) {
      if (e instanceof ApiError && e.diagnostics.length) {
        setErrors(e.diagnostics.filter((d) => d.severity === "error"));
      }
      setError(errorText(e));
      setStep("ready");
    }
  }

  const blocked = errors.length > 0;
  const list = (label: string, ids: string[]) =>
    ids.length > 0 && (
      <li>
        {label}: <code>{ids.join(", ")}</code>
      </li>
    );
  return (
    <Dialog title="Publish" onClose={onClose} wide>
      <div className="stack publish" data-testid="publish-dialog">
        {step === "preparing" && <div className="muted">Saving, replaying the transcript tests and checking…</div>}
        {step === "done" && (
          <div className="ok" role="status">
            Published version {published}. New chats use it; chats in progress stay on their version.
          </div>
        )}
        {(step === "ready" || step === "publishing") && (
          <>
            <section>
              <h3>What changed {latestVersion > 0 ? "since v" + latestVersion : "(first version)"}</h3>
              {diff && diffEmpty(diff) ? (
                <div className="muted">Nothing changed since the live version.</div>
              ) : (
                diff && (
                  <ul className="diff">
                    {list("Nodes added", diff.nodesAdded)}
                    {list("Nodes removed", diff.nodesRemoved)}
                    {list("Nodes changed", diff.nodesChanged)}
                    {list("Edges added", diff.edgesAdded)}
                    {list("Edges removed", diff.edgesRemoved)}
                    {list("Edges changed", diff.edgesChanged)}
                    {diff.other.length > 0 && <li>Also: {diff.other.join(", ")}</li>}
                  </ul>
                )
              )}
            </section>
            <section>
              <h3>Transcript tests</h3>
              {!replay?.results?.length ? (
                <div className="muted">No saved transcript tests. Save preview chats as tests to catch changes here.</div>
              ) : (
                <ul className="replay">
                  {replay.results.map((r) => (
                    <li key={r.id} className={r.ok ? "ok" : "changed"}>
                      {r.ok ? "✓" : "✗"} {r.name}
                      {r.error && <div className="diag error">{r.error}</div>}
                      {(r.differences || []).slice(0, 5).map((d, i) => (
                        <div key={i} className="diag warning">
                          step {d.step} ({d.action}): {d.field}: want “{d.want}”, got “{d.got}”
                        </div>
                      ))}
                    </li>
                  ))}
                </ul>
              )}
            </section>
            <section>
              <h3>Checks</h3>
              {errors.length === 0 && warnings.length === 0 && <div className="muted">No problems.</div>}
              {[...errors, ...warnings].map((d, i) => (
                <button
                  key={i}
                  className={"check-item " + d.severity}
                  onClick={() => {
                    onFocus(d);
                    onClose();
                  }}
                >
                  <span className={"sev " + d.severity}>{d.severity}</span> {d.node && "node " + d.node + ": "}
                  {d.message}
                </button>
              ))}
            </section>
          </>
        )}
        {error && <div className="error" role="alert">{error}</div>}
        <div className="row end">
          <button onClick={onClose}>{step === "done" ? "Close" : "Cancel"}</button>
          {step !== "done" && (
            <button className="primary" disabled={step !== "ready" || blocked} onClick={() => void publish()} title={blocked ? "Fix the errors first" : undefined}>
              {step === "publishing" ? "Publishing…" : blocked ? "Fix " + errors.length + " error(s) to publish" : "Publish"}
            </button>
          )}
        </div>
      </div>
    </Dialog>
  );
}
