// The agent timeline page (/ui/) in headless Chromium (Debian's), driven by playwright-core:
// seeds a caller's services and interactions over HTTP, searches as a person would, checks what
// the page shows and saves a screenshot. Usage: node ui_test.mjs PORT SCREENSHOT.png

import { chromium } from "playwright-core";
import assert from "node:assert/strict";

const [port, screenshot] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;
// CONTEXTD_KEY: the API key to send, from the seeding calls and from the page alike.
const keyHeader = process.env.CONTEXTD_KEY ? { "X-Api-Key": process.env.CONTEXTD_KEY } : {};

async function post(path, body, ndjson = false) {
  const res = await fetch(base + path, {
    method: "POST",
    headers: { "Content-Type": ndjson ? "application/x-ndjson" : "application/json", ...keyHeader },
    body: ndjson ? body : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.status < 300, `${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// The caller: one active service (in queue, with a task), one completed service, and
// interactions on three channels.
const cs = "/genesys/1/cs";
const active = await post(`${cs}/services/start`, {
  customer_id: "C-4471", service_type: "NewWireless", media_type: "voice",
  timestamp: "2026-11-24T09:12:00Z",
});
await post(`${cs}/services/${active.service_id}/states/start`,
           { state_type: "InQueue", timestamp: "2026-11-24T09:12:30Z" });
await post(`${cs}/services/${active.service_id}/tasks/start`,
           { task_type: "CallbackRequest", timestamp: "2026-11-24T09:13:00Z" });
const billing = await post(`${cs}/services/start`, {
  customer_id: "C-4471", service_type: "BillingDispute", timestamp: "2026-11-20T15:00:00Z",
});
await post(`${cs}/services/${billing.service_id}/end`,
           { disposition: "Resolved", timestamp: "2026-11-20T15:40:00Z" });
await post("/contextd/v1/interactions", [
  { customer_id: "C-4471", account_number: "4|3|12|0|0|51|1", channel: "voice",
    direction: "Outbound", campaign: "Renewals-Q4", outcome: "Callback", agent: "agent7",
    agent_comment: "call after 5", time: "2026-11-22T16:05:09Z" },
  { customer_id: "C-4471", channel: "sms", direction: "Outbound", campaign: "Renewals-Q4",
    outcome: "Delivered", time: "2026-11-23T08:00:00Z" },
  { customer_id: "C-4471", channel: "web", action_name: "TravelCard", action_issue: "Sales",
    action_group: "Cards", outcome: "Accepted", behaviour: "Positive",
    time: "2026-11-21T10:30:00Z" },
].map((x) => JSON.stringify(x)).join("\n"), true);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 }, extraHTTPHeaders: keyHeader });
  await page.goto(`${base}/ui/`);
  assert.equal(await page.title(), "contextd: caller timeline");
  await page.selectOption("#kind", "customer");
  await page.fill("#query", "C-4471");
  await page.click("button[type=submit]");
  await page.waitForSelector("#timeline li");

  // What a person sees: the status line, the active service first, then the history.
  const status = await page.textContent("#status");
  assert.equal(status, "1 active service(s), 4 history entries for C-4471.");
  const card = await page.textContent("#active .card");
  assert.match(card, /NewWireless #\d+/);
  assert.match(card, /state InQueue \(now\)/);
  assert.match(card, /task CallbackRequest \(open\)/);
  assert.ok(await page.isVisible("#active-section"));
  const items = await page.$$eval("#timeline li", (lis) => lis.map((li) => li.innerText));
  assert.equal(items.length, 4, items.join("\n"));
  assert.match(items[0], /2026-11-23 08:00 UTC\s*SMS[\s\S]*Delivered/i);
  assert.match(items[1], /2026-11-22 16:05 UTC\s*VOICE[\s\S]*Callback[\s\S]*agent agent7/i);
  assert.match(items[2], /2026-11-21 10:30 UTC\s*WEB[\s\S]*Sales \/ Cards \/ TravelCard[\s\S]*Accepted/i);
  assert.match(items[3], /2026-11-20 15:40 UTC\s*SERVICE[\s\S]*BillingDispute[\s\S]*Resolved/i);
  const accepted = await page.$eval("#timeline li:nth-child(3) .outcome",
                                    (el) => getComputedStyle(el).color);
  assert.equal(accepted, "rgb(27, 127, 75)");  // a positive outcome shows green
  await page.screenshot({ path: screenshot, fullPage: true });

  // By account number: only the interaction that carries it.
  await page.selectOption("#kind", "account");
  await page.fill("#query", "4|3|12|0|0|51|1");
  await page.click("button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#status").textContent.includes("4|3|12"));
  assert.equal(await page.textContent("#status"), "0 active service(s), 1 history entries for 4|3|12|0|0|51|1.");
  assert.ok(!(await page.isVisible("#active-section")));

  // Nothing known: said so, no stale results.
  await page.selectOption("#kind", "phone");
  await page.fill("#query", "+10000000000");
  await page.click("button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#status").textContent.startsWith("Nothing"));
  assert.ok(!(await page.isVisible("#timeline-section")));
  console.log(`ok: ui timeline (screenshot ${screenshot})`);
} finally {
  await browser.close();
}
