import type { StatusReport } from './index.ts';

/**
 * The status page at `/-/`, for people: what is routed where, whether each token is
 * fresh, and how requests have been going. Rendered on the server from the same report
 * as `/-/status`, so it can never show more than that JSON does (no token, no secret).
 */
export function renderStatusPage(report: StatusReport, now: number = Date.now()): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="10">
<title>greenlake-proxy status</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>greenlake-proxy</h1>
  <p>version ${esc(report.version)} · up since ${esc(report.startedAt)} ·
  <span class="${report.ready ? 'ok' : 'bad'}">${report.ready ? 'ready' : 'shutting down'}</span> ·
  refreshes every 10 s · <a href="/-/status">JSON</a></p>
</header>
<main>
<section>
<h2>Tokens</h2>
${tokensTable(report, now)}
</section>
<section>
<h2>Requests</h2>
${requestsTable(report)}
</section>
<section>
<h2>Routes</h2>
${routesTable(report)}
</section>
<section>
<h2>Clients</h2>
${clientsTable(report)}
</section>
</main>
</body>
</html>
`;
}

function tokensTable(report: StatusReport, now: number): string {
  const rows = report.tokens.map((t) => [
    cell(t.client),
    cell(t.tenant === null ? t.region : `${t.region} · tenant ${t.tenant.name}`, t.tenant?.workspaceId),
    `<td><span class="state ${stateClass(t.state)}">${esc(t.state)}</span></td>`,
    cell(t.expiresAt ? timeLeft(Date.parse(t.expiresAt) - now) : '–', t.expiresAt ?? undefined),
    cell(t.lastRefreshAt ? ago(now - Date.parse(t.lastRefreshAt)) : 'never', t.lastRefreshAt ?? undefined),
    cell(String(t.fetches), undefined, 'num'),
    cell(String(t.consecutiveFailures), undefined, t.consecutiveFailures > 0 ? 'num bad' : 'num'),
    cell(t.lastError ? `${t.lastError.code}: ${t.lastError.message}` : '', undefined, 'error'),
  ]);
  return table(['client', 'region', 'state', 'expires in', 'last refresh', 'fetches', 'failures', 'last error'], rows, 'tokens');
}

function requestsTable(report: StatusReport): string {
  const rows = report.requests.map((r) => [
    cell(r.route),
    cell(String(r.lastMinutes.total), undefined, 'num'),
    cell(percent(r.lastMinutes.errors, r.lastMinutes.total), undefined, r.lastMinutes.errors > 0 ? 'num bad' : 'num'),
    cell(String(r.sinceStart.total), undefined, 'num'),
    cell(percent(r.sinceStart.errors, r.sinceStart.total), undefined, 'num'),
  ]);
  const minutes = report.requests[0]?.lastMinutes.minutes ?? 5;
  return table(
    ['route', `requests (last ${minutes} min)`, 'errors', 'requests (since start)', 'errors'],
    rows,
    'requests',
  );
}

function routesTable(report: StatusReport): string {
  const rows = report.routes.map((r) => [
    cell(r.prefix ?? '–'),
    cell(r.port === null ? '–' : String(r.port), undefined, 'num'),
    cell(r.upstream),
    cell(r.client),
    cell(r.region),
  ]);
  return table(['prefix', 'port', 'upstream', 'client', 'region'], rows, 'routes');
}

function clientsTable(report: StatusReport): string {
  const rows = report.clients.map((c) => [cell(c.name), cell(c.clientId), cell(c.tokenUrl), cell(c.authMethod), cell(c.secretFrom)]);
  return table(['name', 'client ID', 'token URL', 'authentication', 'secret from'], rows, 'clients');
}

function table(headers: readonly string[], rows: readonly string[][], id: string): string {
  if (rows.length === 0) return `<p class="empty" id="${id}">none</p>`;
  const head = headers.map((h) => `<th>${esc(h)}</th>`).join('');
  const body = rows.map((cells) => `<tr>${cells.join('')}</tr>`).join('\n');
  return `<table id="${id}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function cell(text: string, title?: string, className?: string): string {
  const cls = className ? ` class="${className}"` : '';
  const tip = title ? ` title="${esc(title)}"` : '';
  return `<td${cls}${tip}>${esc(text)}</td>`;
}

function stateClass(state: string): string {
  if (state === 'valid' || state === 'refreshing') return 'ok';
  if (state === 'failing' || state === 'expired') return 'bad';
  return 'idle';
}

function timeLeft(ms: number): string {
  if (ms <= 0) return 'expired';
  return duration(ms);
}

function ago(ms: number): string {
  return `${duration(Math.max(0, ms))} ago`;
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function percent(part: number, total: number): string {
  if (total === 0) return '–';
  return `${((part / total) * 100).toFixed(1)} %`;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const STYLE = `
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { margin: 0 auto; max-width: 1200px; padding: 1rem 2rem; }
  h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2rem; font-size: 1.1rem; }
  header p { margin-top: 0; color: #777; }
  table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
  th, td { text-align: left; padding: 0.35rem 0.6rem; border-bottom: 1px solid #8884; vertical-align: top; }
  th { font-weight: 600; background: #8881; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  td.error { color: #b33; max-width: 28rem; overflow-wrap: anywhere; }
  .ok { color: #197a3a; } .bad { color: #b33; font-weight: 600; } .idle { color: #777; }
  .state { padding: 0.1rem 0.45rem; border-radius: 0.6rem; border: 1px solid currentColor; font-size: 0.8rem; }
  .empty { color: #777; }
`;
