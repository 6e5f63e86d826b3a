/**
 * The page at /: the relay's status, refreshed every few seconds from /status. One file, no
 * build step, no external assets.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Relay status</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1b1f24; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
  h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
  .meta { color: #57606a; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #d0d7de; vertical-align: top; }
  th { background: #f6f8fa; font-weight: 600; }
  td.n { text-align: right; font-variant-numeric: tabular-nums; }
  .closed { color: #1a7f37; } .open { color: #cf222e; font-weight: 600; } .half_open { color: #9a6700; font-weight: 600; }
  .err { color: #cf222e; max-width: 28rem; overflow-wrap: anywhere; }
</style>
</head>
<body>
<h1>Relay <span id="relay"></span></h1>
<div class="meta" id="meta">loading…</div>
<h2>Tables</h2>
<table><thead><tr><th>table</th><th>waiting</th><th>active</th><th>delayed</th><th>failed</th><th>dead-lettered</th>
<th>records/s (1 min)</th><th>ack p50 / p99 ms</th><th>circuit</th><th>stream</th><th>last error</th></tr></thead><tbody id="tables"></tbody></table>
<h2>Workers in this relay</h2>
<table><thead><tr><th>worker</th><th>running</th><th>active</th><th>jobs done</th><th>retried</th><th>delayed by circuit</th>
<th>records written</th><th>records dead-lettered</th><th>last job</th></tr></thead><tbody id="workers"></tbody></table>
<h2>Dead-letter store</h2>
<div id="dlq" class="meta"></div>
<script>
const esc = (v) => String(v ?? '').replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]);
const n = (v) => (v === null || v === undefined ? '–' : esc(v));
const td = (v, cls) => '<td' + (cls ? ' class="' + cls + '"' : '') + '>' + v + '</td>';
async function refresh() {
  try {
    const s = await (await fetch('status')).json();
    document.getElementById('relay').textContent = s.relayId;
    document.getElementById('meta').textContent = 'up ' + s.uptimeS + ' s since ' + s.startedAt + (s.stopping ? ' · stopping' : '') + ' · updated ' + new Date().toLocaleTimeString();
    document.getElementById('tables').innerHTML = s.tables.map((t) => '<tr>' + td(esc(t.table)) +
      ['waiting', 'active', 'delayed', 'failed', 'deadLettered'].map((k) => td(t.queue ? n(t.queue[k]) : '?', 'n')).join('') +
      td(n(t.recordsPerS), 'n') + td(n(t.ackLatencyMs.p50) + ' / ' + n(t.ackLatencyMs.p99), 'n') +
      td(esc(t.circuit.state), t.circuit.state) + td(t.stream ? esc(t.stream.state) : '–') +
      td(t.lastError ? esc(t.lastError.code + ': ' + t.lastError.message) + '<br><span class="meta">' + esc(t.lastError.at) + '</span>' : '', 'err') + '</tr>').join('');
    document.getElementById('workers').innerHTML = s.workers.map((w) => '<tr>' + td(esc(w.id)) + td(w.running ? 'yes' : 'no') +
      ['active', 'jobsCompleted', 'jobsRetried', 'jobsDelayedByCircuit', 'recordsWritten', 'recordsDeadLettered'].map((k) => td(n(w[k]), 'n')).join('') +
      td(n(w.lastJobAt)) + '</tr>').join('');
    const d = s.deadLetters;
    document.getElementById('dlq').textContent = d ? d.entries + ' entries (' + d.bytes + ' bytes) of at most ' + d.maxEntries + ' entries / ' + d.maxBytes + ' bytes; refused at the bound: ' + d.refusedTotal + '. List them at /dlq.' : 'unknown (Redis did not answer)';
  } catch (err) {
    document.getElementById('meta').textContent = 'cannot read /status: ' + err;
  }
}
refresh();
setInterval(refresh, 3000);
</script>
</body>
</html>
`;
