// Holds N stock CometD clients (npm `cometd` + `cometd-nodejs-client`) on a contextd server:
// AGENTS agents sign in, each runs N/AGENTS clients subscribed to /v2/me/interactions in the
// long-polling connect loop. Prints "held N" once every client is subscribed and has a
// connect held, then keeps them until killed (SIGTERM), checking that a notification still
// reaches one of them ("delivered" line).
//
//   node bench/cometd_clients.mjs PORT N      (admin root:secret)

import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const modules = path.join(root, "tests/node/node_modules");
const { adapt } = await import(path.join(modules, "cometd-nodejs-client/cometd-nodejs-client.js"));
const { CometD } = await import(path.join(modules, "cometd/cometd.js"));
adapt();

const port = process.argv[2];
const total = Number(process.argv[3] ?? 500);
const agents = Math.min(50, total);
const base = `http://127.0.0.1:${port}`;
const basic = (u, p) => "Basic " + Buffer.from(`${u}:${p}`).toString("base64");

async function call(method, pathname, headers, body) {
  const res = await fetch(base + pathname, {
    method,
    headers: { "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${method} ${pathname}: ${res.status} ${text}`);
  return { json: JSON.parse(text), cookie: res.headers.get("set-cookie") };
}

const admin = { Authorization: basic("root", "secret") };
const cookies = [];
for (let i = 0; i < agents; ++i) {
  const name = `load${i}`;
  await call("POST", "/api/v2/users", admin,
             { userName: name, password: "pw", roles: ["ROLE_AGENT"] });
  const me = await call("GET", "/api/v2/me", { Authorization: basic(name, "pw") });
  const cookie = me.cookie.split(";")[0];
  await call("POST", "/api/v2/me", { Cookie: cookie },
             { operationName: "StartContactCenterSession", channels: ["email"] });
  cookies.push(cookie);
}

let delivered = 0;
const clients = [];
await Promise.all(Array.from({ length: total }, (_, i) => new Promise((resolve, reject) => {
  const cometd = new CometD(`c${i}`);
  cometd.configure({ url: `${base}/api/v2/notifications`,
                     requestHeaders: { Cookie: cookies[i % agents] }, logLevel: "warn" });
  let done = false;
  cometd.addListener("/meta/handshake", (reply) => {
    if (!reply.successful || done) return;
    done = true;
    cometd.subscribe("/v2/me/interactions", () => ++delivered,
                     (ack) => (ack.successful ? resolve() : reject(new Error("subscribe"))));
  });
  cometd.handshake();
  clients.push(cometd);
})));
// Every client's second connect is held by now or shortly.
await new Promise((r) => setTimeout(r, 1000));
console.log(`held ${total}`);

process.on("SIGTERM", async () => {
  // One notification under load: agent load0 goes Ready and gets an offer.
  await call("POST", "/api/v2/me/channels/email", { Cookie: cookies[0] },
             { operationName: "Ready" });
  await call("POST", "/api/v2/interactions", admin, { mediatype: "email", queue: "q" });
  for (let i = 0; i < 100 && delivered === 0; ++i) await new Promise((r) => setTimeout(r, 20));
  console.log(`delivered ${delivered}`);
  process.exit(delivered > 0 ? 0 : 1);
});
setInterval(() => {}, 1 << 30);
