import type { Diagnostic } from "../api";

/** ChecksPanel lists every finding; a click focuses its node or edge. */
export function ChecksPanel({ errors, warnings, checking, onFocus, onClose }: { errors: Diagnostic[]; warnings: Diagnostic[]; checking: boolean; onFocus(d: Diagnostic): void; onClose(): void }) {
  const all = [...errors, ...warnings];
  return (
    <div className="checks" data-testid="checks">
      <div className="checks-head">
        <strong>Checks</strong>
        <span className="muted small">
          {checking ? "checking…" : errors.length + " error(s), " + warnings.length + " warning(s)"}
        </span>
        <button className="icon" aria-label="Close the checks" onClick={onClose}>
          ×
        </button>
      </div>
      {all.length === 0 && <div className="muted pad">No problems: ready to publish.</div>}
      <ul>
        {all.map((d, i) => (
          <li key={i}>
            <button className={"check-item " + d.severity} onClick={() => onFocus(d)}>
              <span className={"sev " + d.severity}>{d.severity}</span>
              <span className="where">{[d.node && "node " + d.node, d.edge && "edge " + d.edge, d.rule && "rule " + d.rule, d.field].filter(Boolean).join(", ")}</span>
              <span className="msg">
                {d.line ? `(${d.line}:${d.column}) ` : ""}
                {d.message}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
