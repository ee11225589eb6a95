// Browser tests of the workspace admin pages, Webhooks and Team (with
// deactivating members), Channels (the default response, the snippet, a new
// channel, identity verification with a customer's page that signs its
// user) and publishing to a channel, and of the Account page, against
// the real server (frontdesk --demo on a temp database); screenshots go to
// artifacts/ui/.
//
// The webhook receiver: the server accepts only https URLs on public hosts
// (docs/webhooks.md, "SSRF"), and frontdesk serve has no switch to allow a
// receiver on 127.0.0.1. So the test points the form at a local receiver
// first and sees the refusal under the URL field (and that the receiver got
// nothing), then subscribes https://192.0.2.10/…: TEST-NET-1, public to the
// rules but routed nowhere, so the event's delivery shows up in the log with
// its failed attempts and no request leaves the machine for a real host.
import { before, after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { createHmac } from "node:crypto";
import { Server, Owner, browser, freePort, hostSite, shot, sleep } from "./harness.mjs";

let server, owner, chrome, receiver;

/** A local receiver that records what reaches it. */
async function startReceiver() {
  const port = await freePort();
  const hits = [];
  const srv = createServer((req, res) => {
    hits.push({ method: req.method, url: req.url, headers: req.headers });
    req.resume();
    res.writeHead(204);
    res.end();
  });
  await new Promise((r) => srv.listen(port, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${port}/hook`, hits, close: () => new Promise((r) => srv.close(r)) };
}

before(async () => {
  server = await new Server().start();
  owner = await new Owner(server.url).login();
  receiver = await startReceiver();
  chrome = await browser();
});

after(async () => {
  await chrome?.close();
  await receiver?.close();
  await server?.stop();
  server?.cleanup();
});

const OWNER = { email: "admin@demo.frontdesk.test", password: "frontdesk-demo" };
const AGENT = { email: "sam.agent@demo.frontdesk.test", name: "Sam Agent", password: "sam-agent-password-7" };
const HOOK_URL = "https://192.0.2.10/hooks/frontdesk";

/** signIn signs in at the app's login page and waits for the shell. */
async function signIn(page, who = OWNER) {
  await page.goto(server.url + "/app/");
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("link", { name: "Inbox" }).waitFor();
}

/** adminPage opens a signed-in owner page at 1280×800 that may use the
 * clipboard, and collects the page's script errors. */
async function adminPage() {
  const ctx = await chrome.newContext({ viewport: { width: 1280, height: 800 } });
  await ctx.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
  const page = await ctx.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page);
  return { ctx, page, errors };
}

/** until polls cond every 250 ms until it holds, or fails after ms. */
async function until(cond, ms, what) {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for " + what);
    await sleep(250);
  }
}

/** accept answers the next confirm() with OK and returns its message. */
function accept(page) {
  return new Promise((ok) => page.once("dialog", (d) => void d.accept().then(() => ok(d.message()))));
}

describe("webhooks page", () => {
  test("an owner creates an endpoint, sees the secret once, rotates it, sees an event's delivery, edits, disables and deletes it", async () => {
    const { ctx, page, errors } = await adminPage();
    await page.getByRole("link", { name: "Webhooks" }).click();
    await page.getByText("No endpoints yet.").waitFor();

    // A local receiver is refused by the SSRF rules: the server's field
    // error shows under the URL, and the dialog stays open.
    await page.getByRole("button", { name: "New endpoint" }).click();
    const form = page.getByRole("dialog", { name: "New webhook endpoint" });
    await form.getByLabel("Endpoint URL").fill(receiver.url);
    await form.getByLabel("conversation.created").check();
    await form.getByLabel("conversation.closed").check();
    await form.getByRole("button", { name: "Create endpoint" }).click();
    const urlError = form.locator('[data-field="body.url"]');
    await urlError.waitFor();
    assert.match(await urlError.textContent(), /https/);
    assert.equal(await form.getByLabel("Endpoint URL").getAttribute("aria-invalid"), "true");
    await shot(page, "webhooks-url-refused");

    // A public https URL is accepted; the secret is shown once, and copies.
    await form.getByLabel("Endpoint URL").fill(HOOK_URL);
    await form.getByRole("button", { name: "Create endpoint" }).click();
    const created = page.getByRole("dialog", { name: "Endpoint created" });
    await created.getByText("it will not be shown again").waitFor();
    const secret = await created.getByLabel("Signing secret").inputValue();
    assert.match(secret, /^whsec_[A-Za-z0-9+/=]{40,}$/);
    await created.getByRole("button", { name: "Copy" }).click();
    await created.getByRole("button", { name: "Copied" }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
    await shot(page, "webhooks-created");
    await created.getByRole("button", { name: "Done" }).click();
    await created.waitFor({ state: "detached" });

    const [hook] = (await owner.call("GET", "/webhooks")).webhooks;
    assert.equal(hook.url, HOOK_URL);
    assert.deepEqual([...hook.events].sort(), ["conversation.closed", "conversation.created"]);
    assert.equal(hook.enabled, true);
    const row = page.getByTestId("webhook-" + hook.id);
    await row.getByText(HOOK_URL).waitFor();
    await row.locator(".chip", { hasText: "conversation.created" }).waitFor();
    await row.locator(".badge.enabled").waitFor();
    await row.getByText("none yet").waitFor();
    // The secret is in no list: only create and rotate show it.
    assert.equal(await page.getByText(secret).count(), 0);

    // Rotate: a new secret, shown once; the old one still signs for a while.
    const asked = accept(page);
    await row.getByRole("button", { name: "Rotate secret" }).click();
    assert.match(await asked, /24 hours/);
    const rotated = page.getByRole("dialog", { name: "New signing secret" });
    const secret2 = await rotated.getByLabel("Signing secret").inputValue();
    assert.match(secret2, /^whsec_/);
    assert.notEqual(secret2, secret);
    await shot(page, "webhooks-rotated");
    await rotated.getByRole("button", { name: "Done" }).click();
    await row.getByText("The previous secret also signs until").waitFor();

    // An event: a visitor opens the chat on the demo page, which starts a
    // conversation (conversation.created). Its delivery appears in the
    // endpoint's log, and its attempt fails (TEST-NET is routed nowhere).
    await row.getByRole("button", { name: "Deliveries" }).click();
    const log = page.getByTestId("deliveries");
    await log.getByText("No deliveries yet").waitFor();
    const visitor = await ctx.newPage();
    await visitor.goto(server.url + "/");
    const frame = await (await visitor.waitForSelector("iframe[data-frontdesk]", { state: "attached" })).contentFrame();
    await frame.waitForSelector(".fd");
    await visitor.evaluate(() => window.Frontdesk.open());
    await frame.locator(".msg.bot").first().waitFor();
    await visitor.close();
    const delivery = log.getByTestId("delivery").filter({ hasText: "conversation.created" });
    await delivery.waitFor({ timeout: 20_000 });
    // The first attempt is made within a few seconds (a dial to TEST-NET
    // fails at once or after the 5 s connect timeout).
    const attempts = delivery.getByTestId("attempts");
    await until(async () => Number(await attempts.textContent()) >= 1, 30_000, "the delivery's first attempt");
    assert.match(await delivery.locator(".badge").textContent(), /^(pending|dead)$/);
    await delivery.getByText("no response").waitFor(); // the dial failed: no HTTP status
    await row.locator(".badge.pending, .badge.dead").waitFor({ timeout: 15_000 });
    await shot(page, "webhooks-deliveries");
    const [d] = (await owner.call("GET", `/webhooks/${hook.id}/deliveries`)).deliveries;
    assert.equal(d.event_type, "conversation.created");
    assert.ok(d.attempts >= 1 && d.last_error, "a failed attempt is recorded: " + JSON.stringify(d));

    // Edit: the event list is replaced as a whole.
    await row.getByRole("button", { name: "Edit" }).click();
    const edit = page.getByRole("dialog", { name: "Edit endpoint" });
    assert.equal(await edit.getByLabel("Endpoint URL").inputValue(), HOOK_URL);
    await edit.getByLabel("conversation.closed").uncheck();
    await edit.getByLabel("lead.created").check();
    await edit.getByRole("button", { name: "Save" }).click();
    await edit.waitFor({ state: "detached" });
    await row.locator(".chip", { hasText: "lead.created" }).waitFor();
    assert.deepEqual([...(await owner.call("GET", "/webhooks/" + hook.id)).events].sort(), ["conversation.created", "lead.created"]);

    // Disable, then delete after confirming.
    await row.getByRole("button", { name: "Disable" }).click();
    await row.locator(".badge.disabled").waitFor();
    assert.equal((await owner.call("GET", "/webhooks/" + hook.id)).enabled, false);
    await log.getByText("This endpoint is disabled").waitFor();
    const deleting = accept(page);
    await row.getByRole("button", { name: "Delete" }).click();
    assert.match(await deleting, /Delete the endpoint https:\/\/192\.0\.2\.10/);
    await row.waitFor({ state: "detached" });
    await log.waitFor({ state: "detached" });
    await page.getByText("No endpoints yet.").waitFor();
    assert.deepEqual((await owner.call("GET", "/webhooks")).webhooks, []);

    // The refused local URL never got a request.
    assert.equal(receiver.hits.length, 0);
    assert.deepEqual(errors, []);
    await ctx.close();
  });
});

describe("team page", () => {
  test("an owner adds an agent, changes its role and manages API tokens; the agent is offered no admin action", async () => {
    const { ctx, page, errors } = await adminPage();
    await page.getByRole("link", { name: "Team" }).click();
    await page.getByLabel("What each role can do").getByText("Answers chats").waitFor();
    await page.getByTestId("member-" + OWNER.email).getByText("you").waitFor();

    // Add an agent; a weak password is refused under its field.
    await page.getByRole("button", { name: "Add a member" }).click();
    const form = page.getByRole("dialog", { name: "Add a member" });
    await form.getByLabel("Email").fill(AGENT.email);
    await form.getByLabel("Name").fill(AGENT.name);
    await form.getByRole("radio", { name: /^Agent/ }).check();
    await form.getByLabel("Initial password").fill("short");
    await form.getByRole("button", { name: "Add member" }).click();
    const pwError = form.locator('[data-field="body.password"]');
    await pwError.waitFor();
    assert.match(await pwError.textContent(), /at least 10 characters/);
    await shot(page, "team-weak-password");
    await form.getByLabel("Initial password").fill(AGENT.password);
    await form.getByRole("button", { name: "Add member" }).click();
    await form.waitFor({ state: "detached" });
    const row = page.getByTestId("member-" + AGENT.email);
    const role = row.getByRole("combobox", { name: "Role of " + AGENT.name });
    await role.waitFor();
    assert.equal(await role.inputValue(), "agent");
    const member = () => owner.call("GET", "/users").then((r) => r.users.find((u) => u.email === AGENT.email));
    assert.equal((await member()).role, "agent");

    // Make them an admin, then an agent again.
    await role.selectOption("admin");
    await row.getByText("always").waitFor(); // admins build assistants anyway
    assert.equal((await member()).role, "admin");
    await role.selectOption("agent");
    await row.getByRole("checkbox", { name: "Builds assistants: " + AGENT.name }).waitFor();
    assert.equal((await member()).role, "agent");
    // The owner's role is not offered for change.
    assert.equal(await page.getByTestId("member-" + OWNER.email).getByRole("combobox").count(), 0);
    await shot(page, "team");

    // An API token: shown once, works as a bearer token, then revoked.
    const tokens = page.getByRole("region", { name: "API tokens" });
    await tokens.getByLabel("Token name").fill("CI deploy");
    await tokens.getByRole("button", { name: "Create token" }).click();
    const shown = tokens.getByTestId("shown-once");
    const token = await shown.getByRole("textbox").inputValue();
    assert.ok(token.length >= 20, "a token: " + token);
    await shown.getByRole("button", { name: "Copy" }).click();
    await shown.getByRole("button", { name: "Copied" }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
    await shot(page, "team-token-created");
    const bearer = (t) => fetch(server.url + "/api/v1/auth/me", { headers: { Authorization: "Bearer " + t } }).then((r) => r.status);
    assert.equal(await bearer(token), 200);
    await tokens.getByRole("button", { name: "I have copied it" }).click();
    await shown.waitFor({ state: "detached" });
    const tokenRow = tokens.getByTestId("token-CI deploy");
    await tokenRow.getByText("you").waitFor();
    const revoking = accept(page);
    await tokenRow.getByRole("button", { name: "Revoke" }).click();
    assert.match(await revoking, /Revoke the token “CI deploy”/);
    await tokenRow.waitFor({ state: "detached" });
    assert.equal(await bearer(token), 401);
    await tokens.getByLabel("Token name").fill("CRM sync");
    await tokens.getByRole("button", { name: "Create token" }).click();
    await tokens.getByTestId("token-CRM sync").waitFor();
    assert.deepEqual(
      (await owner.call("GET", "/tokens")).tokens.map((t) => t.name),
      ["CRM sync"],
    );
    assert.deepEqual(errors, []);
    await ctx.close();

    // The agent, in a fresh context: no Webhooks or Channels in the nav,
    // the team read-only, no tokens, and the webhooks URL says why.
    const actx = await chrome.newContext({ viewport: { width: 1280, height: 800 } });
    const agent = await actx.newPage();
    const agentErrors = [];
    agent.on("pageerror", (e) => agentErrors.push(e.message));
    await signIn(agent, AGENT);
    const nav = agent.locator("nav.side");
    await nav.getByRole("link", { name: "Team" }).waitFor();
    assert.equal(await nav.getByRole("link", { name: "Webhooks" }).count(), 0);
    assert.equal(await nav.getByRole("link", { name: "Channels" }).count(), 0);
    await nav.getByRole("link", { name: "Team" }).click();
    await agent.getByTestId("member-" + AGENT.email).getByText("you").waitFor();
    await agent.getByText("Only admins and the owner can add members or change roles.").waitFor();
    assert.equal(await agent.getByRole("button", { name: "Add a member" }).count(), 0);
    assert.equal(await agent.locator("table.members select").count(), 0);
    assert.ok(await agent.getByRole("checkbox", { name: "Builds assistants: " + AGENT.name }).isDisabled());
    assert.equal(await agent.getByRole("region", { name: "API tokens" }).count(), 0);
    await shot(agent, "team-agent");
    await agent.goto(server.url + "/app/webhooks");
    await agent.getByText("Only admins and the owner manage the workspace's webhooks.").waitFor();
    assert.equal(await agent.getByRole("button", { name: "New endpoint" }).count(), 0);
    await shot(agent, "webhooks-agent");
    assert.deepEqual(agentErrors, []);
    await actx.close();
  });
});

/** login signs in through the API and returns the session's cookie, as
 * another browser or device of the member would hold it. */
async function apiLogin(who) {
  const r = await fetch(server.url + "/api/v1/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email: who.email, password: who.password }),
  });
  return { status: r.status, cookie: r.ok ? r.headers.get("set-cookie").split(";")[0] : "", body: await r.json() };
}

/** meStatus is the status of GET /auth/me with a session cookie. */
const meStatus = (cookie) => fetch(server.url + "/api/v1/auth/me", { headers: { Cookie: cookie } }).then((r) => r.status);

/** memberPage opens a fresh context signed in as who, collecting script
 * errors. */
async function memberPage(who) {
  const ctx = await chrome.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await signIn(page, who);
  return { ctx, page, errors };
}

describe("deactivating members", () => {
  const DEE = { email: "dee.agent@demo.frontdesk.test", name: "Dee Agent", password: "dee-agent-password-9" };

  test("the owner deactivates an agent: the agent's open app is signed out and cannot sign in; reactivated, the agent can", async () => {
    const created = await owner.call("POST", "/users", { email: DEE.email, name: DEE.name, role: "agent", password: DEE.password });
    assert.equal(created.active, true);
    const member = () => owner.call("GET", "/users").then((r) => r.users.find((u) => u.email === DEE.email));

    // The agent works in their own browser, and another device of theirs
    // holds a session too. An agent is offered no deactivation.
    const { ctx: actx, page: agent, errors: agentErrors } = await memberPage(DEE);
    const device = await apiLogin(DEE);
    assert.equal(device.status, 200);
    await agent.locator("nav.side").getByRole("link", { name: "Team" }).click();
    await agent.getByTestId("member-" + DEE.email).getByText("you").waitFor();
    assert.equal(await agent.getByRole("button", { name: /^(Deactivate|Reactivate)/ }).count(), 0);

    // The owner deactivates them, after confirming. Not offered on the
    // owner's own row.
    const { ctx, page, errors } = await adminPage();
    await page.getByRole("link", { name: "Team" }).click();
    const ownerRow = page.getByTestId("member-" + OWNER.email);
    await ownerRow.getByText("you").waitFor();
    assert.equal(await ownerRow.getByRole("button").count(), 0);
    const row = page.getByTestId("member-" + DEE.email);
    const asked = accept(page);
    await row.getByRole("button", { name: "Deactivate " + DEE.name }).click();
    assert.match(await asked, /Deactivate Dee Agent\? They are signed out everywhere/);
    await row.getByText("Deactivated").waitFor();
    await row.getByRole("button", { name: "Reactivate " + DEE.name }).waitFor();
    const m = await member();
    assert.equal(m.active, false);
    assert.ok(m.deactivated_at, "deactivated_at: " + JSON.stringify(m));
    // Deactivated members are listed last.
    const order = await page.locator("table.members tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-testid")));
    assert.equal(order.at(-1), "member-" + DEE.email, order.join(", "));
    await shot(page, "team-deactivated");

    // The agent's open app: the next navigation gets a 401 and shows the
    // sign-in page; the other device is signed out too.
    await agent.locator("nav.side").getByRole("link", { name: "Inbox" }).click();
    await agent.getByRole("button", { name: "Sign in" }).waitFor();
    assert.equal(await meStatus(device.cookie), 401);
    // Signing in is refused as a wrong password is: nothing says why.
    await agent.getByLabel("Email").fill(DEE.email);
    await agent.getByLabel("Password").fill(DEE.password);
    await agent.getByRole("button", { name: "Sign in" }).click();
    const refused = agent.getByRole("alert");
    await refused.waitFor();
    assert.match(await refused.textContent(), /wrong email or password/);
    const wrong = await apiLogin({ email: DEE.email, password: "not-the-password-1" });
    const right = await apiLogin(DEE);
    assert.equal(right.status, 401);
    assert.deepEqual(right.body, wrong.body);
    await shot(agent, "deactivated-agent-refused");

    // Reactivated: the same password signs in again.
    const again = accept(page);
    await row.getByRole("button", { name: "Reactivate " + DEE.name }).click();
    assert.match(await again, /They can sign in again/);
    await row.getByRole("button", { name: "Deactivate " + DEE.name }).waitFor();
    assert.equal(await row.getByText("Deactivated").count(), 0);
    assert.equal((await member()).active, true);
    await agent.getByRole("button", { name: "Sign in" }).click();
    await agent.getByRole("link", { name: "Inbox" }).waitFor();
    await agent.locator("nav.side").getByRole("link", { name: "Team" }).click();
    await agent.getByTestId("member-" + DEE.email).getByText("you").waitFor();
    // The old device's session stays ended.
    assert.equal(await meStatus(device.cookie), 401);
    await shot(agent, "reactivated-agent");
    assert.deepEqual(errors, []);
    assert.deepEqual(agentErrors, []);
    await ctx.close();
    await actx.close();
  });
});

describe("account page", () => {
  const PAT = { email: "pat.admin@demo.frontdesk.test", name: "Pat Admin", password: "pat-admin-password-3" };
  const NEW_PASSWORD = "pat-admin-new-password-4";

  test("an admin changes their password: field errors under the fields, still signed in afterwards, other sessions ended, the new password works", async () => {
    const pat = await owner.call("POST", "/users", { email: PAT.email, name: PAT.name, role: "admin", password: PAT.password });
    const device = await apiLogin(PAT);
    assert.equal(device.status, 200);
    const { ctx, page, errors } = await memberPage(PAT);

    // An admin is offered deactivation of others, never of themselves or
    // of the owner.
    await page.locator("nav.side").getByRole("link", { name: "Team" }).click();
    await page.getByTestId("member-" + PAT.email).getByText("you").waitFor();
    await page.getByRole("button", { name: "Deactivate Dee Agent" }).waitFor();
    assert.equal(await page.getByTestId("member-" + PAT.email).getByRole("button").count(), 0);
    assert.equal(await page.getByTestId("member-" + OWNER.email).getByRole("button").count(), 0);

    await page.locator("nav.side").getByRole("link", { name: "Account" }).click();
    await page.getByRole("heading", { name: "Account", exact: true }).waitFor();
    await page.getByLabel("Your account").getByText(PAT.email).waitFor();
    const form = page.getByRole("region", { name: "Change your password" });
    const current = form.getByLabel("Current password");
    const next = form.getByLabel("New password", { exact: true });
    const confirm = form.getByLabel("Confirm new password");
    const submit = form.getByRole("button", { name: "Change password" });

    // The confirmation must match; checked here, before asking the server.
    await current.fill(PAT.password);
    await next.fill(NEW_PASSWORD);
    await confirm.fill(NEW_PASSWORD + "x");
    await submit.click();
    await form.locator('[data-field="confirm"]').getByText("The two new passwords differ.").waitFor();

    // A wrong current password: the server's error under that field.
    await current.fill("not-my-password-0");
    await confirm.fill(NEW_PASSWORD);
    await submit.click();
    const currentError = form.locator('[data-field="body.current_password"]');
    await currentError.waitFor();
    assert.match(await currentError.textContent(), /wrong password/);
    assert.equal(await current.getAttribute("aria-invalid"), "true");
    assert.equal(await form.locator('[data-field="confirm"]').count(), 0);
    await shot(page, "account-wrong-current");

    // A weak new password: under the new password.
    await current.fill(PAT.password);
    await next.fill("short");
    await confirm.fill("short");
    await submit.click();
    const newError = form.locator('[data-field="body.new_password"]');
    await newError.waitFor();
    assert.match(await newError.textContent(), /at least 10 characters/);
    assert.equal(await form.locator('[data-field="body.current_password"]').count(), 0);

    // Changed: this browser stays signed in, on a new session.
    await next.fill(NEW_PASSWORD);
    await confirm.fill(NEW_PASSWORD);
    await submit.click();
    await form.getByText("Password changed.").waitFor();
    assert.equal(await current.inputValue(), "");
    await shot(page, "account-changed");
    await page.locator("nav.side").getByRole("link", { name: "Team" }).click();
    await page.getByTestId("member-" + PAT.email).getByText("you").waitFor();
    // An unsafe request works: the page holds the new CSRF token.
    await page.getByLabel("Presence").selectOption("away");
    await until(async () => (await owner.call("GET", "/presence")).team?.[pat.id] === "away", 10_000, "Pat's presence to be away");
    await page.reload();
    await page.getByRole("link", { name: "Inbox" }).waitFor();
    assert.equal(await page.getByRole("button", { name: "Sign in" }).count(), 0);

    // The other device was signed out; the old password no longer opens
    // the account, the new one does.
    assert.equal(await meStatus(device.cookie), 401);
    assert.equal((await apiLogin(PAT)).status, 401);
    const fresh = await apiLogin({ email: PAT.email, password: NEW_PASSWORD });
    assert.equal(fresh.status, 200);
    assert.equal(await meStatus(fresh.cookie), 200);
    assert.deepEqual(errors, []);
    await ctx.close();
  });
});

describe("channels page", () => {
  test("an owner copies the snippet, edits the default response (an empty greeting refused under its field) and adds a channel (a bad origin refused under its field)", async () => {
    const { ctx, page, errors } = await adminPage();
    const demo = (await owner.call("GET", "/channels")).channels.find((c) => c.public_key === server.key);
    await page.locator("nav.side").getByRole("link", { name: "Channels" }).click();
    const card = page.getByTestId("channel-" + demo.id);
    await card.getByRole("heading", { name: "Demo website" }).waitFor();

    // The embed snippet copies.
    await card.getByRole("button", { name: "Copy snippet" }).click();
    await card.getByRole("button", { name: "Copied" }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), demo.embed_snippet);

    // The default response: the demo stores no greeting (an English one to
    // fill in) and queues the chat.
    const form = card.getByRole("form", { name: "Default response of Demo website" });
    const en = form.getByLabel("Greeting (en)");
    assert.equal(await en.inputValue(), "");
    assert.ok(await form.getByRole("radio", { name: /Queue the chat for an agent/ }).isChecked());
    await en.fill("Hello from the demo desk! Leave us a message.");
    // A language added, then removed.
    await form.getByLabel("Add a greeting language").fill("de");
    await form.getByRole("button", { name: "Add language" }).click();
    await form.getByLabel("Greeting (de)").waitFor();
    await form.getByRole("button", { name: "Remove de" }).click();
    await form.getByLabel("Greeting (de)").waitFor({ state: "detached" });
    // French added but left empty: refused under the French greeting.
    await form.getByLabel("Add a greeting language").fill("fr");
    await form.getByLabel("Add a greeting language").press("Enter");
    const fr = form.getByLabel("Greeting (fr)");
    await fr.waitFor();
    await form.getByRole("radio", { name: /Ask for contact details/ }).check();
    const save = form.getByRole("button", { name: "Save default response" });
    await save.click();
    const frError = form.locator('[data-field="body.default_response.greeting.fr"]');
    await frError.waitFor();
    assert.match(await frError.textContent(), /the greeting is empty/);
    assert.equal(await fr.getAttribute("aria-invalid"), "true");
    assert.equal(await en.getAttribute("aria-invalid"), "false");
    await shot(page, "channels-greeting-refused");
    assert.deepEqual((await owner.call("GET", "/channels/" + demo.id)).default_response, { greeting: {}, then: "queue" }, "nothing stored");

    await fr.fill("Bonjour ! Laissez-nous un message.");
    await save.click();
    await form.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    await frError.waitFor({ state: "detached" });
    assert.deepEqual((await owner.call("GET", "/channels/" + demo.id)).default_response, {
      greeting: { en: "Hello from the demo desk! Leave us a message.", fr: "Bonjour ! Laissez-nous un message." },
      then: "capture",
    });
    // The form shows what the server stored.
    assert.equal(await form.getByLabel("Greeting (fr)").inputValue(), "Bonjour ! Laissez-nous un message.");
    assert.ok(await form.getByRole("radio", { name: /Ask for contact details/ }).isChecked());
    await shot(page, "channels-default-response");

    // A new channel: an origin with a path is refused under the origins,
    // naming it; nothing is created until it is fixed.
    const create = page.getByRole("form", { name: "New channel" });
    await create.getByLabel("Name").fill("Blog");
    const origins = create.getByLabel(/Allowed origins/);
    await origins.fill("https://blog.example\nhttps://blog.example/news");
    await create.getByRole("button", { name: "Add a channel" }).click();
    const originError = create.locator('[data-field="body.allowed_origins"]');
    await originError.waitFor();
    assert.match(await originError.textContent(), /https:\/\/blog\.example\/news: an origin has no path/);
    assert.equal(await origins.getAttribute("aria-invalid"), "true");
    await shot(page, "channels-new-refused");
    assert.equal((await owner.call("GET", "/channels")).channels.length, 1);
    await origins.fill("https://blog.example");
    await create.getByRole("button", { name: "Add a channel" }).click();
    await page.getByRole("heading", { name: "Blog", exact: true }).waitFor();
    assert.equal(await create.getByLabel("Name").inputValue(), "");
    const blog = (await owner.call("GET", "/channels")).channels.find((c) => c.name === "Blog");
    assert.deepEqual(blog.allowed_origins, ["https://blog.example"]);
    assert.equal(blog.assistant, null);
    assert.deepEqual(errors, []);
    await ctx.close();
  });
});

describe("publishing to a channel", () => {
  test("a new assistant is published on the demo channel: the dialog warns that it replaces Ava, then the channel runs it; a channel that fails is shown and retried", async () => {
    const { ctx, page, errors } = await adminPage();
    const channels = () => owner.call("GET", "/channels").then((r) => r.channels);
    const demo = (await channels()).find((c) => c.public_key === server.key);
    assert.equal(demo.assistant?.name, "Ava");
    // A channel without an assistant, whose connect fails the first time
    // (the browser answers it with a problem).
    const landing = await owner.call("POST", "/channels", { name: "Landing page" });
    const landingURL = server.url + "/api/v1/channels/" + landing.id + "/assistant";
    const busy = (route) =>
      route.fulfill({ status: 503, contentType: "application/problem+json", body: JSON.stringify({ title: "Service Unavailable", status: 503, detail: "the database is busy" }) });
    await page.route(landingURL, busy);

    await page.locator("nav.side").getByRole("link", { name: "Assistants" }).click();
    await page.getByRole("button", { name: "New assistant" }).click();
    const make = page.getByRole("dialog", { name: "New assistant" });
    await make.getByLabel("Name").fill("Nova");
    await make.getByText("Lead qualification", { exact: true }).click();
    await make.getByRole("button", { name: "Create" }).click();
    await page.waitForURL(/\/app\/assistants\/[^/]+\/builder$/);
    const id = page.url().split("/").at(-2);
    await page.getByTestId("save-state").filter({ hasText: /^Saved/ }).waitFor();

    // The dialog lists the channels: the demo one runs Ava, so unchecked;
    // checking it warns that Nova replaces Ava there.
    await page.getByRole("button", { name: "Publish…" }).click();
    const dialog = page.getByTestId("publish-dialog");
    const row = dialog.getByTestId("publish-channel-" + demo.id);
    const box = row.getByRole("checkbox");
    await box.waitFor();
    assert.equal(await box.isChecked(), false);
    await row.getByText("runs “Ava”").waitFor();
    const landingRow = dialog.getByTestId("publish-channel-" + landing.id);
    assert.equal(await landingRow.getByRole("checkbox").isChecked(), false);
    await landingRow.getByText("no assistant").waitFor();
    assert.equal(await dialog.getByTestId("replace-warning").count(), 0);
    await dialog.getByRole("button", { name: "Publish", exact: true }).waitFor();
    await landingRow.getByRole("checkbox").check();
    await landingRow.getByText("New chats on Landing page will get this assistant.").waitFor();
    assert.equal(await landingRow.getByTestId("replace-warning").count(), 0);
    await box.check();
    const warning = row.getByTestId("replace-warning");
    await warning.waitFor();
    assert.match(await warning.textContent(), /Demo website currently runs “Ava”; publishing will replace it for new chats; chats already running stay on their version/);
    await warning.scrollIntoViewIfNeeded();
    await shot(page, "publish-replace-warning");
    assert.equal((await channels()).find((c) => c.id === demo.id).assistant.name, "Ava", "nothing changes before publishing");

    await dialog.getByRole("button", { name: "Publish and update 2 channels" }).click();
    await dialog.getByText("Published version 1").waitFor();
    await row.getByTestId("channel-result").filter({ hasText: "Connected" }).waitFor();
    await row.getByText("runs this assistant").waitFor();
    assert.equal(await warning.count(), 0);
    // The landing page's connect failed: said next to it, and the version
    // stays published.
    const landingResult = landingRow.getByTestId("channel-result");
    await landingResult.filter({ hasText: "Not connected" }).waitFor();
    assert.match(await landingResult.textContent(), /the database is busy/);
    const failures = dialog.getByTestId("channel-failures");
    assert.match(await failures.textContent(), /Version 1 is published and stays published/);
    await shot(page, "publish-channel-failed");
    assert.equal((await owner.call("GET", `/assistants/${id}/versions`)).versions.length, 1);
    let after = await channels();
    assert.deepEqual(after.find((c) => c.id === demo.id).assistant, { id, name: "Nova" });
    assert.equal(after.find((c) => c.id === landing.id).assistant, null);

    // Retried once the server answers.
    await page.unroute(landingURL, busy);
    await failures.getByRole("button", { name: "Retry" }).click();
    await landingResult.filter({ hasText: "Connected" }).waitFor();
    await failures.waitFor({ state: "detached" });
    await shot(page, "publish-connected");
    after = await channels();
    assert.deepEqual(after.find((c) => c.id === demo.id).assistant, { id, name: "Nova" });
    assert.deepEqual(after.find((c) => c.id === landing.id).assistant, { id, name: "Nova" });
    const { assistants } = await owner.call("GET", "/assistants");
    const byName = (a, b) => a.name.localeCompare(b.name);
    assert.deepEqual(
      [...assistants.find((a) => a.name === "Nova").channels].sort(byName),
      [
        { id: demo.id, name: "Demo website" },
        { id: landing.id, name: "Landing page" },
      ],
    );
    assert.equal((assistants.find((a) => a.name === "Ava").channels || []).length, 0);
    assert.equal((await owner.call("GET", `/assistants/${id}/versions`)).versions.length, 1);
    await dialog.getByRole("button", { name: "Close" }).click();

    // A new visitor on the demo page gets Nova's greeting.
    const visitor = await ctx.newPage();
    await visitor.goto(server.url + "/");
    const frame = await (await visitor.waitForSelector("iframe[data-frontdesk]", { state: "attached" })).contentFrame();
    await frame.waitForSelector(".fd");
    await visitor.evaluate(() => window.Frontdesk.open());
    await frame.locator(".msg.bot").first().waitFor();
    assert.match(await frame.locator(".msg.bot").first().textContent(), /right plan|bonne offre/);
    await visitor.close();

    // Unchecking a channel that runs it warns that it would be
    // disconnected; cancelled, nothing changes.
    await page.getByRole("button", { name: "Publish…" }).click();
    await dialog.getByText("Nothing changed since the live version.").waitFor();
    assert.equal(await box.isChecked(), true);
    await box.uncheck();
    const leaving = row.getByTestId("disconnect-warning");
    await leaving.waitFor();
    assert.match(await leaving.textContent(), /will stop running this assistant: new chats there get the channel's default response/);
    await dialog.getByRole("button", { name: "Publish and update 1 channel" }).waitFor();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached" });
    assert.deepEqual((await channels()).find((c) => c.id === demo.id).assistant, { id, name: "Nova" });
    assert.deepEqual(errors, []);
    await ctx.close();
  });
});

describe("identity verification", () => {
  test("an owner generates the secret; a customer page signs its user (HMAC in Node): the person's history follows them to a fresh browser; a wrong signature cannot connect; rotated, the old signature stops; turned off, identities are ignored", async () => {
    const { ctx, page, errors } = await adminPage();
    const demo = (await owner.call("GET", "/channels")).channels.find((c) => c.public_key === server.key);
    await page.locator("nav.side").getByRole("link", { name: "Channels" }).click();
    const section = page.getByTestId("channel-" + demo.id).getByTestId("identity-verification");
    const status = section.getByTestId("identity-status");
    await status.getByText("off", { exact: true }).waitFor();

    // Generate: the secret is shown once, and copies.
    await section.getByRole("button", { name: "Generate secret" }).click();
    await section.getByText("it will not be shown again").waitFor();
    const secret = await section.getByLabel("Identity secret").inputValue();
    assert.match(secret, /^fdid_[A-Za-z0-9_-]{43}$/);
    await section.getByRole("button", { name: "Copy", exact: true }).click();
    await section.getByRole("button", { name: "Copied" }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret);
    await status.getByText(/^on$/).waitFor();
    await status.getByText(/since/).waitFor();
    await section.getByLabel("How your site signs a visitor").waitFor();
    await shot(page, "channels-identity-secret");
    const listed = JSON.stringify(await owner.call("GET", "/channels"));
    assert.ok(!listed.includes(secret), "the secret is never listed");
    assert.equal((await owner.call("GET", "/channels/" + demo.id)).identity_verification, true);

    // The customer's site: its backend signs the logged-in user's id with
    // the secret; the page passes it to Frontdesk.identify (queued before
    // the widget loads).
    let who = null;
    const site = await hostSite(server.url, server.key, {
      page: (fd, key) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme account</title>
<script>window.Frontdesk = { q: [${who ? `["identify", ${JSON.stringify(who)}]` : ""}] };</script>
</head><body><h1>Your Acme account</h1>
<script src="${fd}/widget.js" data-channel="${key}" async></script>
</body></html>`,
    });
    await owner.allowOrigin(server.key, site.origin);
    const sign = (key, subject) => createHmac("sha256", key).update(subject).digest("hex");
    const ada = (key) => ({ id: "user_829", email: "ada@example.com", name: "Ada Lovelace", signature: sign(key, "user_829") });

    /** visit opens the customer's page in a fresh browser (its own
     * storage: no visitor token) as who, and opens the chat. */
    const visit = async (identity) => {
      who = identity;
      const vctx = await chrome.newContext({ viewport: { width: 1024, height: 768 } });
      const vpage = await vctx.newPage();
      vpage.on("pageerror", (e) => errors.push("customer page: " + e.message));
      await vpage.goto(site.url);
      const frame = await (await vpage.waitForSelector("iframe[data-frontdesk]", { state: "attached" })).contentFrame();
      await frame.waitForSelector(".fd");
      await vpage.evaluate(() => window.Frontdesk.open());
      return { vctx, vpage, frame };
    };
    const texts = (frame) => frame.$$eval(".list .msg .body", (els) => els.map((e) => e.textContent));

    try {
      // Ada on her laptop: she chats.
      const laptop = await visit(ada(secret));
      await laptop.frame.locator(".msg.bot").first().waitFor();
      await laptop.frame.getByRole("textbox").fill("Where is my order 1234?");
      await laptop.frame.getByRole("textbox").press("Enter");
      await laptop.frame.locator(".msg.visitor:not(.pending)").filter({ hasText: "Where is my order 1234?" }).waitFor();
      await sleep(500);
      const history = await texts(laptop.frame);
      await shot(laptop.vpage, "identity-laptop");
      await laptop.vctx.close();

      // Ada on her phone (a fresh browser, no token): the same history.
      const phone = await visit(ada(secret));
      await phone.frame.locator(".msg.visitor").filter({ hasText: "Where is my order 1234?" }).waitFor();
      await sleep(500);
      const again = await texts(phone.frame);
      assert.deepEqual(again.slice(0, history.length), history);
      assert.equal(again.filter((t) => t === "Where is my order 1234?").length, 1);
      await shot(phone.vpage, "identity-phone");
      await phone.vctx.close();
      // One conversation, identified, on the server.
      const convs = (await owner.call("GET", "/conversations?limit=100")).conversations;
      const details = await Promise.all(convs.map((c) => owner.call("GET", "/conversations/" + c.id + "?limit=200")));
      const hers = details.filter((d) => (d.messages || []).some((m) => m.body === "Where is my order 1234?"));
      assert.equal(hers.length, 1);

      // A wrong signature: refused (4001), so the widget says the chat is
      // unavailable and shows none of Ada's history.
      const mallory = await visit({ ...ada(secret), signature: sign("not-the-secret", "user_829") });
      await mallory.frame.getByText("The chat is unavailable on this page.").waitFor({ timeout: 15_000 });
      assert.equal(await mallory.frame.getByRole("textbox").isDisabled(), true);
      assert.ok(!(await texts(mallory.frame)).includes("Where is my order 1234?"));
      await shot(mallory.vpage, "identity-refused");
      await mallory.vctx.close();

      // Rotate, after confirming: the old signature stops working at once,
      // the new one finds Ada's chat.
      const asked = accept(page);
      await section.getByRole("button", { name: "Rotate secret" }).click();
      assert.match(await asked, /stop working at once/);
      await until(async () => (await section.getByLabel("Identity secret").inputValue()) !== secret, 10_000, "the new secret");
      const rotated = await section.getByLabel("Identity secret").inputValue();
      assert.match(rotated, /^fdid_/);
      const stale = await visit(ada(secret));
      await stale.frame.getByText("The chat is unavailable on this page.").waitFor({ timeout: 15_000 });
      await stale.vctx.close();
      const fresh = await visit(ada(rotated));
      await fresh.frame.locator(".msg.visitor").filter({ hasText: "Where is my order 1234?" }).waitFor();
      await fresh.vctx.close();

      // Turned off, after confirming: identities are ignored, and Ada is
      // an anonymous visitor without her history.
      const askedOff = accept(page);
      await section.getByRole("button", { name: "Turn off" }).click();
      assert.match(await askedOff, /every visitor is anonymous/);
      await status.getByText("off", { exact: true }).waitFor();
      await section.getByLabel("Identity secret").waitFor({ state: "detached" });
      assert.equal((await owner.call("GET", "/channels/" + demo.id)).identity_verification, false);
      const anon = await visit(ada(rotated));
      await anon.frame.locator(".msg.bot").first().waitFor();
      await sleep(500);
      assert.ok(!(await texts(anon.frame)).includes("Where is my order 1234?"));
      await anon.vctx.close();
    } finally {
      await site.close();
    }
    assert.deepEqual(errors, []);
    await ctx.close();
  });
});
