// Browser tests of the widget and the admin app against the real server.
// One server (frontdesk --demo on a temp database) and one Chromium serve
// every test; screenshots go to artifacts/ui/.
import { before, after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Server, Owner, hostSite, browser, upgradeStatus, shot, sleep } from "./harness.mjs";

let server, owner, site, chrome;

before(async () => {
  server = await new Server().start();
  owner = await new Owner(server.url).login();
  site = await hostSite(server.url, server.key);
  await owner.allowOrigin(server.key, site.origin);
  chrome = await browser();
});

after(async () => {
  await chrome?.close();
  await site?.close();
  await server?.stop();
  server?.cleanup();
});

/** widgetFrame returns the chat frame of a page. */
async function widgetFrame(page) {
  const handle = await page.waitForSelector("iframe[data-frontdesk]", { state: "attached" });
  const frame = await handle.contentFrame();
  await frame.waitForSelector(".fd");
  return frame;
}

const texts = (frame) => frame.$$eval(".list .msg .body", (els) => els.map((e) => e.textContent));

async function signIn(page) {
  await page.goto(server.url + "/app/");
  await page.getByLabel("Email").fill("admin@demo.frontdesk.test");
  await page.getByLabel("Password").fill("frontdesk-demo");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("link", { name: "Assistants" }).waitFor();
}

