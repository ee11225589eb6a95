// Export and import of the draft as a playbook file (docs/playbook-format.md):
// export downloads GET /export; import sends the chosen file to
// POST /draft/import?revision=N and reloads the draft, or shows why not.
import { useRef, useState } from "react";
import { ApiError, apiText, errorText } from "../api";

interface Props {
  assistantID: string;
  name: string;
  /** flush saves pending edits and returns the revision. */
  flush(): Promise<number>;
  reload(): Promise<void>;
  disabled: boolean;
}

export function FileButtons({ assistantID, name, flush, reload, disabled }: Props) {
  const input = useRef<HTMLInputElement>(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<{ detail: string; errors: string[] } | null>(null);
  const [done, setDone] = useState("");

  const exportFile = async () => {
    setBusy(true);
    setProblem(null);
    setDone("");
    try {
      await flush();
      const text = await apiText("GET", "/assistants/" + assistantID + "/export");
      const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
      const a = document.createElement("a");
      a.href = url;
      a.download = (name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "assistant") + ".json";
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setProblem({ detail: "Export failed: " + errorText(e), errors: [] });
    } finally {
      setBusy(false);
    }
  };

  const importFile = async (file: File) => {
    setBusy(true);
    setProblem(null);
    setDone("");
    try {
      const text = await file.text();
      const rev = await flush();
      await apiText("POST", "/assistants/" + assistantID + "/draft/import?revision=" + rev, text);
      await reload();
      setDone("Imported " + file.name + ".");
    } catch (e) {
      if (e instanceof ApiError) {
        const errors = [
          ...e.errors.map((x) => (x.location ? x.location + ": " : "") + (x.message || "")),
          ...e.diagnostics.map((x) => (x.line ? "line " + x.line + (x.column ? ":" + x.column : "") + ": " : "") + x.message),
        ].filter(Boolean);
        setProblem({ detail: "Import failed: " + e.message, errors });
      } else setProblem({ detail: "Import failed: " + errorText(e), errors: [] });
    } finally {
      setBusy(false);
      if (input.current) input.current.value = "";
    }
  };

  return (
    <>
      <button onClick={() => void exportFile()} disabled={busy || disabled} title="Download the draft as a playbook file">
        Export
      </button>
      <button onClick={() => input.current?.click()} disabled={busy || disabled} title="Replace the draft with a playbook file">
        Import…
      </button>
      <input
        ref={input}
        type="file"
        accept="application/json,.json"
        hidden
        aria-label="Playbook file to import"
        data-testid="import-file"
        onChange={(e) => {
          const f = e.target.files?.[0];
          if (f) void importFile(f);
        }}
      />
      {done && (
        <span className="ok small" role="status">
          {done}
        </span>
      )}
      {problem && (
        <div className="banner errorbar file-problem" role="alert" data-testid="import-problem">
          <div>
            <strong>{problem.detail}</strong>
            {problem.errors.length > 0 && (
              <ul>
                {problem.errors.map((x, i) => (
                  <li key={i}>{x}</li>
                ))}
              </ul>
            )}
          </div>
          <button className="icon" onClick={() => setProblem(null)} aria-label="Dismiss">
            ×
          </button>
        </div>
      )}
    </>
  );
}
