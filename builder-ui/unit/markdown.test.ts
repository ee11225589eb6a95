// The widget's markdown subset: what becomes bold, italics, links and
// lists, and that nothing else turns into markup.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parse, safeHref, plain } from "../src/widget/markdown.js";

test("bold, italics and links", () => {
  assert.deepEqual(parse("**Hi** _there_, see [our pricing](https://example.com/p)."), [
    {
      t: "p",
      c: [
        { t: "b", c: [{ t: "text", v: "Hi" }] },
        { t: "text", v: " " },
        { t: "i", c: [{ t: "text", v: "there" }] },
        { t: "text", v: ", see " },
        { t: "a", href: "https://example.com/p", c: [{ t: "text", v: "our pricing" }] },
        { t: "text", v: "." },
      ],
    },
  ]);
});

test("bare URLs become links without their trailing punctuation", () => {
  assert.deepEqual(parse("Go to https://example.com/a?b=1."), [
    { t: "p", c: [{ t: "text", v: "Go to " }, { t: "a", href: "https://example.com/a?b=1", c: [{ t: "text", v: "https://example.com/a?b=1" }] }, { t: "text", v: "." }] },
  ]);
});

test("only http, https and mailto links are links", () => {
  for (const bad of ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "java\nscript:alert(1)", "data:text/html,<script>", "vbscript:x", "//evil.example", "/relative", "https:/x", " javascript:x"]) {
    assert.equal(safeHref(bad), "", bad);
  }
  assert.equal(safeHref("mailto:ada@example.com"), "mailto:ada@example.com");
  assert.equal(safeHref("http://example.com"), "http://example.com");
  const blocks = parse("[click](javascript:alert(1))");
  assert.equal(JSON.stringify(blocks).includes('"t":"a"'), false);
  assert.equal(plain(blocks), "[click](javascript:alert(1))");
});

test("HTML is text", () => {
  const s = '<img src=x onerror="alert(1)"><script>alert(2)</script><svg onload=alert(3)>';
  assert.deepEqual(parse(s), [{ t: "p", c: [{ t: "text", v: s }] }]);
});

test("lists", () => {
  assert.deepEqual(parse("Plans:\n- **Starter**\n- Pro\n\n1. one\n2. two"), [
    { t: "p", c: [{ t: "text", v: "Plans:" }] },
    { t: "ul", items: [[{ t: "b", c: [{ t: "text", v: "Starter" }] }], [{ t: "text", v: "Pro" }]] },
    { t: "ol", start: 1, items: [[{ t: "text", v: "one" }], [{ t: "text", v: "two" }]] },
  ]);
});

test("snake_case, lone stars and unclosed marks stay text", () => {
  assert.equal(plain(parse("use vars.company_size and 2 * 3 * 4")), "use vars.company_size and 2 * 3 * 4");
  assert.equal(plain(parse("**not closed")), "**not closed");
  assert.deepEqual(parse("a\nb"), [{ t: "p", c: [{ t: "text", v: "a" }, { t: "br" }, { t: "text", v: "b" }] }]);
});

test("deep nesting and long input are bounded", () => {
  const deep = "*".repeat(5000) + "x" + "*".repeat(5000);
  const t0 = Date.now();
  parse(deep);
  parse("[".repeat(20000));
  parse("_a ".repeat(10000));
  assert.ok(Date.now() - t0 < 2000, "parsing hostile input took too long");
});
