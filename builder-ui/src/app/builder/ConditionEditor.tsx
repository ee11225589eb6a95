// ConditionEditor edits an expr-lang condition and underlines the fault
// the checks report, at its position, as you type: a transparent textarea
// over a backdrop that repeats the text with the fault marked.
import { useRef } from "react";
import type { Diagnostic } from "../api";
import { runeRange } from "./graph";

export function ConditionEditor({
  value,
  onChange,
  diagnostics,
  label = "Condition",
  placeholder = "always (the default edge)",
  checking,
}: {
  value: string;
  onChange(v: string): void;
  diagnostics: Diagnostic[];
  label?: string;
  placeholder?: string;
  checking?: boolean;
}) {
  const back = useRef<HTMLDivElement>(null);
  // The first positioned fault is underlined; every message is listed.
  const d = diagnostics.find((x) => x.offset !== undefined || x.end !== undefined || x.column !== undefined) || diagnostics[0];
  let marked: [number, number] | null = null;
  if (d && value) {
    if (d.offset !== undefined || d.end !== undefined) {
      marked = runeRange(value, d.offset || 0, d.end || 0);
    } else if (d.line && d.column) {
      // Line and column (1-based, in runes) when no range is given.
      const lines = value.split("\n");
      const before = lines.slice(0, d.line - 1).reduce((n, l) => n + Array.from(l).length + 1, 0);
      marked = runeRange(value, before + d.column - 1, before + d.column);
    } else {
      marked = [0, value.length];
    }
  }
  const sync = (e: React.UIEvent<HTMLTextAreaElement>) => {
    if (back.current) {
      back.current.scrollTop = e.currentTarget.scrollTop;
      back.current.scrollLeft = e.currentTarget.scrollLeft;
    }
  };
  return (
    <div className="cond">
      <label className="cond-label">
        {label}
        {checking && <span className="muted small"> checking…</span>}
      </label>
      <div className={"cond-box" + (d ? " bad" : "")}>
        <div className="cond-back" ref={back} aria-hidden="true">
          {marked ? (
            <>
              {value.slice(0, marked[0])}
              <mark className="cond-err" data-testid="condition-error">
                {value.slice(marked[0], marked[1]) || " "}
              </mark>
              {value.slice(marked[1])}
            </>
          ) : (
            value
          )}
          {"\n"}
        </div>
        <textarea
          className="cond-input"
          value={value}
          spellCheck={false}
          autoCapitalize="off"
          autoCorrect="off"
          placeholder={placeholder}
          rows={3}
          aria-label={label}
          aria-invalid={!!d}
          onScroll={sync}
          onChange={(e) => onChange(e.target.value)}
        />
      </div>
      {diagnostics.map((x, i) => (
        <div key={i} className={"diag " + x.severity} role={x.severity === "error" ? "alert" : undefined}>
          {x.line ? `(${x.line}:${x.column}) ` : ""}
          {x.message}
        </div>
      ))}
    </div>
  );
}
