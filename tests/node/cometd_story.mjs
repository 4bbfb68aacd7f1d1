// The agent story of the Workspace API, driven by the stock npm `cometd` client in Node with
// `cometd-nodejs-client`: two agents sign in and go Ready, an interaction is created, agent A
// is notified and rejects, agent B is notified, accepts, updates user data and completes;
// both see every expected notification in order; the completed interaction appears in
// LCM GetCustomerJourney. Usage: node cometd_story.mjs PORT [REST_PORT] (admin root:secret):
// the CometD clients long-poll PORT; the REST calls go to REST_PORT (default PORT), another
// node over the same store when given.

import { adapt } from "cometd-nodejs-client";
import { CometD } from "cometd";
import assert from "node:assert/strict";

adapt();

const port = process.argv[2];
const base = `http://127.0.0.1:${process.argv[3] ?? port}`;
const cometdBase = `http://127.0.0.1:${port}`;
const basic = (user, password) =>
  "Basic " + Buffer.from(`${user}:${password}`).toString("base64");

async function call(method, path, { auth, cookie, body } = {}) {
  const headers = { "Content-Type": "application/json" };
  if (auth) headers.Authorization = auth;
  if (cookie) headers.Cookie = cookie;
  // CONTEXTD_KEY: the API key for the key-checked routes (the Workspace API signs in itself).
  if (process.env.CONTEXTD_KEY && !path.startsWith("/api/v2")) headers["X-Api-Key"] = process.env.CONTEXTD_KEY;
  const res = await fetch(base + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const setCookie = res.headers.get("set-cookie");
  return { status: res.status, json: text ? JSON.parse(text) : null, setCookie };
}

async function signIn(user, password) {
  const r = await call("GET", "/api/v2/me", { auth: basic(user, password) });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  assert.equal(r.json.user.userName, user);
  const m = /JSESSIONID=([^;]+)/.exec(r.setCookie ?? "");
  assert.ok(m, "a JSESSIONID cookie is set");
  return `JSESSIONID=${m[1]}`;
}

// A stock client: only the URL and the session cookie are configured. WebSocket is tried
// first and refused by the server; the client falls back to long-polling by itself.
function connect(name, cookie, seen) {
  return new Promise((resolve, reject) => {
    const cometd = new CometD(name);
    cometd.configure({
      url: `${cometdBase}/api/v2/notifications`,
      requestHeaders: { Cookie: cookie },
      logLevel: "warn",
    });
    let subscribed = false;
    cometd.addListener("/meta/handshake", (reply) => {
      if (!reply.successful || subscribed) return;  // the refused WebSocket attempt
      subscribed = true;
      cometd.subscribe(
        "/v2/me/interactions",
        (message) => seen.push(message.data),
        (ack) => (ack.successful ? resolve(cometd) : reject(new Error(JSON.stringify(ack)))),
      );
    });
    cometd.handshake();
    setTimeout(() => reject(new Error(`${name}: no subscription within 10 s`)), 10000);
  });
}

async function waitFor(seen, count, what) {
  for (let i = 0; i < 200 && seen.length < count; ++i) {
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.ok(seen.length >= count, `${what}: ${seen.length} of ${count} notifications: ` +
    JSON.stringify(seen));
}

const summary = (seen) =>
  seen.map((d) => `${d.notificationType}:${d.interaction.state}`);

const admin = await signIn("root", "secret");
for (const user of ["agentA", "agentB"]) {
  const r = await call("POST", "/api/v2/users", {
    cookie: admin,
    body: { userName: user, password: "pw-" + user, firstName: user, roles: ["ROLE_AGENT"] },
  });
  assert.equal(r.status, 200, JSON.stringify(r.json));
}
const a = await signIn("agentA", "pw-agentA");
const b = await signIn("agentB", "pw-agentB");
const seenA = [], seenB = [];
const clientA = await connect("A", a, seenA);
const clientB = await connect("B", b, seenB);
for (const cookie of [a, b]) {  // A is Ready first: with equal load it gets the offer
  let r = await call("POST", "/api/v2/me", {
    cookie, body: { operationName: "StartContactCenterSession", channels: ["email"] },
  });
  assert.deepEqual(r.json, { statusCode: 0 });
  r = await call("POST", "/api/v2/me/channels/email", {
    cookie, body: { operationName: "Ready" },
  });
  assert.deepEqual(r.json, { status: "ok" });
  await new Promise((r) => setTimeout(r, 5));
}

const created = await call("POST", "/api/v2/interactions", {
  cookie: admin,
  body: {
    mediatype: "email", queue: "support",
    userData: { AccountNumber: "9|3|1711|0|0|84|-1", CustomerID: "C-77", Subject: "Refund",
                CampaignName: "tmasi" },
  },
});
assert.equal(created.status, 200, JSON.stringify(created.json));
const id = created.json.interaction.id;

await waitFor(seenA, 1, "A offered");
assert.equal(seenA[0].messageType, "InteractionStateChanged");
assert.equal(seenA[0].interaction.id, id);
assert.deepEqual(seenA[0].interaction.capabilities, ["Accept", "Reject"]);
let r = await call("POST", `/api/v2/me/interactions/${id}`, {
  cookie: a, body: { operationName: "Reject" },
});
assert.deepEqual(r.json, { status: "ok" });
await waitFor(seenB, 1, "B offered");
r = await call("POST", `/api/v2/me/interactions/${id}`, {
  cookie: b, body: { operationName: "Accept" },
});
assert.deepEqual(r.json, { status: "ok" });
r = await call("POST", `/api/v2/me/interactions/${id}`, {
  cookie: b, body: { operationName: "UpdateUserData", userData: { Outcome: "Refunded", OutcomeId: 4 } },
});
assert.deepEqual(r.json, { status: "ok" });
r = await call("POST", `/api/v2/me/interactions/${id}`, {
  cookie: b, body: { operationName: "Complete" },
});
assert.deepEqual(r.json, { statusCode: 0 });
// A refused operation: its failure body, nothing changes.
r = await call("POST", `/api/v2/me/interactions/${id}`, {
  cookie: a, body: { operationName: "Accept" },
});
assert.equal(r.status, 404);
assert.equal(r.json.status, "error");

await waitFor(seenB, 4, "B's notifications");
await waitFor(seenA, 2, "A's notifications");
assert.deepEqual(summary(seenA), ["StatusChange:Invited", "StatusChange:Completed"]);
assert.deepEqual(summary(seenB), ["StatusChange:Invited", "StatusChange:Processing",
                                  "PropertiesUpdated:Processing", "StatusChange:Completed"]);
assert.equal(seenB[2].interaction.userData.Outcome, "Refunded");
assert.deepEqual(seenB[3].interaction.capabilities, []);

const journey = await call("POST", "/lcm/messages", {
  body: { channel: "LCM", topic: "WebService", subtopic: "GetCustomerJourney",
          data: { callid: "1", AccountNumber: "9|3|1711|0|0|84|-1", ChannelID: 3, MonthType: 1 } },
});
assert.equal(journey.status, 200, JSON.stringify(journey.json));
const rows = journey.json.message.response;
assert.equal(rows.length, 1, JSON.stringify(journey.json));
assert.equal(rows[0].AgentName, "agentB");
assert.equal(rows[0].Outcome, "Refunded");
assert.equal(rows[0].OutcomeId, 4);
assert.equal(rows[0].ChannelType, 3);
assert.equal(rows[0].CampaignName, "tmasi");
assert.equal(rows[0].ContactID, id);

await new Promise((resolve) => clientA.disconnect(resolve));
await new Promise((resolve) => clientB.disconnect(resolve));
console.log("ok: cometd agent story");
process.exit(0);