describe("widget", () => {
  test("a visitor on another origin chats, reloads, and survives a server restart without losing or doubling a message", async () => {
    const ctx = await chrome.newContext({ viewport: { width: 375, height: 667 } });
    const page = await ctx.newPage();
    const frameHeaders = [];
    page.on("response", (r) => {
      if (r.url().includes("/widget/frame.html")) frameHeaders.push(r.headers());
    });
    await page.goto(site.url);
    let frame = await widgetFrame(page);
    // The frame is Frontdesk's, locked to the host page's origin.
    assert.equal(new URL(frame.url()).origin, server.url);
    assert.match(frameHeaders[0]["content-security-policy"], new RegExp("frame-ancestors " + site.origin.replace(/[.:/]/g, "\\$&") + "$"));
    assert.match(frameHeaders[0]["content-security-policy"], /script-src 'self';/);

    await page.click("#open"); // the host page's JS API
    await frame.getByText("Looking for the right plan").waitFor();
    await frame.getByRole("button", { name: "Get a quote" }).click();
    await frame.getByText("How many people work at your company?").waitFor();
    await frame.getByRole("textbox").fill("50");
    await frame.getByRole("textbox").press("Enter");
    await frame.locator(".msg.bot").nth(2).waitFor();
    await shot(page, "widget-mobile-chat");
    const before = await texts(frame);
    assert.deepEqual(before.slice(0, 4), [before[0], "Get a quote", "How many people work at your company?", "50"]);

    // The host page heard the messages and the open through Frontdesk.on.
    const events = await page.evaluate(() => window.__fd);
    assert.ok(events.some((e) => e[0] === "open"));
    assert.ok(events.some((e) => e[0] === "message" && e[1].text === "50" && e[1].author === "visitor"));

    // Reload mid-chat: the same history, once, and the panel still open.
    await page.reload();
    frame = await widgetFrame(page);
    await frame.locator(".msg.bot").nth(2).waitFor();
    await sleep(500); // let a replay, if any, arrive
    assert.deepEqual(await texts(frame), before);

    // A network drop: the server goes away, the visitor writes, the server
    // comes back; the message is sent once and the bot answers it.
    await server.stop();
    await frame.getByRole("textbox").fill("1000");
    await frame.getByRole("textbox").press("Enter");
    await frame.locator(".msg.visitor.pending").waitFor();
    await shot(page, "widget-mobile-offline");
    await server.start();
    await frame.locator(".msg.visitor.pending").waitFor({ state: "detached", timeout: 45_000 });
    await frame.locator(".msg.bot").nth(3).waitFor({ timeout: 15_000 });
    await sleep(500);
    const after = await texts(frame);
    assert.equal(after.filter((t) => t === "1000").length, 1, "the message is shown once: " + JSON.stringify(after));
    assert.deepEqual(after.slice(0, before.length), before);
    // And the server stored it once.
    const conv = (await owner.call("GET", "/inbox?folder=bot&limit=50")).conversations;
    const detail = await Promise.all(conv.map((c) => owner.call("GET", "/conversations/" + c.id + "?limit=200")));
    const mine = detail.find((d) => (d.messages || []).some((m) => m.body === "50"));
    assert.equal(mine.messages.filter((m) => m.body === "1000").length, 1);
    await shot(page, "widget-mobile-resumed");
    await ctx.close();
  });

  test("a page cannot frame the chat while claiming another site's origin", async () => {
    // A page on another origin loads the frame with the customer's origin
    // in the URL: frame-ancestors stops it from rendering.
    const evil = await hostSite(server.url, server.key, {
      page: (fd, key) =>
        `<!doctype html><title>evil</title><iframe id="f" src="${fd}/widget/frame.html?key=${key}&origin=${encodeURIComponent(site.origin)}"></iframe>`,
    });
    const ctx = await chrome.newContext();
    const page = await ctx.newPage();
    await page.goto(evil.url.replace("localhost", "127.0.0.1"));
    await sleep(1500);
    const frame = page.frames().find((f) => f !== page.mainFrame());
    const rendered = frame ? await frame.evaluate(() => !!document.querySelector(".fd")).catch(() => false) : false;
    assert.equal(rendered, false, "the chat frame rendered inside a page of another origin");
    await ctx.close();
    await evil.close();
  });

  test("the socket checks the host page's origin, not the frame's", async (t) => {
    // The server-side half (api/widget.go): a socket from Frontdesk's own
    // origin (the frame) is admitted on the origin it names in ?origin=.
    const foreign = "http://localhost:1"; // on no allow-list
    const status = await upgradeStatus(`${server.url}/api/v1/widget/ws?key=${server.key}&origin=${encodeURIComponent(foreign)}`, { Origin: server.url });
    assert.equal(status, 403);
    assert.equal(await upgradeStatus(`${server.url}/api/v1/widget/ws?key=${server.key}&origin=${encodeURIComponent(site.origin)}`, { Origin: server.url }), 101);

    // A channel that allows only the customer's site, not Frontdesk's own
    // origin, works through the frame, history endpoint included.
    const { channels } = await owner.call("GET", "/channels");
    const ch = channels.find((c) => c.public_key === server.key);
    await owner.call("PATCH", "/channels/" + ch.id, { allowed_origins: [site.origin] });
    try {
      const ctx = await chrome.newContext();
      const page = await ctx.newPage();
      await page.goto(site.url);
      const frame = await widgetFrame(page);
      await page.click("#open");
      await frame.getByText("Looking for the right plan").waitFor();
      const token = await frame.evaluate(() => {
        try {
          return JSON.parse(localStorage.getItem(Object.keys(localStorage).find((k) => k.startsWith("fd:v1:")))).token;
        } catch {
          return null;
        }
      }) || JSON.parse(await page.evaluate((k) => localStorage.getItem("fd:v1:" + k), server.key)).token;
      const status = await frame.evaluate(
        async ([key, origin, token]) => (await fetch(`/api/v1/widget/history?key=${key}&origin=${encodeURIComponent(origin)}`, { headers: { Authorization: "Bearer " + token } })).status,
        [server.key, site.origin, token],
      );
      assert.equal(status, 200);
      await ctx.close();
    } finally {
      await owner.call("PATCH", "/channels/" + ch.id, { allowed_origins: ch.allowed_origins });
    }
  });
});

