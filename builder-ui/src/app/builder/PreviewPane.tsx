// The preview pane: a test chat on the saved draft (POST /preview), with
// the messages, quick replies, timers skipped on demand, the variables, and
// "save as transcript test". The path goes up to the canvas, which
// highlights it. A save of the draft makes the server answer 409
// preview_restart: the pane starts a new preview (and says it again).
// Saving the chat as a transcript test holds autosave meanwhile: the server
// refuses a chat whose draft revision is no longer the draft's.
import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { ApiError, errorText, post } from "../api";

export interface PreviewMessage {
  author: "visitor" | "bot" | "agent" | "system";
  body: string;
  payload?: { author_name?: string; quick_replies?: { label: string; value: string }[] } | null;
}

export interface PreviewView {
  conversation_id: string;
  draft_revision: number;
  status: string;
  node?: string;
  waiting?: string;
  path: string[];
  vars: Record<string, unknown>;
  language?: string;
  messages: PreviewMessage[];
}

interface Props {
  assistantID: string;
  /** flush saves pending edits first, so the preview runs what is on screen. */
  flush(): Promise<number>;
  /** hold keeps autosave from saving until the returned release is called. */
  hold(): () => void;
  onPath(path: string[], node: string | undefined): void;
  onClose(): void;
}

export function PreviewPane({ assistantID, flush, hold, onPath, onClose }: Props) {
  const [view, setView] = useState<PreviewView | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [note, setNote] = useState("");
  const [text, setText] = useState("");
  const [name, setName] = useState("");
  const [saved, setSaved] = useState("");
  const listRef = useRef<HTMLDivElement>(null);
  const base = "/assistants/" + assistantID + "/preview";

  const show = useCallback(
    (v: PreviewView) => {
      setView(v);
      onPath(v.path, v.node);
    },
    [onPath],
  );

  const start = useCallback(async () => {
    await flush();
    const v = await post<PreviewView>(base, {});
    show(v);
    setSaved("");
    return v;
  }, [base, flush, show]);

  /** run does one action on the preview; on preview_restart it starts a
   * new preview and, when again is given, does it there. */
  const run = useCallback(
    async (act: (conv: string) => Promise<PreviewView>, again: boolean) => {
      setBusy(true);
      setError("");
      setNote("");
      try {
        let conv = view?.conversation_id;
        if (!conv) conv = (await start()).conversation_id;
        try {
          show(await act(conv));
        } catch (e) {
          if (!(e instanceof ApiError && e.status === 409 && e.code === "preview_restart")) throw e;
          const v = await start();
          setNote("The draft changed: the preview restarted.");
          if (again) show(await act(v.conversation_id));
        }
      } catch (e) {
        setError(errorText(e));
      } finally {
        setBusy(false);
      }
    },
    [view, start, show],
  );

  const restart = useCallback(async () => {
    setBusy(true);
    setError("");
    setNote("");
    try {
      await start();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }, [start]);

  // Start when opened; clear the highlight when closed.
  useEffect(() => {
    void restart();
    return () => onPath([], undefined);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    const el = listRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [view]);

  const say = (t: string) => {
    const s = t.trim();
    if (!s || busy) return;
    setText("");
    void run((conv) => post<PreviewView>(base + "/" + conv + "/messages", { text: s }), true);
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    say(text);
  };

  const saveTranscript = async () => {
    // The chat on screen is the one saved, whatever happens to the pane
    // while the request is out.
    const conv = view?.conversation_id;
    if (!conv) return;
    const n = name.trim() || "Preview " + new Date().toISOString().slice(0, 16).replace("T", " ");
    setBusy(true);
    setError("");
    setNote("");
    setSaved("");
    // An autosave landing while this request is out would make the server
    // refuse the chat (its draft revision would be stale), so autosave
    // waits; edits made meanwhile are saved right after.
    const release = hold();
    let restart = false;
    try {
      await post(base + "/" + conv + "/transcript", { name: n });
      setSaved(n);
      setName("");
    } catch (e) {
      if (e instanceof ApiError && e.status === 409 && e.code === "preview_restart") restart = true;
      else setError(errorText(e));
    } finally {
      release();
    }
    if (restart) {
      // The draft was saved before the click: this chat ran an older
      // draft, which a transcript test must not record.
      try {
        await start();
        setNote("The draft changed since this preview started; it restarted. Chat again, then save.");
      } catch (e) {
        setError(errorText(e));
      }
    }
    setBusy(false);
  };

  const msgs = view?.messages || [];
  const last = msgs.length ? msgs[msgs.length - 1] : null;
  const replies = last && (last.author === "bot" || last.author === "agent") ? last.payload?.quick_replies || [] : [];
  const vars = Object.entries(view?.vars || {});

  return (
    <aside className="preview-pane" aria-label="Preview" data-testid="preview-pane">
      <div className="preview-head">
        <strong>Preview</strong>
        {view && (
          <span className="muted small" data-testid="preview-status">
            {view.status}
            {view.waiting ? " · waiting " + view.waiting : ""} · rev {view.draft_revision}
          </span>
        )}
        <span className="grow" />
        <button onClick={() => void restart()} disabled={busy} title="Start a new preview chat">
          Restart
        </button>
        <button
          onClick={() => void run((conv) => post<PreviewView>(base + "/" + conv + "/skip", {}), false)}
          disabled={busy || !view}
          title="Fire the pending timers now"
        >
          Skip timers
        </button>
        <button className="icon" onClick={onClose} aria-label="Close the preview">
          ×
        </button>
      </div>
      {note && <div className="banner small">{note}</div>}
      {error && (
        <div className="error small pad-s" role="alert">
          {error}
        </div>
      )}
      <div className="preview-list" ref={listRef} data-testid="preview-messages">
        {msgs.map((m, i) => (
          <div key={i} className={"pmsg " + m.author} data-author={m.author}>
            {m.author === "agent" && m.payload?.author_name && <div className="muted small">{m.payload.author_name}</div>}
            <div className="pbody">{m.body}</div>
          </div>
        ))}
        {!view && !error && <div className="muted small">Starting…</div>}
      </div>
      {replies.length > 0 && (
        <div className="preview-qr">
          {replies.map((q, i) => (
            <button key={i} onClick={() => say(q.label)} disabled={busy}>
              {q.label}
            </button>
          ))}
        </div>
      )}
      <form className="preview-compose" onSubmit={onSubmit}>
        <input aria-label="Say something" placeholder="Say something…" value={text} onChange={(e) => setText(e.target.value)} maxLength={4000} />
        <button type="submit" className="primary" disabled={busy || !text.trim()}>
          Send
        </button>
      </form>
      <details className="preview-vars" open>
        <summary>Variables ({vars.length})</summary>
        {vars.length === 0 ? (
          <div className="muted small">None yet</div>
        ) : (
          <dl data-testid="preview-vars">
            {vars.map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd>{typeof v === "string" ? v : JSON.stringify(v)}</dd>
              </div>
            ))}
          </dl>
        )}
      </details>
      <div className="preview-save">
        <input aria-label="Test name" placeholder="Test name" value={name} onChange={(e) => setName(e.target.value)} maxLength={200} />
        <button onClick={() => void saveTranscript()} disabled={busy || !view || msgs.length === 0}>
          Save as transcript test
        </button>
        {saved && (
          <div className="ok small" role="status">
            Saved the transcript test “{saved}”.
          </div>
        )}
      </div>
    </aside>
  );
}
