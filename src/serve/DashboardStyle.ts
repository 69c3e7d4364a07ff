/**
 * The dashboard page's style sheet, served as `/assets/dashboard.css` (see `DashboardPage`): a
 * same-origin file, as the page's Content-Security-Policy allows no inline style. Light and dark
 * themes follow the system; one column below 1080 px, single-column forms below 640 px. Charts are
 * SVG coloured through classes here, so the script never writes a `style` attribute.
 */
export const css = String.raw`
:root {
  color-scheme: light dark;
  --bg: #f4f6fb;
  --surface: #ffffff;
  --surface-2: #f7f8fc;
  --border: #e2e6ef;
  --text: #162033;
  --muted: #5d6a82;
  --faint: #8a95a9;
  --accent: #4f46e5;
  --accent-strong: #4338ca;
  --accent-soft: #eceefe;
  --bar: #6366f1;
  --bar-hover: #4338ca;
  --grid: #e8ebf2;
  --ok: #15803d;
  --ok-soft: #e7f6ec;
  --danger: #b42318;
  --danger-soft: #fdeceb;
  --warn: #b45309;
  --radius: 12px;
  --shadow: 0 1px 2px rgba(16, 24, 40, 0.04), 0 1px 3px rgba(16, 24, 40, 0.08);
  --font: -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", sans-serif;
  --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
}

@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0e1320;
    --surface: #161c2c;
    --surface-2: #1b2236;
    --border: #283149;
    --text: #e6e9f2;
    --muted: #a3adc2;
    --faint: #7683a0;
    --accent: #8b93ff;
    --accent-strong: #a5abff;
    --accent-soft: #252b4d;
    --bar: #818cf8;
    --bar-hover: #a5b4fc;
    --grid: #232b40;
    --ok: #4ade80;
    --ok-soft: #13291d;
    --danger: #f97066;
    --danger-soft: #3a1715;
    --warn: #fbbf24;
    --shadow: 0 1px 2px rgba(0, 0, 0, 0.3);
  }
}

*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }

html { background: var(--bg); }
body {
  margin: 0;
  min-height: 100vh;
  display: flex;
  flex-direction: column;
  font: 14px/1.45 var(--font);
  color: var(--text);
  background: var(--bg);
  -webkit-font-smoothing: antialiased;
}
h1, h2, h3, p { margin: 0; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code { font-family: var(--mono); font-size: 0.92em; }

/* Top bar */
.topbar {
  position: sticky;
  top: 0;
  z-index: 2;
  background: var(--surface);
  border-bottom: 1px solid var(--border);
}
.topbar-inner {
  max-width: 1280px;
  margin: 0 auto;
  padding: 10px 24px;
  display: flex;
  align-items: center;
  gap: 16px;
  flex-wrap: wrap;
}
.brand { display: flex; align-items: center; gap: 10px; color: var(--text); }
.brand:hover { text-decoration: none; }
.logo { width: 28px; height: 28px; }
.brand-name { font-weight: 700; font-size: 17px; letter-spacing: -0.01em; }
.brand-sub { color: var(--muted); font-size: 14px; padding-left: 10px; border-left: 1px solid var(--border); }
.topbar-end { margin-left: auto; display: flex; align-items: center; gap: 16px; flex-wrap: wrap; }
.docs-link { font-weight: 500; }

.status {
  display: inline-flex;
  align-items: center;
  gap: 8px;
  padding: 4px 12px;
  border-radius: 999px;
  background: var(--surface-2);
  border: 1px solid var(--border);
  color: var(--muted);
  font-size: 13px;
  font-variant-numeric: tabular-nums;
}
.status-dot { width: 8px; height: 8px; border-radius: 50%; background: var(--faint); flex: none; }
.status[data-status="live"] .status-dot { background: #22c55e; box-shadow: 0 0 0 3px rgba(34, 197, 94, 0.18); }
.status[data-status="error"] { color: var(--danger); border-color: var(--danger); background: var(--danger-soft); }
.status[data-status="error"] .status-dot { background: var(--danger); }
.status[data-status="auth"] .status-dot, .status[data-status="paused"] .status-dot { background: var(--warn); }
.token-state { display: inline-flex; align-items: center; gap: 8px; font-size: 13px; color: var(--muted); }

/* Layout */
.layout {
  width: 100%;
  max-width: 1280px;
  margin: 0 auto;
  padding: 16px 24px;
  display: flex;
  flex-direction: column;
  gap: 14px;
  flex: 1;
}
.board { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 14px; align-items: stretch; }
.board-main { display: flex; flex-direction: column; gap: 14px; min-width: 0; }
.pair { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 14px; flex: 1; }

.card {
  background: var(--surface);
  border: 1px solid var(--border);
  border-radius: var(--radius);
  box-shadow: var(--shadow);
  padding: 16px 18px;
  min-width: 0;
}
.card-head { display: flex; align-items: center; justify-content: space-between; gap: 12px; flex-wrap: wrap; }
.card-title { font-size: 15px; font-weight: 650; letter-spacing: -0.005em; }
.card-note { color: var(--muted); font-size: 12.5px; }

/* Figures */
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 14px; }
.kpi { padding: 12px 18px; }
.kpi-title { font-size: 12px; font-weight: 600; color: var(--muted); text-transform: uppercase; letter-spacing: 0.05em; }
.kpi-value {
  margin-top: 2px;
  font-size: 26px;
  font-weight: 700;
  letter-spacing: -0.02em;
  line-height: 1.15;
  font-variant-numeric: tabular-nums;
}
.kpi-note { margin-top: 2px; color: var(--muted); font-size: 12.5px; }

/* Banner */
.banner {
  display: flex;
  gap: 12px;
  align-items: flex-start;
  padding: 12px 16px;
  border-radius: var(--radius);
  border: 1px solid var(--danger);
  background: var(--danger-soft);
  color: var(--danger);
}
.banner-icon { width: 20px; height: 20px; flex: none; margin-top: 1px; }
.banner-icon circle:first-child { fill: var(--danger); }
.banner-icon rect, .banner-icon circle + rect + circle { fill: var(--danger-soft); }
.banner-title { font-weight: 650; }
.banner-text { color: var(--text); margin-top: 2px; }

/* Token */
.token-panel { border-color: var(--warn); }
.token-form { display: flex; gap: 24px; align-items: flex-end; justify-content: space-between; flex-wrap: wrap; }
.token-form .card-note { margin-top: 4px; }
.token-row { display: flex; gap: 10px; align-items: flex-end; }
.token-row input { width: 280px; }

/* Chart */
.chart-card .card-head { margin-bottom: 6px; }
.chart { display: block; width: 100%; height: 210px; }
.chart .grid-line { stroke: var(--grid); stroke-width: 1; }
.chart .axis-line { stroke: var(--border); stroke-width: 1; }
.chart .tick { fill: var(--faint); font-size: 11px; }
.chart .band-label { fill: var(--muted); font-size: 11.5px; }
.chart .bar { fill: var(--bar); transition: fill 0.15s; }
.chart .bar:hover { fill: var(--bar-hover); }
.chart .bar-empty { fill: var(--grid); }
.chart .bar-value { fill: var(--text); font-size: 11.5px; font-weight: 600; }
.chart .empty { fill: var(--muted); font-size: 14px; }
.chart text { font-family: var(--font); font-variant-numeric: tabular-nums; }

/* Domains */
.domains { list-style: none; margin: 12px 0 0; padding: 0; display: flex; flex-direction: column; gap: 12px; }
.domain { display: grid; grid-template-columns: minmax(0, 1fr) auto; gap: 4px 12px; align-items: baseline; }
.domain-name { font-weight: 550; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.domain-count { color: var(--muted); font-size: 13px; font-variant-numeric: tabular-nums; }
.domain-count strong { color: var(--text); font-weight: 600; }
.domain-share { grid-column: 1 / -1; display: block; width: 100%; height: 6px; border-radius: 999px; overflow: hidden; }
.domain-share .track { fill: var(--accent-soft); }
.domain-share .fill { fill: var(--accent); }
.domains-empty { color: var(--muted); }

/* Forms */
.field { display: flex; flex-direction: column; gap: 4px; font-size: 12.5px; font-weight: 600; color: var(--muted); }
.field.inline { flex-direction: row; align-items: center; gap: 8px; }
input {
  font: 14px/1.3 var(--font);
  color: var(--text);
  background: var(--surface);
  border: 1px solid var(--border);
  border-radius: 8px;
  padding: 7px 10px;
  min-width: 0;
  transition: border-color 0.15s, box-shadow 0.15s;
}
input:focus { outline: none; border-color: var(--accent); box-shadow: 0 0 0 3px var(--accent-soft); }
input[aria-invalid="true"] { border-color: var(--danger); }
.filter input { width: 92px; }
.button {
  font: 600 13.5px/1 var(--font);
  color: var(--text);
  background: var(--surface);
  border: 1px solid var(--border);
  border-radius: 8px;
  padding: 8px 14px;
  cursor: pointer;
  white-space: nowrap;
  transition: background 0.15s, border-color 0.15s;
}
.button:hover:not(:disabled) { background: var(--surface-2); border-color: var(--faint); }
.button:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
.button:disabled { opacity: 0.45; cursor: default; }
.button.primary { background: var(--accent); border-color: var(--accent); color: #ffffff; }
.button.primary:hover:not(:disabled) { background: var(--accent-strong); border-color: var(--accent-strong); }
.button.quiet { border-color: transparent; background: transparent; color: var(--muted); }
.link-button {
  font: inherit;
  color: var(--accent);
  background: none;
  border: none;
  padding: 0;
  cursor: pointer;
}
.link-button:hover { text-decoration: underline; }

.filter { display: flex; align-items: center; gap: 8px; }
.field-error { margin-top: 8px; color: var(--danger); font-size: 13px; }

.add-form { display: flex; flex-direction: column; gap: 10px; margin-top: 12px; }
.add-row { display: grid; grid-template-columns: minmax(0, 1fr) auto; gap: 10px; align-items: end; }
.add-row .button { padding-top: 10px; padding-bottom: 10px; }
.add-hint { margin-top: 10px; }
.form-message { font-size: 13px; padding: 8px 10px; border-radius: 8px; overflow-wrap: anywhere; }
.form-message[data-kind="error"] { color: var(--danger); background: var(--danger-soft); }
.form-message[data-kind="ok"] { color: var(--ok); background: var(--ok-soft); }

/* Users table */
.users-card { display: flex; flex-direction: column; }
.table-wrap { margin-top: 10px; overflow-x: auto; flex: 1; }
.users { width: 100%; border-collapse: collapse; table-layout: fixed; font-variant-numeric: tabular-nums; }
.users th {
  text-align: left;
  font-size: 11.5px;
  font-weight: 600;
  text-transform: uppercase;
  letter-spacing: 0.05em;
  color: var(--muted);
  padding: 8px 10px;
  border-bottom: 1px solid var(--border);
  background: var(--surface-2);
}
.users th:first-child { border-top-left-radius: 8px; width: 56px; }
.users th:last-child { border-top-right-radius: 8px; width: 56px; }
.users td {
  padding: 7px 10px;
  border-bottom: 1px solid var(--border);
  overflow: hidden;
  text-overflow: ellipsis;
  white-space: nowrap;
}
.users tbody tr:hover td { background: var(--surface-2); }
.users .num { text-align: right; }
.users td.id { color: var(--faint); }
.users td.email { color: var(--muted); }
.users[data-loading="true"] tbody { opacity: 0.55; }
.users .empty-row td { text-align: center; color: var(--muted); padding: 28px 10px; white-space: normal; }
.pager { display: flex; align-items: center; justify-content: space-between; gap: 12px; margin-top: 12px; }
.pager-text { color: var(--muted); font-size: 13px; text-align: center; font-variant-numeric: tabular-nums; }

.footer { max-width: 1280px; width: 100%; margin: 0 auto; padding: 4px 24px 18px; color: var(--faint); font-size: 12.5px; }

@media (max-width: 1080px) {
  .board { grid-template-columns: minmax(0, 1fr); }
}
@media (max-width: 640px) {
  .topbar-inner, .layout, .footer { padding-left: 14px; padding-right: 14px; }
  .brand-sub { display: none; }
  .pair { grid-template-columns: minmax(0, 1fr); }
  .users th:first-child, .users td.id { display: none; }
  .token-row { flex-direction: column; align-items: stretch; }
  .token-row input { width: 100%; }
}
@media (prefers-reduced-motion: reduce) {
  * { transition: none !important; }
}
`
