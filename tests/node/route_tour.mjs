// Calls every route of contextd once or more with requests the contract allows (some of them
// refused by the server, as documented), checking each status, and reads back what each write
// stored (the fields sent, found in a GET of the resource); run through Prism's validation
// proxy (run_prism.sh) it checks every route's requests and replies against
// openapi/openapi.yaml. Usage: node route_tour.mjs PORT (admin root:secret).

import assert from "node:assert/strict";

const base = `http://127.0.0.1:${process.argv[2]}`;
const cs = "/genesys/1/cs";
let calls = 0;

async function call(method, path, body, { status = 200, headers = {} } = {}) {
  // CONTEXTD_KEY: the API key to send (Workspace routes sign in themselves).
  const key = process.env.CONTEXTD_KEY && !path.startsWith("/api/v2") ? { "X-Api-Key": process.env.CONTEXTD_KEY } : {};
  const init = { method, headers: { ...key, ...headers } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  const res = await fetch(base + path, init);
  const text = await res.text();
  ++calls;
  assert.equal(res.status, status, `${method} ${path}: ${text}`);
  const type = res.headers.get("content-type") ?? "";
  return { json: type.includes("json") && text ? JSON.parse(text) : text, headers: res.headers };
}

// True when `actual` holds everything in `expected`: objects key by key (other keys allowed),
// arrays element by element (same length), anything else equal.
function holds(actual, expected) {
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length &&
      expected.every((e, i) => holds(actual[i], e));
  }
  if (expected !== null && typeof expected === "object") {
    return actual !== null && typeof actual === "object" && !Array.isArray(actual) &&
      Object.entries(expected).every(([k, v]) => holds(actual[k], v));
  }
  return actual === expected;
}
// `actual` itself, or any value nested in it, that holds `expected`.
function find(actual, expected) {
  if (holds(actual, expected)) return actual;
  if (actual !== null && typeof actual === "object") {
    for (const v of Object.values(actual)) {
      const found = find(v, expected);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
// GETs `path` and asserts it holds `expected`: a list (`[]` included) is the whole reply, an
// object the reply or any value nested in it; returns the part that holds it.
async function stored(path, expected, options = {}) {
  const { json } = await call("GET", path, undefined, options);
  const found = Array.isArray(expected) ? (holds(json, expected) ? json : undefined)
                                        : find(json, expected);
  assert.notEqual(found, undefined,
    `GET ${path} does not hold ${JSON.stringify(expected)}: ${JSON.stringify(json)}`);
  return found;
}

// Health and the page.
await call("GET", "/health");
await call("GET", "/ready");
await call("GET", "/metrics");
await call("GET", "/ui");
await call("GET", "/ui/app.js");
await call("GET", "/ui/nope.js", undefined, { status: 404 });
await call("GET", "/contextd/v1/latency");
await call("POST", "/contextd/v1/latency/reset", undefined, { status: 204 });

// Access control: a tenant, a reader key bound to it, its 403 replies, revocation (401).
await call("POST", "/contextd/v1/tenants", { name: "tour" }, { status: 201 });
await stored("/contextd/v1/tenants", [{ name: "tour" }]);
const reader = (await call("POST", "/contextd/v1/keys", { role: "reader", tenant: "tour", name: "ivr" },
  { status: 201 })).json;
const listed = await stored("/contextd/v1/keys",
  { id: reader.id, role: "reader", tenant: "tour", name: "ivr" });
assert.equal(listed.revoked, undefined, JSON.stringify(listed));
const asReader = { "X-Api-Key": reader.key };
await call("GET", `${cs}/customers/T1/services/active`, undefined, { headers: asReader });
await call("POST", `${cs}/services/start`, { contact_key: "k" }, { status: 403, headers: asReader });
await call("GET", `${cs}/customers/T1/services/active`, undefined,
  { status: 403, headers: { ...asReader, ContactCenterId: "other" } });
// (A request without any key is refused by Prism itself; access_e2e_test.cc covers it.)
await call("DELETE", `/contextd/v1/keys/${reader.id}`);
assert.match((await stored("/contextd/v1/keys", { id: reader.id })).revoked ?? "", /^\d{4}-/);
await call("GET", `${cs}/customers/T1/services/active`, undefined, { status: 401, headers: asReader });

// Context Services.
const s = (await call("POST", `${cs}/services/start`,
  { customer_id: "T1", service_type: "Tour", media_type: "voice", Offer: { name: "gold" } },
  { status: 201 })).json;
const sid = s.service_id;
const service = `${cs}/services/${sid}`;
await stored(`${service}?extensions=*`, { service_id: sid, customer_id: "T1", service_type: "Tour",
  started: { media_type: "voice" }, Offer: { name: "gold" } });
await call("GET", `${cs}/services/999999`, undefined, { status: 400 });
// An extension written whole replaces the stored one; a merge adds to it.
const extension = async (path, name, value) =>
  assert.deepEqual((await stored(path, {}))[name], value, `${name} of ${path}`);
await call("PUT", `${service}/extensions/Offer`, { name: "silver" });
await extension(`${service}?extensions=*`, "Offer", { name: "silver" });
await call("PUT", `${service}/extensions/Offer/merge`, { level: 2 });
await extension(`${service}?extensions=*`, "Offer", { name: "silver", level: 2 });
const st = (await call("POST", `${service}/states/start`, { state_type: "InQueue" },
  { status: 201 })).json;
const state = `${service}/states/${st.state_id}`;
await stored(state, { service_id: sid, state_id: st.state_id, state_type: "InQueue" });
await call("PUT", `${state}/extensions/Note`, { text: "a" });
await extension(`${state}?extensions=*`, "Note", { text: "a" });
await call("PUT", `${state}/extensions/Note/merge`, { b: 1 });
await extension(`${state}?extensions=*`, "Note", { text: "a", b: 1 });
const st2 = (await call("POST", `${service}/states/transition`,
  { from: { state_id: st.state_id }, to: { state_type: "WithAgent" } }, { status: 201 })).json;
assert.notEqual((await stored(state, { state_id: st.state_id })).completed, undefined,
  "ended by the transition");
await stored(`${service}/states`, [{ state_id: st.state_id }, { state_id: st2.state_id }]);
await stored(`${service}/states/active`, [{ state_id: st2.state_id }]);
await stored(`${service}/states/completed`, [{ state_id: st.state_id }]);
await stored(`${service}/states/${st2.state_id}`,
  { state_id: st2.state_id, state_type: "WithAgent", previous_state_id: st.state_id });
await call("POST", `${service}/states/${st2.state_id}/end`, {}, { status: 204 });
await stored(`${service}/states/active`, []);
const t = (await call("POST", `${service}/tasks/start`, { task_type: "Callback" },
  { status: 201 })).json;
const task = `${service}/tasks/${t.task_id}`;
await call("PUT", `${task}/extensions/Data`, { x: 1 });
await extension(`${task}?extensions=*`, "Data", { x: 1 });
await call("POST", `${task}/extensions/Data`, { x: 2 });
await extension(`${task}?extensions=*`, "Data", { x: 2 });
await call("PUT", `${task}/extensions/Data/merge`, { y: 3 });
await extension(`${task}?extensions=*`, "Data", { x: 2, y: 3 });
await stored(`${service}/tasks`, [{ task_id: t.task_id }]);
await stored(`${service}/tasks/active`, [{ task_id: t.task_id, task_type: "Callback" }]);
await stored(task, { service_id: sid, task_id: t.task_id, task_type: "Callback" });
await call("POST", `${task}/end`, {}, { status: 204 });
await stored(`${service}/tasks/completed`, [{ task_id: t.task_id }]);
await stored(`${service}/tasks/active`, []);
const anon = (await call("POST", `${cs}/services/start`, { contact_key: "+14085550100" },
  { status: 201 })).json;
await stored(`${cs}/services/anonymous/%2B14085550100`, [{ service_id: anon.service_id }]);
await stored(`${cs}/services/anonymous/%2B14085550100/active?active_states=true`,
  [{ service_id: anon.service_id }]);
await call("POST", `${cs}/customers/T1/services/${anon.service_id}`, {});
await stored(`${cs}/services/${anon.service_id}`,
  { service_id: anon.service_id, customer_id: "T1" });
await call("GET", `${cs}/services/anonymous/%2B14085550100/completed`);
await call("POST", `${service}/end`, { disposition: "Done" }, { status: 204 });
await stored(service, { service_id: sid, completed: { disposition: "Done" } });
await stored(`${cs}/customers/T1/services?started_from=2020-01-01T00:00:00Z`,
  [{ service_id: sid }, { service_id: anon.service_id }]
    .sort((a, b) => b.service_id - a.service_id));
await stored(`${cs}/customers/T1/services/active`, [{ service_id: anon.service_id }]);
await stored(`${cs}/customers/T1/services/completed`, [{ service_id: sid }]);
await call("DELETE", `${cs}/services/${anon.service_id}`);
await call("GET", `${cs}/services/${anon.service_id}`, undefined, { status: 400 });

// Interaction history: native, Pega on both prefixes, LCM.
await call("PUT", "/contextd/v1/customers/T1", { account_number: "1|2|3|0|0|4|1" });
await stored("/contextd/v1/customers/T1", { customer_id: "T1", account_number: "1|2|3|0|0|4|1" });
await call("GET", "/contextd/v1/customers/nobody", undefined, { status: 404 });
await call("POST", "/contextd/v1/interactions",
  { customer_id: "T1", channel: "sms", outcome: "Delivered", time: "2026-11-20T10:00:00Z" },
  { status: 201 });
await stored("/contextd/v1/interactions?customer_id=T1&channel=sms", { interactions: [
  { customer_id: "T1", channel: "sms", outcome: "Delivered", time: "2026-11-20T10:00:00.000Z" }] });
const result = { Name: "MI", Issue: "Sales", Group: "Handsets", InteractionID: "-7714067498846096636",
                 Outcome: "Accepted", Behaviour: "Positive", Channel: "CallCenter",
                 Direction: "Inbound" };
// Each capture adds one entry with the result's fields to the customer's offer history.
let captured = 0;
const capturedNow = async (prefix) => {
  const { json } = await call("GET", `${prefix}/V2/CustomerOfferHistory?CustomerID=T1`);
  const entries = json.OfferHistory.filter((e) => holds(e, result));
  assert.equal(entries.length, ++captured, JSON.stringify(json));
};
for (const prefix of ["/prweb/PRRestService/PegaMKTContainer", "/prweb/api/PegaMKTContainer"]) {
  for (const variant of ["", "/Initiate"]) {
    await call("POST", `${prefix}/V2/CaptureResponse${variant}`,
               { ContainerName: "Offers", CustomerID: "T1", RankedResults: [result] });
    await capturedNow(prefix);
    await call("POST", `${prefix}/V3/CaptureResponse${variant}`,
               { ContainerName: "Offers", SubjectID: "T1", ContextName: "Customer",
                 RankedResults: [result] });
    await capturedNow(prefix);
  }
  await call("POST", `${prefix}/V2/CustomerOfferHistory`, { CustomerID: "T1" });
  await call("GET", `${prefix}/V2/CustomerOfferHistory?CustomerID=T1`);
}
await call("POST", "/lcm/messages", { channel: "LCM", topic: "WebService",
  subtopic: "GetCustomerJourney", data: { callid: "1", AccountNumber: "1|2|3|0|0|4|1",
  ChannelID: -1, MonthType: 12 } });
await call("POST", "/lcm/messages", { channel: "LCM", topic: "WebService",
  subtopic: "GetCustomerJourney", data: { ChannelID: 2, MonthType: 3 } }, { status: 400 });

// Workspace API and CometD.
const basic = (u, p) => ({ Authorization: "Basic " + Buffer.from(`${u}:${p}`).toString("base64") });
const admin = basic("root", "secret");
await call("POST", "/api/v2/users", { userName: "tour", password: "pw", roles: ["ROLE_AGENT"] },
           { headers: admin });
await stored("/api/v2/users", { userName: "tour", roles: ["ROLE_AGENT"] }, { headers: admin });
const me = await call("GET", "/api/v2/me", undefined, { headers: basic("tour", "pw") });
const agent = { Cookie: me.headers.get("set-cookie").split(";")[0] };
await call("POST", "/api/v2/me", { operationName: "StartContactCenterSession", channels: ["email"] },
           { headers: agent });
await call("POST", "/api/v2/me/channels/email", { operationName: "Ready" }, { headers: agent });
const created = (await call("POST", "/api/v2/interactions",
  { mediatype: "email", queue: "q", userData: { CustomerID: "T1" } }, { headers: admin })).json;
const id = created.interaction.id;
const sent = { id, mediatype: "email", userData: { CustomerID: "T1" } };
await stored("/api/v2/interactions?fields=*", sent, { headers: admin });
const mine = (await call("GET", "/api/v2/me/interactions", undefined, { headers: agent })).json;
assert.ok(mine.uris.some((u) => u.endsWith(`/api/v2/interactions/${id}`)), JSON.stringify(mine));
await stored(`/api/v2/interactions/${id}`, { interaction: sent }, { headers: agent });
await call("POST", `/api/v2/me/interactions/${id}`, { operationName: "Complete" },
           { headers: agent, status: 400 });
await call("POST", `/api/v2/me/interactions/${id}`, { operationName: "Accept" }, { headers: agent });
await stored(`/api/v2/interactions/${id}`, { interaction: { id, state: "Processing" } },
  { headers: agent });
await call("PUT", `/api/v2/interactions/${id}`, { userData: { Outcome: "Refunded" } },
           { headers: agent });
await stored(`/api/v2/interactions/${id}`,
  { interaction: { id, userData: { CustomerID: "T1", Outcome: "Refunded" } } }, { headers: agent });
await call("PUT", "/api/v2/interactions/nope", { userData: { Outcome: "Refunded" } },
           { headers: agent, status: 404 });
await call("POST", `/api/v2/me/interactions/${id}`, { operationName: "Complete" },
           { headers: agent });
await call("GET", "/api/v2/notifications", undefined, { headers: agent, status: 404 });
const hs = (await call("POST", "/api/v2/notifications/handshake",
  [{ id: "1", channel: "/meta/handshake", version: "1.0",
     supportedConnectionTypes: ["long-polling"] }], { headers: agent })).json;
const clientId = hs[0].clientId;
await call("POST", "/api/v2/notifications",
  [{ id: "2", channel: "/meta/subscribe", clientId, subscription: "/v2/me/interactions" }],
  { headers: agent });
await call("POST", "/api/v2/notifications/connect",
  [{ id: "3", channel: "/meta/connect", clientId, connectionType: "long-polling",
     advice: { timeout: 0 } }], { headers: agent });
await call("POST", "/api/v2/notifications/disconnect",
  [{ id: "4", channel: "/meta/disconnect", clientId }], { headers: agent });
await call("POST", "/api/v2/me", { operationName: "EndContactCenterSession" }, { headers: agent });
console.log(`ok: route tour, ${calls} calls`);