describe("admin app", () => {
  test("log in, create an assistant from a template, add and connect a node, see a condition error underlined, publish", async () => {
    const ctx = await chrome.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await signIn(page);
    await shot(page, "app-assistants");

    await page.getByRole("button", { name: "New assistant" }).click();
    await page.getByLabel("Name").fill("Lina");
    await page.getByText("Live chat", { exact: true }).click();
    await page.getByRole("button", { name: "Create" }).click();
    await page.waitForURL(/\/app\/assistants\/[^/]+\/builder$/);
    const id = page.url().split("/").at(-2);
    await page.getByTestId("node-greet").waitFor();
    await page.getByTestId("save-state").filter({ hasText: /^Saved/ }).waitFor();

    // Add a message node from the palette, then undo and redo it.
    await page.locator('.pal[data-kind="message"]').click();
    await page.getByTestId("node-message").waitFor();
    await page.getByRole("button", { name: "Undo" }).click();
    await page.getByTestId("node-message").waitFor({ state: "detached" });
    await page.getByRole("button", { name: "Redo" }).click();
    await page.getByTestId("node-message").waitFor();
    await page.getByRole("button", { name: "Auto-layout" }).click();
    await sleep(500);

    // Connect greet's "next" port to the new node, and the node to "bye".
    const drag = async (from, to) => {
      const a = await page.locator(from).boundingBox();
      const b = await page.locator(to).boundingBox();
      await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
      await page.mouse.down();
      await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 5 });
      await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 5 });
      await page.mouse.up();
    };
    await drag('[data-testid="handle-greet-next"]', '[data-testid="node-message"] .h-in');
    await drag('[data-testid="handle-message-next"]', '[data-testid="node-bye"] .h-in');
    await page.getByTestId("save-state").filter({ hasText: /^Saved/ }).waitFor();
    let graph = (await owner.call("GET", `/assistants/${id}/draft`)).graph;
    for (let i = 0; i < 30 && !graph.edges.some((e) => e.from === "message"); i++) {
      await sleep(200);
      graph = (await owner.call("GET", `/assistants/${id}/draft`)).graph;
    }
    const toMsg = graph.edges.find((e) => e.from === "greet" && e.to === "message");
    assert.ok(toMsg, "greet → message was saved: " + JSON.stringify(graph.edges));
    assert.ok(graph.edges.some((e) => e.from === "message" && e.to === "bye"), "message → bye was saved");

    // Select the new edge and give it a condition with a typo.
    await page.getByTestId("node-greet").click();
    await page.getByRole("button", { name: /→ message/ }).click();
    const cond = page.getByRole("textbox", { name: "Condition" });
    await cond.fill('visitor.lang == "fr"');
    const mark = page.getByTestId("condition-error");
    await mark.waitFor();
    assert.equal(await mark.textContent(), "lang");
    await page.locator(".diag.error").first().waitFor();
    await shot(page, "builder-condition-error");
    await cond.fill('visitor.language == "fr"');
    await mark.waitFor({ state: "detached" });
    // First among greet's edges, so the default comes last.
    await page.getByRole("button", { name: "Move up" }).click();
    await page.getByTestId("save-state").filter({ hasText: /^Saved/ }).waitFor();

    // Publish: the dialog shows what changed and publishes.
    await page.getByRole("button", { name: "Publish…" }).click();
    const dialog = page.getByTestId("publish-dialog");
    await dialog.getByText("Nodes added").waitFor();
    await shot(page, "builder-publish");
    await dialog.getByRole("button", { name: "Publish", exact: true }).click();
    await dialog.getByText("Published version 1").waitFor();
    await dialog.getByRole("button", { name: "Close" }).click();
    const versions = (await owner.call("GET", `/assistants/${id}/versions`)).versions;
    assert.equal(versions.length, 1);
    const v1 = await owner.call("GET", `/assistants/${id}/versions/1`);
    assert.equal(v1.graph.edges.find((e) => e.from === "greet").to, "message");
    await shot(page, "builder-published");

    // Preview the draft: the bot greets, timers are skipped, the visitor
    // answers, the path is highlighted, and the chat becomes a transcript test.
    await page.getByTestId("preview-toggle").click();
    const pane = page.getByTestId("preview-pane");
    await pane.locator('.pmsg[data-author="bot"]').first().waitFor();
    assert.equal(await page.getByTestId("node-greet").getAttribute("data-preview"), "path");
    await pane.getByRole("button", { name: "Skip timers" }).click();
    await pane.getByText("What's your name?").waitFor();
    await pane.getByLabel("Say something").fill("Ada <b>Lovelace</b>");
    await pane.getByRole("button", { name: "Send" }).click();
    await pane.getByText("Which email can we reach you at?").waitFor();
    // Plain text: the markup is characters, not elements.
    await pane.locator(".pmsg.visitor .pbody", { hasText: "Ada <b>Lovelace</b>" }).waitFor();
    assert.equal(await pane.locator(".pmsg b").count(), 0);
    await page.locator('[data-testid="node-leave_message"][data-preview="current"]').waitFor();
    assert.equal(await page.getByTestId("node-greet").getAttribute("data-preview"), "path");
    assert.equal(await page.getByTestId("node-connect").getAttribute("data-preview"), "path");
    assert.equal(await page.getByTestId("node-message").getAttribute("data-preview"), null);
    await pane.getByTestId("preview-vars").getByText("Ada <b>Lovelace</b>").waitFor();
    await shot(page, "builder-preview");
    await pane.getByLabel("Test name").fill("Ada leaves a message");
    await pane.getByRole("button", { name: "Save as transcript test" }).click();
    await pane.getByText("Saved the transcript test “Ada leaves a message”.").waitFor();
    const { transcripts } = await owner.call("GET", `/assistants/${id}/transcripts`);
    assert.deepEqual(transcripts.map((t) => t.name), ["Ada leaves a message"]);
    await pane.getByRole("button", { name: "Close the preview" }).click();
    await pane.waitFor({ state: "detached" });

    // Export downloads the playbook file; a broken file's import shows the
    // problem; the exported file imports back.
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export" }).click()]);
    assert.equal(download.suggestedFilename(), "lina.json");
    const exported = await (await import("node:fs/promises")).readFile(await download.path(), "utf8");
    assert.ok(JSON.parse(exported), "the export is JSON");
    await page.getByTestId("import-file").setInputFiles({ name: "broken.json", mimeType: "application/json", buffer: Buffer.from('{"format": 1, "graph": ') });
    await page.getByTestId("import-problem").getByText("Import failed").waitFor();
    await page.getByRole("button", { name: "Dismiss" }).click();
    await page.getByTestId("import-file").setInputFiles({ name: "lina.json", mimeType: "application/json", buffer: Buffer.from(exported) });
    await page.getByText("Imported lina.json.").waitFor();
    await page.getByTestId("node-leave_message").waitFor();

    // Another editor saves meanwhile: the next autosave gets 409 and shows
    // a conflict instead of overwriting.
    const draft = await owner.call("GET", `/assistants/${id}/draft`);
    await owner.call("PUT", `/assistants/${id}/draft`, { revision: draft.revision, graph: draft.graph });
    await page.locator('.pal[data-kind="end"]').click();
    await page.getByTestId("conflict-banner").waitFor({ timeout: 10_000 });
    await shot(page, "builder-conflict");
    await page.getByRole("button", { name: "Load their version" }).click();
    await page.getByTestId("conflict-banner").waitFor({ state: "detached" });
    await page.getByTestId("save-state").filter({ hasText: /^Saved/ }).waitFor();

    // The inspector's forms. A set_variable node: a new variable, and a
    // value whose typo is underlined as a condition's is.
    const insp = page.getByTestId("inspector");
    await page.locator('.pal[data-kind="set_variable"]').click();
    await insp.getByTestId("assignments").waitFor();
    await insp.getByLabel("Variable 1 name").fill("vip");
    // The picker offers the variables the graph knows (the capture's here).
    const known = await insp.getByLabel("Variable 1", { exact: true }).locator("option").allTextContents();
    assert.ok(known.some((t) => t.startsWith("email ·")), "the picker lists email: " + JSON.stringify(known));
    const value = insp.getByRole("textbox", { name: "Value 1" });
    await value.fill("visitor.is_neww == false");
    await insp.getByTestId("condition-error").waitFor();
    assert.match(await insp.getByTestId("condition-error").textContent(), /is_neww/);
    await value.fill("visitor.is_new == false");
    await insp.getByTestId("condition-error").waitFor({ state: "detached" });
    await shot(page, "builder-set-variable");

    // A branch: routes in order, the default last whatever the order of
    // adding, each with its target and condition.
    await page.locator('.pal[data-kind="branch"]').click();
    await insp.getByTestId("branch-routes").waitFor();
    await insp.getByRole("button", { name: "+ Add the default route" }).click();
    await insp.getByRole("button", { name: "+ Add a condition" }).click();
    await insp.getByLabel("Route 1 target").selectOption("connect");
    await insp.getByLabel("Route 2 target").selectOption("bye");
    await insp.getByRole("textbox", { name: "Route 1 condition" }).fill("business_hours && agents.online > 0");
    await shot(page, "builder-branch");

    // Wire them in: set_variable → branch by dragging, message → set_variable
    // in place of message → bye, and the handover's claimed path to bye in
    // place of chat_closed, which goes; message gets a label. (The checks
    // panel is closed and the graph laid out, so the canvas has room; nodes
    // are selected with a click event, as the minimap may cover one.)
    await page.getByTestId("checks-toggle").click();
    await page.getByRole("button", { name: "Auto-layout" }).click();
    await sleep(500);
    await drag('[data-testid="handle-set_variable-next"]', '[data-testid="node-branch"] .h-in');
    await page.getByTestId("node-message").dispatchEvent("click");
    await insp.getByLabel("Label", { exact: true }).fill("French speakers");
    await insp.getByRole("button", { name: /→ bye/ }).click();
    await insp.getByLabel("To", { exact: true }).selectOption("set_variable");
    await page.getByTestId("node-connect").dispatchEvent("click");
    await insp.getByRole("button", { name: /→ chat_closed/ }).click();
    await insp.getByLabel("To", { exact: true }).selectOption("bye");
    await page.getByTestId("node-chat_closed").dispatchEvent("click");
    await insp.getByRole("button", { name: "Delete node" }).click();
    await page.getByTestId("node-chat_closed").waitFor({ state: "detached" });
    await page.getByTestId("save-state").filter({ hasText: /^Saved/ }).waitFor();
    let wired = (await owner.call("GET", `/assistants/${id}/draft`)).graph;
    for (let i = 0; i < 30 && wired.nodes.some((n) => n.id === "chat_closed"); i++) {
      await sleep(200);
      wired = (await owner.call("GET", `/assistants/${id}/draft`)).graph;
    }
    assert.deepEqual(wired.nodes.find((n) => n.id === "set_variable").set_variable, { assignments: [{ var: "vip", value: "visitor.is_new == false" }] });
    assert.deepEqual(
      wired.edges.filter((e) => e.from === "branch").map((e) => [e.to, e.condition || ""]),
      [
        ["connect", "business_hours && agents.online > 0"],
        ["bye", ""],
      ],
    );
    const edgesOf = (from) => wired.edges.filter((e) => e.from === from).map((e) => e.to);
    assert.deepEqual(edgesOf("set_variable"), ["branch"]);
    assert.deepEqual(edgesOf("message"), ["set_variable"]);
    assert.deepEqual(edgesOf("connect"), ["bye", "leave_message"]);

    // Publish v2, then see the changes from v1 drawn on the versions page.
    await page.getByRole("button", { name: "Publish…" }).click();
    await dialog.getByText("Nodes added").waitFor();
    await dialog.getByRole("button", { name: "Publish", exact: true }).click();
    await dialog.getByText("Published version 2").waitFor();
    await dialog.getByRole("button", { name: "Close" }).click();
    await page.getByRole("link", { name: "Versions" }).click();
    await page.getByRole("cell", { name: "v2 live" }).waitFor();
    await page.getByRole("button", { name: "Changes from v1" }).click();
    const canvas = page.getByTestId("diff-canvas");
    await canvas.locator('[data-testid="node-branch"][data-diff="added"]').waitFor();
    await canvas.locator('[data-testid="node-set_variable"][data-diff="added"]').waitFor();
    await canvas.locator('[data-testid="node-message"][data-diff="changed"]').waitFor();
    assert.match(await canvas.getByTestId("diff-badge-message").textContent(), /changed: label/);
    await canvas.locator('[data-testid="node-chat_closed"][data-diff="removed"]').waitFor();
    // Edges: the branch's two and set_variable → branch are new; message's
    // and the handover's claimed one changed their target.
    assert.equal(await canvas.locator(".react-flow__edge.diff-added").count(), 3);
    assert.equal(await canvas.locator(".react-flow__edge.diff-changed").count(), 2);
    await page.getByTestId("diff-panel").getByText("unchanged").waitFor();
    await shot(page, "versions-diff");
    assert.deepEqual(errors, []);
    await ctx.close();
  });

  test("the analytics page renders", async () => {
    const ctx = await chrome.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    await signIn(page);
    const { assistants } = await owner.call("GET", "/assistants");
    const ava = assistants.find((a) => a.name === "Ava");
    await page.goto(`${server.url}/app/assistants/${ava.id}/analytics`);
    await page.getByTestId("analytics").waitFor();
    await page.getByText("Conversations", { exact: true }).first().waitFor();
    // The demo has a handful of chats: below the minimum.
    await page.getByTestId("not-enough-data").waitFor();
    await page.locator(".recharts-surface").first().waitFor();
    await shot(page, "analytics");
    await ctx.close();
  });

  test("settings and channels pages render", async () => {
    const ctx = await chrome.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await ctx.newPage();
    await signIn(page);
    await page.getByRole("link", { name: "Channels" }).click();
    await page.getByText("Demo website").waitFor();
    assert.ok((await page.locator("textarea.mono").first().inputValue()).includes(site.origin));
    await shot(page, "channels");
    // An assistant of its own: the demo's Ava must keep answering.
    const a = await owner.call("POST", "/assistants", { name: "Theo" });
    await page.goto(`${server.url}/app/assistants/${a.id}/settings`);
    await page.getByText("Availability").waitFor();
    await page.getByLabel("Only when no agent is online").check();
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByText("Saved.").waitFor();
    assert.equal((await owner.call("GET", `/assistants/${a.id}/settings`)).availability.mode, "when_offline");
    await ctx.close();
  });
});

