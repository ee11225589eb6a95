// What the host page passes through identify() and setVariables() is
// checked here against the hello's rules (docs/websocket.md), so a bad
// value is dropped with a warning instead of making the server refuse the
// hello (which closes the socket with 4000).

const varName = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export function cleanVars(v: unknown): Record<string, string | number | boolean> | undefined {
  if (!v || typeof v !== "object") return undefined;
  const out: Record<string, string | number | boolean> = {};
  let n = 0;
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (n >= 32) {
      console.warn("Frontdesk: at most 32 variables; dropped", k);
      continue;
    }
    if (!varName.test(k)) {
      console.warn("Frontdesk: bad variable name", k);
      continue;
    }
    if (typeof val === "boolean" || (typeof val === "number" && Number.isFinite(val))) {
      out[k] = val;
    } else if (typeof val === "string" && new TextEncoder().encode(val).length <= 1024 && !val.includes("\u0000")) {
      out[k] = val;
    } else {
      console.warn("Frontdesk: bad value for variable", k);
      continue;
    }
    n++;
  }
  return n ? out : undefined;
}

export function cleanIdentity(v: unknown): Record<string, string> | undefined {
  if (!v || typeof v !== "object") return undefined;
  const src = v as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const k of ["id", "email", "name", "signature"]) {
    const val = src[k];
    if (typeof val === "string" && val && val.length <= 254 && !/[\u0000-\u001f\u007f]/.test(val)) out[k] = val;
  }
  if (out.email && /[\s<>,;"]/.test(out.email)) delete out.email;
  if (!out.signature || (!out.id && !out.email)) {
    console.warn("Frontdesk: identify() needs a signature and an id or email");
    return undefined;
  }
  return out;
}
