// Ingest-to-alert latency: POST a contact with crisis words, wait for its `alert` event on the
// live stream. Run by bench/alerts.sh (BASE_URL, TOKEN of a supervisor, CONTACTS, IN_FLIGHT).
const base = process.env.BASE_URL;
const headers = { authorization: `Bearer ${process.env.TOKEN}`, "content-type": "application/json" };
const total = Number(process.env.CONTACTS ?? 2000);
const inFlight = Number(process.env.IN_FLIGHT ?? 1);

const customer = await (
  await fetch(`${base}/api/v1/customers`, {
    method: "POST",
    headers,
    body: JSON.stringify({ name: "山田 花子", kana: "ヤマダ ハナコ", phones: ["03-1234-5678"] }),
  })
).json();

// The stream: `alert` events carry the contact's text, which carries the marker `#n`.
const sent = new Map();
const alertLatency = [];
const postLatency = [];
const waiting = new Map();
const stream = await fetch(`${base}/api/v1/events`, { headers });
if (stream.status !== 200) throw new Error(`stream: HTTP ${stream.status}`);
(async () => {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of stream.body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (!block.includes("event: alert\n")) continue;
      const data = JSON.parse(block.split("\n").find((l) => l.startsWith("data: ")).slice(6));
      const marker = /#(w?\d+)/.exec(data.text)[1];
      const started = sent.get(marker);
      alertLatency.push(performance.now() - started);
      waiting.get(marker)?.();
    }
  }
})();

async function one(n) {
  const marker = String(n);
  const arrived = new Promise((resolve) => waiting.set(marker, resolve));
  const started = performance.now();
  sent.set(marker, started);
  const response = await fetch(`${base}/api/v1/customers/${customer.id}/contacts`, {
    method: "POST",
    headers,
    body: JSON.stringify({
      channel: "sns",
      direction: "inbound",
      text: `何度言っても届かない。責任者を出せ、消費者センターに相談する #${n}`,
    }),
  });
  await response.arrayBuffer();
  if (response.status !== 201) throw new Error(`POST: HTTP ${response.status}`);
  postLatency.push(performance.now() - started);
  await arrived;
}

// Warm-up, not counted.
for (let n = 0; n < 50; n++) await one(`w${n}`);
alertLatency.length = 0;
postLatency.length = 0;

const began = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: inFlight }, async () => {
    while (next < total) await one(next++);
  }),
);
const seconds = (performance.now() - began) / 1000;

function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(2);
  return { n: sorted.length, p50_ms: at(0.5), p90_ms: at(0.9), p99_ms: at(0.99), max_ms: sorted[sorted.length - 1].toFixed(2) };
}
console.log(
  JSON.stringify({
    contacts: total,
    in_flight: inFlight,
    contacts_per_s: Math.round(total / seconds),
    post_to_alert_event: summary(alertLatency),
    post_response: summary(postLatency),
  }),
);
process.exit(0);
