// Small shared pieces: a dialog, a per-language text editor, a banner.
import { useEffect, useRef, type ReactNode } from "react";
import type { Text } from "./types";

export function Dialog({ title, onClose, children, wide }: { title: string; onClose(): void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  return (
    <dialog ref={ref} className={"dialog" + (wide ? " wide" : "")} onClose={onClose} onCancel={onClose} aria-label={title}>
      <div className="dialog-head">
        <h2>{title}</h2>
        <button className="icon" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </div>
      {children}
    </dialog>
  );
}

/** TextField edits a text in every language of the graph. */
export function TextField({
  label,
  value,
  languages,
  onChange,
  multiline = true,
  required,
}: {
  label: string;
  value: Text | undefined;
  languages: string[];
  onChange(v: Text | undefined): void;
  multiline?: boolean;
  required?: boolean;
}) {
  const v = value || {};
  return (
    <fieldset className="textfield">
      <legend>
        {label}
        {required && <span className="req"> *</span>}
      </legend>
      {languages.map((lang) => {
        const set = (s: string) => {
          const next = { ...v };
          if (s === "") delete next[lang];
          else next[lang] = s;
          onChange(Object.keys(next).length ? next : undefined);
        };
        return (
          <label key={lang} className="lang">
            <span className="code">{lang}</span>
            {multiline ? (
              <textarea rows={2} value={v[lang] || ""} onChange={(e) => set(e.target.value)} aria-label={label + " (" + lang + ")"} />
            ) : (
              <input value={v[lang] || ""} onChange={(e) => set(e.target.value)} aria-label={label + " (" + lang + ")"} />
            )}
          </label>
        );
      })}
    </fieldset>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty muted">{children}</div>;
}