describe("inbox", () => {
  test("a handover reaches the inbox; an agent claims, chats and closes", async (t) => {
    const status = await upgradeStatus(server.url + "/api/v1/agent/ws", { Origin: server.url, Cookie: owner.cookie });
    assert.equal(status, 101, "the agent socket is mounted");
    const agentCtx = await chrome.newContext({ viewport: { width: 1280, height: 800 } });
    const agent = await agentCtx.newPage();
    await signIn(agent);
    await agent.getByLabel("Presence").selectOption("online");
    await agent.goto(server.url + "/app/inbox/unassigned");
    await agent.getByText("● live").waitFor();

    const visitorCtx = await chrome.newContext({ viewport: { width: 375, height: 667 } });
    const visitor = await visitorCtx.newPage();
    await visitor.goto(site.url);
    const frame = await widgetFrame(visitor);
    await visitor.click("#open");
    await frame.getByRole("button", { name: "Talk to sales" }).click();
    await frame.getByText("connect you with our sales team").waitFor();

    // Live: the chat appears in Unassigned without a reload.
    const item = agent.getByTestId("conversation-list").locator(".conv").first();
    await item.waitFor({ timeout: 10_000 });
    await item.click();
    await agent.getByRole("button", { name: "Claim" }).click();
    await agent.getByTestId("conv-status").filter({ hasText: "assigned" }).waitFor();
    await agent.getByRole("textbox", { name: "Message" }).fill("Hi, I'm from the sales team. How big is your team?");
    await agent.getByRole("textbox", { name: "Message" }).press("Enter");
    await frame.getByText("How big is your team?").waitFor();
    await frame.locator(".name", { hasText: "Demo Admin" }).waitFor();
    await frame.getByRole("textbox").fill("About 40 people");
    await frame.getByRole("textbox").press("Enter");
    await agent.getByTestId("messages").getByText("About 40 people").waitFor();
    await shot(agent, "inbox-chat");
    await shot(visitor, "widget-agent-joined");
    agent.once("dialog", (d) => d.accept());
    await agent.getByRole("button", { name: "Close" }).click();
    await agent.getByTestId("conv-status").filter({ hasText: "closed" }).waitFor();
    await agentCtx.close();
    await visitorCtx.close();
  });
});
