// Pieces of the admin forms (webhooks, team, tokens): a field's errors from
// an RFC 9457 problem, a copy button, and a secret shown once.
import { useId, useRef, useState, type ReactNode, type RefObject } from "react";
import { fieldMessages } from "./api";

/** FieldError shows the server's errors for one field (see fieldMessages),
 * right under it. */
export function FieldError({ error, at, id, exact }: { error: unknown; at: string; id?: string; exact?: boolean }) {
  const msgs = fieldMessages(error, at, exact);
  if (!msgs.length) return null;
  return (
    <div className="field-error" role="alert" id={id} data-field={at}>
      {msgs.join(" · ")}
    </div>
  );
}

/** The attributes Field gives its control: the label's target, and the
 * hint and the server's errors as its description. */
export interface FieldProps {
  id: string;
  "aria-describedby"?: string;
  "aria-invalid": boolean;
}

/** Field is a labelled control with an optional hint and the server's
 * errors for location at (see fieldMessages) right under it. The hint and
 * errors are outside the label, so they describe the control rather than
 * becoming part of its name. */
export function Field({
  label,
  hint,
  error,
  at,
  also,
  children,
}: {
  label: ReactNode;
  hint?: ReactNode;
  error: unknown;
  at: string;
  /** also is an error of this field that the problem does not name (such
   * as a 409 duplicate), shown the same way. */
  also?: string;
  children(p: FieldProps): ReactNode;
}) {
  const id = useId();
  const bad = fieldMessages(error, at).length > 0 || !!also;
  const described = [hint ? id + "-hint" : "", bad ? id + "-error" : ""].filter(Boolean).join(" ");
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, "aria-describedby": described || undefined, "aria-invalid": bad })}
      {hint && (
        <span className="muted small" id={id + "-hint"}>
          {hint}
        </span>
      )}
      {also ? (
        <div className="field-error" role="alert" id={id + "-error"} data-field={at}>
          {also}
        </div>
      ) : (
        <FieldError error={error} at={at} id={id + "-error"} />
      )}
    </div>
  );
}

/** copyText copies with the Clipboard API, and falls back to selecting the
 * field and execCommand where the API is missing or refused (a page that is
 * not a secure context, a denied permission). */
async function copyText(text: string, field: HTMLInputElement | HTMLTextAreaElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (!field) return false;
    field.focus();
    field.select();
    try {
      return document.execCommand("copy");
    } catch {
      return false;
    }
  }
}

/** CopyButton copies text; field is selected when it has to be copied by
 * hand. */
export function CopyButton({ text, field, label = "Copy" }: { text: string; field?: RefObject<HTMLInputElement | HTMLTextAreaElement | null>; label?: string }) {
  const [state, setState] = useState<"" | "copied" | "failed">("");
  return (
    <button
      type="button"
      onClick={() => {
        void copyText(text, field?.current ?? null).then((ok) => {
          setState(ok ? "copied" : "failed");
          setTimeout(() => setState(""), 2000);
        });
      }}
    >
      {state === "copied" ? "Copied" : state === "failed" ? "Select and copy it" : label}
    </button>
  );
}

/** ShownOnce shows a secret the server will not show again (a webhook's
 * signing secret, an API token), with a copy button and the warning. */
export function ShownOnce({ label, value, children }: { label: string; value: string; children?: ReactNode }) {
  const ref = useRef<HTMLInputElement>(null);
  return (
    <div className="shown-once" data-testid="shown-once">
      <div className="banner">
        <strong>Copy it now:</strong> it will not be shown again. {children}
      </div>
      <label>
        {label}
        <div className="row nowrap">
          <input ref={ref} readOnly className="mono grow" value={value} onFocus={(e) => e.currentTarget.select()} aria-label={label} />
          <CopyButton text={value} field={ref} />
        </div>
      </label>
    </div>
  );
}

const short = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit" });

/** when formats an optional time for tables, short: the year is rarely in
 * doubt in a log of recent deliveries. */
export function when(t?: string): string {
  return t ? short.format(new Date(t)) : "";
}
