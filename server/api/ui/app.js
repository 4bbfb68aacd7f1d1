// The caller timeline: active services first (with states and tasks), then completed services
// and interactions of every channel on one time axis, newest first.
"use strict";

const $ = (id) => document.getElementById(id);
const cs = "/genesys/1/cs";
const expand = "active_states=true&completed_states=true&active_tasks=true&completed_tasks=true";

function text(tag, cls, content) {
  const el = document.createElement(tag);
  if (cls) el.className = cls;
  if (content !== undefined) el.textContent = content;
  return el;
}

function when(iso) {
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

// The API key (a reader key of the tenant) is kept for this browser tab only.
const keyField = () => $("apikey");
async function get(path, tenant) {
  const headers = tenant ? { ContactCenterId: tenant } : {};
  const key = keyField().value.trim();
  if (key) {
    headers["X-Api-Key"] = key;
    sessionStorage.setItem("contextd-api-key", key);
  }
  const res = await fetch(path, { headers });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error((body && (body.message || body.statusMessage)) || res.statusText);
  return body;
}

function serviceTitle(s) {
  return String(s.service_type ?? "service") + " #" + s.service_id;
}

function activeCard(s) {
  const card = text("div", "card");
  card.appendChild(text("h3", "", serviceTitle(s)));
  const who = s.customer_id ? "customer " + s.customer_id : "contact " + s.contact_key;
  card.appendChild(text("div", "meta", "started " + when(s.started.timestamp) + " · " + who));
  const children = text("div", "children");
  for (const st of [...(s.active_states || []), ...(s.completed_states || [])]) {
    const done = !!st.completed;
    children.appendChild(text("span", "pill" + (done ? "" : " active"),
      "state " + (st.state_type ?? st.state_id) + (done ? " (done)" : " (now)")));
  }
  for (const t of [...(s.active_tasks || []), ...(s.completed_tasks || [])]) {
    const done = !!t.completed;
    children.appendChild(text("span", "pill" + (done ? "" : " active"),
      "task " + (t.task_type ?? t.task_id) + (done ? " (done)" : " (open)")));
  }
  if (children.childElementCount) card.appendChild(children);
  return card;
}

function outcomeClass(x) {
  const b = (x.behaviour || "").toLowerCase();
  return "outcome" + (b === "positive" ? " positive" : b === "negative" ? " negative" : "");
}

function timelineItem(entry) {
  const li = text("li");
  li.appendChild(text("span", "when", when(entry.time)));
  li.appendChild(text("span", "channel" + (entry.kind === "service" ? " service" : ""),
                      entry.channel));
  li.appendChild(text("strong", "", entry.title));
  if (entry.outcome) {
    li.appendChild(document.createTextNode(" → "));
    li.appendChild(text("span", entry.outcomeClass, entry.outcome));
  }
  if (entry.detail) li.appendChild(text("div", "meta", entry.detail));
  return li;
}

function serviceEntry(s) {
  const end = s.completed || {};
  return {
    kind: "service", time: end.timestamp || s.started.timestamp, channel: "service",
    title: serviceTitle(s), outcome: end.disposition || "completed", outcomeClass: "outcome",
    detail: "started " + when(s.started.timestamp) +
            (s.started.media_type ? " · " + s.started.media_type : ""),
  };
}

function interactionEntry(x) {
  const action = [x.action_issue, x.action_group, x.action_name].filter(Boolean).join(" / ");
  const title = action || x.campaign || x.external_id || "interaction";
  const detail = [x.direction, x.campaign && "campaign " + x.campaign, x.agent && "agent " + x.agent,
                  x.agent_comment, x.contact_number].filter(Boolean).join(" · ");
  return { kind: "interaction", time: x.time, channel: x.channel || "other", title,
           outcome: x.outcome, outcomeClass: outcomeClass(x), detail };
}

async function search(kind, value, tenant) {
  const v = encodeURIComponent(value);
  const services = [];
  let interactions = [];
  if (kind === "customer") {
    services.push(...await get(`${cs}/customers/${v}/services?${expand}`, tenant));
    interactions = (await get(`/contextd/v1/interactions?customer_id=${v}`, tenant)).interactions;
  } else if (kind === "contact" || kind === "phone") {
    services.push(...await get(`${cs}/services/anonymous/${v}?${expand}`, tenant));
    interactions = (await get(`/contextd/v1/interactions?contact_number=${v}`, tenant)).interactions;
  } else {
    interactions = (await get(`/contextd/v1/interactions?account_number=${v}`, tenant)).interactions;
  }
  return { services, interactions };
}

$("search").addEventListener("submit", async (event) => {
  event.preventDefault();
  const value = $("query").value.trim();
  if (!value) return;
  const status = $("status");
  status.className = "";
  status.textContent = "Searching…";
  try {
    const { services, interactions } = await search($("kind").value, value, $("tenant").value.trim());
    const active = services.filter((s) => !s.completed);
    const entries = [...services.filter((s) => s.completed).map(serviceEntry),
                     ...interactions.map(interactionEntry)]
      .sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
    $("active").replaceChildren(...active.map(activeCard));
    $("timeline").replaceChildren(...entries.map(timelineItem));
    $("active-section").hidden = active.length === 0;
    $("timeline-section").hidden = entries.length === 0;
    status.textContent = active.length + entries.length === 0
      ? "Nothing recorded for " + value + "."
      : `${active.length} active service(s), ${entries.length} history entries for ${value}.`;
  } catch (e) {
    status.className = "error";
    status.textContent = "Search failed: " + e.message;
  }
});

keyField().value = sessionStorage.getItem("contextd-api-key") ?? "";
