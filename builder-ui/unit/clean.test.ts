import { test } from "node:test";
import assert from "node:assert/strict";
import { cleanIdentity, cleanVars } from "../src/widget/frame/clean.js";

test("setVariables keeps what the hello accepts", () => {
  assert.deepEqual(cleanVars({ plan: "pro", seats: 20, trial: false, "bad name": 1, n: NaN, o: {}, big: "x".repeat(2000) }), { plan: "pro", seats: 20, trial: false });
  assert.equal(cleanVars(null), undefined);
  const many: Record<string, number> = {};
  for (let i = 0; i < 40; i++) many["v" + i] = i;
  assert.equal(Object.keys(cleanVars(many)!).length, 32);
});

test("identify needs a signature and an id or email", () => {
  assert.equal(cleanIdentity({ email: "ada@example.com" }), undefined);
  assert.deepEqual(cleanIdentity({ id: "u1", signature: "abc", extra: 1 }), { id: "u1", signature: "abc" });
  assert.deepEqual(cleanIdentity({ id: "u1", email: "a b@x", signature: "abc" }), { id: "u1", signature: "abc" });
});
