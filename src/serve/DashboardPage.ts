/**
 * The dashboard page of `dbscope serve`, at `/`: the `/api/dashboard` figures (an SVG chart of the
 * age bands, the age summary, the users over 40, the top e-mail domains), the users table paged with
 * the keyset cursor, and a form that adds a user, refreshed every 5 s while the tab is visible.
 *
 * The page is three static files kept here as strings (the HTML, `DashboardStyle.css`,
 * `DashboardScript.javascript`): the CLI is one esbuild bundle, so there are no files beside it to
 * read, no build step a user runs, and nothing is fetched from the network. The script and the style
 * sheet are separate same-origin files so that the HTML can carry a strict Content-Security-Policy (no
 * inline script or style): data from the database is put in the DOM as text only, and a script
 * injected through it would not run anyway.
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as DashboardScript from "./DashboardScript.js"
import * as DashboardStyle from "./DashboardStyle.js"

/** Where the page and its files are served. */
export const paths = {
  page: "/",
  script: "/assets/dashboard.js",
  style: "/assets/dashboard.css",
  icon: "/assets/favicon.svg"
} as const

/** Only this origin's script, style sheet, images and API; no frames, forms elsewhere, or `<base>`. */
export const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'"
].join("; ")

/**
 * Sent with every file of the page. `no-cache` makes the browser ask again each time (the files are
 * small and local), so a page never runs with the script of an older dbscope.
 */
const headers = {
  "content-security-policy": contentSecurityPolicy,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache"
}

