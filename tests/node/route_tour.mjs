// Calls every route of contextd once or more with requests the contract allows (some of them
// refused by the server, as documented), checking each status; run through Prism's validation proxy (run_prism.sh) it checks every
// route's requests and replies against openapi/openapi.yaml. Usage: node route_tour.mjs PORT
// (admin root:secret).

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
await call("GET", "/contextd/v1/tenants");
const reader = (await call("POST", "/contextd/v1/keys", { role: "reader", tenant: "tour", name: "ivr" },
  { status: 201 })).json;
await call("GET", "/contextd/v1/keys");
const asReader = { "X-Api-Key": reader.key };
await call("GET", `${cs}/customers/T1/services/active`, undefined, { headers: asReader });
await call("POST", `${cs}/services/start`, { contact_key: "k" }, { status: 403, headers: asReader });
await call("GET", `${cs}/customers/T1/services/active`, undefined,
  { status: 403, headers: { ...asReader, ContactCenterId: "other" } });
// (A request without any key is refused by Prism itself; access_e2e_test.cc covers it.)
await call("DELETE", `/contextd/v1/keys/${reader.id}`);
await call("GET", `${cs}/customers/T1/services/active`, undefined, { status: 401, headers: asReader });

// Context Services.
const s = (await call("POST", `${cs}/services/start`,
  { customer_id: "T1", service_type: "Tour", media_type: "voice", Offer: { name: "gold" } },
  { status: 201 })).json;
const sid = s.service_id;
await call("GET", `${cs}/services/${sid}?extensions=*`);
await call("GET", `${cs}/services/999999`, undefined, { status: 400 });
await call("PUT", `${cs}/services/${sid}/extensions/Offer`, { name: "silver" });
await call("PUT", `${cs}/services/${sid}/extensions/Offer/merge`, { level: 2 });
const st = (await call("POST", `${cs}/services/${sid}/states/start`, { state_type: "InQueue" },
  { status: 201 })).json;
await call("PUT", `${cs}/services/${sid}/states/${st.state_id}/extensions/Note`, { text: "a" });
await call("PUT", `${cs}/services/${sid}/states/${st.state_id}/extensions/Note/merge`, { b: 1 });
const st2 = (await call("POST", `${cs}/services/${sid}/states/transition`,
  { from: { state_id: st.state_id }, to: { state_type: "WithAgent" } }, { status: 201 })).json;
await call("GET", `${cs}/services/${sid}/states`);
await call("GET", `${cs}/services/${sid}/states/active`);
await call("GET", `${cs}/services/${sid}/states/completed`);
await call("GET", `${cs}/services/${sid}/states/${st2.state_id}`);
await call("POST", `${cs}/services/${sid}/states/${st2.state_id}/end`, {}, { status: 204 });
const t = (await call("POST", `${cs}/services/${sid}/tasks/start`, { task_type: "Callback" },
  { status: 201 })).json;
await call("PUT", `${cs}/services/${sid}/tasks/${t.task_id}/extensions/Data`, { x: 1 });
await call("POST", `${cs}/services/${sid}/tasks/${t.task_id}/extensions/Data`, { x: 2 });
await call("PUT", `${cs}/services/${sid}/tasks/${t.task_id}/extensions/Data/merge`, { y: 3 });
await call("GET", `${cs}/services/${sid}/tasks`);
await call("GET", `${cs}/services/${sid}/tasks/active`);
await call("GET", `${cs}/services/${sid}/tasks/${t.task_id}`);
await call("POST", `${cs}/services/${sid}/tasks/${t.task_id}/end`, {}, { status: 204 });
await call("GET", `${cs}/services/${sid}/tasks/completed`);
const anon = (await call("POST", `${cs}/services/start`, { contact_key: "+14085550100" },
  { status: 201 })).json;
await call("GET", `${cs}/services/anonymous/%2B14085550100`);
await call("GET", `${cs}/services/anonymous/%2B14085550100/active?active_states=true`);
await call("POST", `${cs}/customers/T1/services/${anon.service_id}`, {});
await call("GET", `${cs}/services/anonymous/%2B14085550100/completed`);
await call("POST", `${cs}/services/${sid}/end`, { disposition: "Done" }, { status: 204 });
await call("GET", `${cs}/customers/T1/services?started_from=2020-01-01T00:00:00Z`);
await call("GET", `${cs}/customers/T1/services/active`);
await call("GET", `${cs}/customers/T1/services/completed`);
await call("DELETE", `${cs}/services/${anon.service_id}`);

// Interaction history: native, Pega on both prefixes, LCM.
await call("PUT", "/contextd/v1/customers/T1", { account_number: "1|2|3|0|0|4|1" });
await call("GET", "/contextd/v1/customers/T1");
await call("GET", "/contextd/v1/customers/nobody", undefined, { status: 404 });
await call("POST", "/contextd/v1/interactions",
  { customer_id: "T1", channel: "sms", outcome: "Delivered", time: "2026-11-20T10:00:00Z" },
  { status: 201 });
await call("GET", "/contextd/v1/interactions?customer_id=T1&channel=sms");
const result = { Name: "MI", Issue: "Sales", Group: "Handsets", InteractionID: "-7714067498846096636",
                 Outcome: "Accepted", Behaviour: "Positive", Channel: "CallCenter",
                 Direction: "Inbound" };
for (const prefix of ["/prweb/PRRestService/PegaMKTContainer", "/prweb/api/PegaMKTContainer"]) {
  for (const variant of ["", "/Initiate"]) {
    await call("POST", `${prefix}/V2/CaptureResponse${variant}`,
               { ContainerName: "Offers", CustomerID: "T1", RankedResults: [result] });
    await call("POST", `${prefix}/V3/CaptureResponse${variant}`,
               { ContainerName: "Offers", SubjectID: "T1", ContextName: "Customer",
                 RankedResults: [result] });
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
await call("GET", "/api/v2/users", undefined, { headers: admin });
const me = await call("GET", "/api/v2/me", undefined, { headers: basic("tour", "pw") });
const agent = { Cookie: me.headers.get("set-cookie").split(";")[0] };
await call("POST", "/api/v2/me", { operationName: "StartContactCenterSession", channels: ["email"] },
           { headers: agent });
await call("POST", "/api/v2/me/channels/email", { operationName: "Ready" }, { headers: agent });
const created = (await call("POST", "/api/v2/interactions",
  { mediatype: "email", queue: "q", userData: { CustomerID: "T1" } }, { headers: admin })).json;
const id = created.interaction.id;
await call("GET", "/api/v2/interactions?fields=*", undefined, { headers: admin });
await call("GET", "/api/v2/me/interactions", undefined, { headers: agent });
await call("GET", `/api/v2/interactions/${id}`, undefined, { headers: agent });
await call("POST", `/api/v2/me/interactions/${id}`, { operationName: "Complete" },
           { headers: agent, status: 400 });
await call("POST", `/api/v2/me/interactions/${id}`, { operationName: "Accept" }, { headers: agent });
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
