// The publish dialog: saves the draft, replays the transcript tests, runs
// the checks, shows what changed since the live version, picks the
// channels, then publishes and connects (or disconnects) the channels.
import { useEffect, useState } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, del, errorText, get, post, put, type Diagnostic } from "../api";
import { useAuth } from "../auth";
import type { Channel, Graph } from "../types";
import { Dialog } from "../ui";
import { diffEmpty, diffGraphs, type GraphDiff } from "./graph";

/** ChannelOp is a change to a channel made after the version is published:
 * connect this assistant (replacing replaces, if any) or disconnect it. */
interface ChannelOp {
  id: string;
  name: string;
  action: "connect" | "disconnect";
  replaces?: string;
}

type OpResult = { state: "working" } | { state: "ok" } | { state: "failed"; error: string };

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
  const [step, setStep] = useState<"preparing" | "ready" | "publishing" | "channels" | "done" | "failed">("preparing");
  const [revision, setRevision] = useState(0);
  const [replay, setReplay] = useState<Replay | null>(null);
  const [errors, setErrors] = useState<Diagnostic[]>([]);
  const [warnings, setWarnings] = useState<Diagnostic[]>([]);
  const [diff, setDiff] = useState<GraphDiff | null>(null);
  const [error, setError] = useState("");
  const [published, setPublished] = useState(0);
  const { isAdmin } = useAuth();
  // Every channel of the workspace; connecting and disconnecting need an
  // admin, so a builder who is not one sees them without checkboxes.
  const channels = useQuery({ queryKey: ["channels"], queryFn: () => get<{ channels: Channel[] }>("/channels?limit=100") });
  // picked holds the boxes the user changed; the others show the channel
  // as it is (checked when it runs this assistant).
  const [picked, setPicked] = useState<Record<string, boolean>>({});
  const [plan, setPlan] = useState<ChannelOp[]>([]);
  const [results, setResults] = useState<Record<string, OpResult>>({});

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

  const list = channels.data?.channels || [];
  const runsHere = (c: Channel) => c.assistant?.id === assistantID;
  const isChecked = (c: Channel) => picked[c.id] ?? runsHere(c);
  // The changes the boxes ask for: a channel checked that does not run
  // this assistant is connected; one that runs it is disconnected only
  // when its box was unchecked.
  const ops: ChannelOp[] = list.flatMap((c): ChannelOp[] => {
    if (isChecked(c) && !runsHere(c)) return [{ id: c.id, name: c.name, action: "connect", replaces: c.assistant?.name || undefined }];
    if (!isChecked(c) && runsHere(c)) return [{ id: c.id, name: c.name, action: "disconnect" }];
    return [];
  });
  const opOf = (id: string) => ops.find((o) => o.id === id);

  /** runOps makes the channel changes one by one, each result shown next
   * to its channel. A failure leaves the published version as it is. */
  async function runOps(todo: ChannelOp[]) {
    setResults((r) => ({ ...r, ...Object.fromEntries(todo.map((o) => [o.id, { state: "working" } as OpResult])) }));
    for (const o of todo) {
      let res: OpResult;
      try {
        if (o.action === "connect") await put<Channel>(`/channels/${o.id}/assistant`, { assistant_id: assistantID });
        else await del<Channel>(`/channels/${o.id}/assistant`);
        res = { state: "ok" };
      } catch (e) {
        res = { state: "failed", error: errorText(e) };
      }
      setResults((r) => ({ ...r, [o.id]: res }));
    }
    void qc.invalidateQueries({ queryKey: ["channels"] });
    void qc.invalidateQueries({ queryKey: ["assistants"] });
    void qc.invalidateQueries({ queryKey: ["assistant", assistantID] });
  }

  async function publish() {
    setStep("publishing");
    setError("");
    const todo = isAdmin ? ops : [];
    try {
      const v = await post<{ number: number }>("/assistants/" + assistantID + "/versions", { revision });
      setPublished(v.number);
      void qc.invalidateQueries({ queryKey: ["assistant", assistantID] });
      void qc.invalidateQueries({ queryKey: ["assistants"] });
      void qc.invalidateQueries({ queryKey: ["versions", assistantID] });
    } catch (e) {
      if (e instanceof ApiError && e.diagnostics.length) {
        setErrors(e.diagnostics.filter((d) => d.severity === "error"));
      }
      setError(errorText(e));
      setStep("ready");
      return;
    }
    setPlan(todo);
    if (todo.length) {
      setStep("channels");
      await runOps(todo);
    }
    setStep("done");
  }

  const failed = plan.filter((o) => results[o.id]?.state === "failed");
  async function retry() {
    setStep("channels");
    await runOps(failed);
    setStep("done");
  }

  const blocked = errors.length > 0;
  const editable = isAdmin && step === "ready";
  const willRun = list.filter(isChecked).length;
  const changes = (label: string, ids: string[]) =>
    ids.length > 0 && (
      <li>
        {label}: <code>{ids.join(", ")}</code>
      </li>
    );
  return (
    <Dialog title="Publish" onClose={onClose} wide>
      <div className="stack publish" data-testid="publish-dialog">
        {step === "preparing" && <div className="muted">Saving, replaying the transcript tests and checking…</div>}
        {(step === "done" || step === "channels") && (
          <div className="ok" role="status">
            Published version {published}. New chats use it; chats in progress stay on their version.
            {step === "channels" && " Updating the channels…"}
          </div>
        )}
        {step === "done" && failed.length > 0 && (
          <div className="banner disconnect" role="alert" data-testid="channel-failures">
            Version {published} is published and stays published: a channel change that fails does not undo it. {failed.length === 1 ? "One channel change" : failed.length + " channel changes"}{" "}
            failed (see below): retry, or make it on the Channels page.{" "}
            <button type="button" onClick={() => void retry()}>
              Retry
            </button>
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
                    {changes("Nodes added", diff.nodesAdded)}
                    {changes("Nodes removed", diff.nodesRemoved)}
                    {changes("Nodes changed", diff.nodesChanged)}
                    {changes("Edges added", diff.edgesAdded)}
                    {changes("Edges removed", diff.edgesRemoved)}
                    {changes("Edges changed", diff.edgesChanged)}
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
        {step !== "preparing" && step !== "failed" && (
          <section aria-label="Channels" data-testid="publish-channels">
            <h3>Channels</h3>
            {channels.isLoading && <div className="muted">Loading the channels…</div>}
            {channels.error && <div className="error">The channels could not be loaded: {errorText(channels.error)}</div>}
            {channels.isSuccess && list.length === 0 && <div className="muted">No channels yet: an admin adds one on the Channels page.</div>}
            {list.length > 0 && (
              <>
                <div className="muted small">
                  {isAdmin
                    ? "Check the channels that should run this assistant; it goes live on them once published."
                    : "Only admins and the owner can change which channels run an assistant; this version goes live on the channels checked below."}
                </div>
                <ul className="publish-channels">
                  {list.map((c) => {
                    const op = step === "ready" || step === "publishing" ? opOf(c.id) : undefined;
                    const res = results[c.id];
                    return (
                      <li key={c.id} data-testid={"publish-channel-" + c.id}>
                        <label className="check">
                          <input
                            type="checkbox"
                            checked={isChecked(c)}
                            disabled={!editable}
                            onChange={(e) => {
                              const on = e.target.checked;
                              setPicked((p) => ({ ...p, [c.id]: on }));
                            }}
                          />
                          <span>
                            <strong>{c.name}</strong>{" "}
                            <span className="muted small">
                              {runsHere(c) ? "runs this assistant" : c.assistant ? "runs “" + c.assistant.name + "”" : "no assistant: its default response answers"}
                            </span>
                          </span>
                        </label>
                        {op?.action === "connect" && op.replaces && (
                          <div className="banner replace" role="alert" data-testid="replace-warning">
                            <strong>{c.name}</strong> currently runs “{op.replaces}”; publishing will replace it for new chats; chats already running stay on their version.
                          </div>
                        )}
                        {op?.action === "connect" && !op.replaces && <div className="muted small result">New chats on {c.name} will get this assistant.</div>}
                        {op?.action === "disconnect" && (
                          <div className="banner disconnect" role="alert" data-testid="disconnect-warning">
                            <strong>{c.name}</strong> will stop running this assistant: new chats there get the channel's default response until another assistant is connected; chats
                            already running stay on their version.
                          </div>
                        )}
                        {res?.state === "working" && <div className="muted result">Updating…</div>}
                        {res?.state === "ok" && (
                          <div className="ok result" data-testid="channel-result">
                            ✓ {plan.find((o) => o.id === c.id)?.action === "disconnect" ? "Disconnected" : "Connected: new chats get version " + published}
                          </div>
                        )}
                        {res?.state === "failed" && (
                          <div className="field-error" role="alert" data-testid="channel-result">
                            Not {plan.find((o) => o.id === c.id)?.action === "disconnect" ? "disconnected" : "connected"}: {res.error}
                          </div>
                        )}
                      </li>
                    );
                  })}
                </ul>
                {editable && willRun === 0 && <div className="muted small">No channel will run this assistant: visitors will not see it (the preview still does).</div>}
                {editable && ops.length > 0 && (
                  <div className="muted small">
                    The channels change after the version is published; if a change fails, the version stays published and the failure is shown next to its channel.
                  </div>
                )}
              </>
            )}
          </section>
        )}
        {error && <div className="error" role="alert">{error}</div>}
        <div className="row end">
          <button onClick={onClose}>{step === "done" || step === "channels" ? "Close" : "Cancel"}</button>
          {step !== "done" && (
            <button className="primary" disabled={step !== "ready" || blocked} onClick={() => void publish()} title={blocked ? "Fix the errors first" : undefined}>
              {step === "publishing" || step === "channels"
                ? "Publishing…"
                : blocked
                  ? "Fix " + errors.length + " error(s) to publish"
                  : isAdmin && ops.length > 0
                    ? "Publish and update " + (ops.length === 1 ? "1 channel" : ops.length + " channels")
                    : "Publish"}
            </button>
          )}
        </div>
      </div>
    </Dialog>
  );
}