const icon = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect width="32" height="32" rx="8" fill="#4f46e5"/>
<rect x="7" y="17" width="4" height="8" rx="1.5" fill="#fff"/>
<rect x="14" y="11" width="4" height="14" rx="1.5" fill="#fff"/>
<rect x="21" y="7" width="4" height="18" rx="1.5" fill="#c7d2fe"/>
</svg>
`

/** One figure of the dashboard, as a card. */
const figure = (testId: string, title: string, note: string) =>
  `<article class="card kpi">
          <h2 class="kpi-title">${title}</h2>
          <p class="kpi-value" data-testid="${testId}">–</p>
          <p class="kpi-note" data-testid="${testId}-note">${note}</p>
        </article>`

/** The page. Every element the script fills has a `data-testid`; no inline script, style or handler. */
export const html = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="color-scheme" content="light dark">
    <title>dbscope · users dashboard</title>
    <link rel="icon" href="${paths.icon}" type="image/svg+xml">
    <link rel="stylesheet" href="${paths.style}">
    <script src="${paths.script}" defer></script>
  </head>
  <body data-testid="dashboard" data-state="loading">
    <header class="topbar">
      <div class="topbar-inner">
        <a class="brand" href="${paths.page}">
          <img class="logo" src="${paths.icon}" alt="" width="28" height="28">
          <span class="brand-name">dbscope</span>
          <span class="brand-sub">users dashboard</span>
        </a>
        <div class="topbar-end">
          <p class="status" data-testid="status" data-status="loading" role="status" aria-live="polite">
            <span class="status-dot" aria-hidden="true"></span>
            <span data-testid="status-text">Loading…</span>
          </p>
          <p class="token-state" data-testid="token-state" hidden>
            <span>API token in use</span>
            <button type="button" class="link-button" data-testid="token-forget">Forget</button>
          </p>
          <a class="docs-link" href="/api/docs">API docs</a>
        </div>
      </div>
    </header>

    <main class="layout">
      <div class="banner" data-testid="error-banner" role="alert" hidden>
        <svg class="banner-icon" viewBox="0 0 20 20" aria-hidden="true">
          <circle cx="10" cy="10" r="9"/><rect x="9" y="5" width="2" height="7" rx="1"/><circle cx="10" cy="14.5" r="1.2"/>
        </svg>
        <div>
          <p class="banner-title" data-testid="error-title"></p>
          <p class="banner-text" data-testid="error-message"></p>
        </div>
      </div>

      <section class="card token-panel" data-testid="token-panel" aria-labelledby="token-title" hidden>
        <form class="token-form" data-testid="token-form" method="post" autocomplete="off">
          <div>
            <h2 id="token-title" class="card-title">This server needs an API token</h2>
            <p class="card-note" data-testid="token-message"></p>
            <p class="card-note">The token is kept in this tab only (session storage) and sent in the
              <code>Authorization</code> header.</p>
          </div>
          <div class="token-row">
            <label class="field">
              <span>API token</span>
              <input type="password" data-testid="token-input" autocomplete="off" spellcheck="false" required>
            </label>
            <button type="submit" class="button primary" data-testid="token-submit">Use token</button>
          </div>
        </form>
      </section>

      <section class="kpis" aria-label="Figures">
        ${figure("total-users", "Total users", "in the database")}
        ${figure("average-age", "Average age", "years")}
        ${figure("youngest-age", "Youngest", "years old")}
        ${figure("oldest-age", "Oldest", "years old")}
        ${figure("users-over-40", "Over 40", "of all users")}
      </section>

      <div class="board">
        <div class="board-main">
          <section class="card chart-card" aria-labelledby="bands-title">
            <div class="card-head">
              <h2 id="bands-title" class="card-title">Users by age</h2>
              <p class="card-note" data-testid="query-time"></p>
            </div>
            <svg class="chart" data-testid="age-chart" role="img"
              aria-label="Number of users in each ten-year age band"></svg>
          </section>

          <div class="pair">
            <section class="card domains-card" aria-labelledby="domains-title">
              <div class="card-head">
                <h2 id="domains-title" class="card-title">Top e-mail domains</h2>
                <p class="card-note">share of all users</p>
              </div>
              <ol class="domains" data-testid="top-domains"></ol>
            </section>

            <section class="card add-card" aria-labelledby="add-title">
              <h2 id="add-title" class="card-title">Add a user</h2>
              <form class="add-form" data-testid="add-user-form" method="post" novalidate>
                <label class="field">
                  <span>Name</span>
                  <input type="text" maxlength="200" autocomplete="off" data-testid="add-user-name" required>
                </label>
                <label class="field">
                  <span>E-mail</span>
                  <input type="email" maxlength="254" autocomplete="off" data-testid="add-user-email" required>
                </label>
                <div class="add-row">
                  <label class="field">
                    <span>Age</span>
                    <input type="number" min="0" max="150" step="1" inputmode="numeric" data-testid="add-user-age"
                      required>
                  </label>
                  <button type="submit" class="button primary" data-testid="add-user-submit">Add user</button>
                </div>
                <p class="form-message" data-testid="add-user-message" role="status" aria-live="polite" hidden></p>
              </form>
              <p class="card-note add-hint">Written in a transaction; the figures and the table follow at
                once.</p>
            </section>
          </div>
        </div>
        <section class="card users-card" aria-labelledby="users-title">
          <div class="card-head">
            <h2 id="users-title" class="card-title">Users</h2>
            <form class="filter" data-testid="filter-form" method="post" novalidate>
              <label class="field inline">
                <span>Older than</span>
                <input type="number" min="0" max="150" step="1" inputmode="numeric" placeholder="any age"
                  data-testid="filter-older-than">
              </label>
              <button type="submit" class="button" data-testid="filter-apply">Apply</button>
              <button type="button" class="button quiet" data-testid="filter-clear" hidden>Clear</button>
            </form>
          </div>
          <p class="field-error" data-testid="filter-message" role="alert" hidden></p>
          <div class="table-wrap">
            <table class="users" data-testid="users-table" data-page="0" data-loading="true">
              <thead>
                <tr><th scope="col" class="num">ID</th><th scope="col">Name</th><th scope="col">E-mail</th>
                  <th scope="col" class="num">Age</th></tr>
              </thead>
              <tbody data-testid="users-rows"></tbody>
            </table>
          </div>
          <nav class="pager" aria-label="Pages of users">
            <button type="button" class="button" data-testid="page-previous" disabled>← Previous</button>
            <p class="pager-text" data-testid="page-info" aria-live="polite"></p>
            <button type="button" class="button" data-testid="page-next" disabled>Next →</button>
          </nav>
        </section>
      </div>
    </main>

    <footer class="footer">
      <p>Refreshes every 5 seconds while this tab is visible · <a href="/api/openapi.json">OpenAPI</a></p>
    </footer>
  </body>
</html>
`

const file = (body: string, contentType: string) =>
  Effect.succeed(HttpServerResponse.text(body, { contentType, headers }))

/** Adds the page and its files to the API's router (beside the API, like the docs page). */
export const layer = HttpApiBuilder.Router.use((router) =>
  Effect.all([
    router.get(paths.page, file(html, "text/html; charset=utf-8")),
    router.get(paths.script, file(DashboardScript.javascript, "text/javascript; charset=utf-8")),
    router.get(paths.style, file(DashboardStyle.css, "text/css; charset=utf-8")),
    router.get(paths.icon, file(icon, "image/svg+xml"))
  ], { discard: true })
)
