/**
 * The dashboard page (`/`) in headless Chromium (Debian's, driven by playwright-core) against a
 * real server on an ephemeral port over a fresh SQLite database with the sample users: the figures
 * shown are the API's, the table pages with the keyset cursor, the form adds a user (and the figures
 * follow) or shows the API's refusal, the page refreshes itself, asks for a token when the API wants
 * one, says when the server is unreachable, and shows hostile text as text. Every test also checks
 * that the page logged no error, broke no rule of its Content-Security-Policy, loaded nothing from
 * elsewhere, and had no failed request it did not expect.
 *
 * Without /usr/bin/chromium the suite is skipped with a warning, except under CI (`CI=true`), where
 * that fails the run (`.ci/run` installs Debian's `chromium`).
 */
import * as HttpServer from "@effect/platform/HttpServer"
import { assert, describe, it, layer } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { Browser as PlaywrightBrowser, Page } from "playwright-core"
import * as Chromium from "../../scripts/Chromium.js"
import * as DashboardPage from "../../src/serve/DashboardPage.js"
import * as Server from "../../src/serve/Server.js"
import * as TestDatabase from "../../src/testing/TestDatabase.js"
import { Dashboard } from "../../src/users/Dashboard.js"

const installed = Chromium.isInstalled()
if (!installed) {
  const message = `${Chromium.executablePath} is missing`
  if (process.env.CI === "true") {
    throw new Error(`${message}: under CI the dashboard's browser test must run (.ci/run installs Debian's chromium)`)
  }
  console.warn(`\n*** ${message}: SKIPPING the dashboard page's browser test (apt-get install chromium) ***\n`)
}

class Browser extends Context.Tag("test/Browser")<Browser, PlaywrightBrowser>() {}

const served = Server.layer({ port: 0, host: "127.0.0.1" }).pipe(
  Layer.provide(Dashboard.Default),
  Layer.provideMerge(TestDatabase.layerPooled({ sample: true }))
)

/** How long any one wait of the page may take on a loaded 2-core machine (refreshes come every 5 s). */
const waitMillis = 45_000

/** A Playwright call: its rejection (a timeout, a failed assertion in the page) fails the test. */
const step = <A>(run: () => Promise<A>) => Effect.promise(run)

const baseUrl = Effect.gen(function*() {
  const address = (yield* HttpServer.HttpServer).address
  if (address._tag !== "TcpAddress") return yield* Effect.dieMessage("not a TCP server")
  return `http://127.0.0.1:${address.port}`
})

/** `fetch` against the test server, JSON in and out. */
const api = <A>(path: string, init: RequestInit = {}) =>
  Effect.flatMap(baseUrl, (base) =>
    step(async () => {
      const response = await fetch(`${base}${path}`, init)
      return { status: response.status, json: (await response.json()) as A }
    }))

const postUser = (user: { readonly name: string; readonly email: string; readonly age: number }) =>
  api<{ user_id: number }>("/api/users", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(user)
  })

interface DashboardBody {
  readonly ageBands: ReadonlyArray<{ readonly band: number; readonly users: number }>
  readonly summary: {
    readonly users: number
    readonly average_age: number | null
    readonly youngest: number | null
    readonly oldest: number | null
  }
  readonly usersOver40: number
  readonly topDomains: ReadonlyArray<{ readonly domain: string; readonly users: number }>
}

interface User {
  readonly user_id: number
  readonly name: string
  readonly email: string
  readonly age: number
}

const dashboard = Effect.map(api<DashboardBody>("/api/dashboard"), (answer) => answer.json)
const usersPage = (query: string) =>
  Effect.map(api<{ users: ReadonlyArray<User>; next: string | null }>(`/api/users?${query}`), (answer) => answer.json)

/** What the page shows for a number: grouped (`1,000`), one decimal for the average. */
const whole = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 })
const oneDecimal = new Intl.NumberFormat("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 })

interface Opened {
  readonly page: Page
  readonly base: string
  /** Console errors and warnings, uncaught exceptions, CSP violations, requests to other origins. */
  readonly problems: ReadonlyArray<string>
  /** Requests that failed: `METHOD /path STATUS` (or `failed`), in order. */
  readonly failures: ReadonlyArray<string>
  /** Every URL the page requested. */
  readonly requested: ReadonlyArray<string>
}

/**
 * The page in a fresh browser context (its own sessionStorage), 1280×800, loaded and showing its
 * figures; the context is closed when the test's scope closes. `beforeLoad` runs before the page
 * is opened (to intercept requests).
 */
const openDashboard = (
  options: { readonly beforeLoad?: (page: Page) => Promise<unknown>; readonly ready?: boolean } = {}
) =>
  Effect.gen(function*() {
    const browser = yield* Browser
    const base = yield* baseUrl
    const context = yield* Effect.acquireRelease(
      step(() => browser.newContext({ viewport: { width: 1280, height: 800 } })),
      (context) => Effect.promise(() => context.close())
    )
    context.setDefaultTimeout(waitMillis)
    const problems: Array<string> = []
    const failures: Array<string> = []
    const requested: Array<string> = []
    yield* step(() =>
      context.exposeBinding(
        "__reportViolation",
        (_source, text: string) => void problems.push(`CSP violation: ${text}`)
      )
    )
    yield* step(() =>
      context.addInitScript({
        content: "document.addEventListener('securitypolicyviolation', function (event) {" +
          " window.__reportViolation(event.violatedDirective + ' ' + event.blockedURI); });"
      })
    )
    const page = yield* step(() => context.newPage())
    const where = (url: string) => url.startsWith(base) ? url.slice(base.length).split("?")[0] : url
    page.on("console", (message) => {
      // A failed request is also logged by Chromium: `failures` has it, and each test checks those.
      if (message.text().startsWith("Failed to load resource:")) return
      if (message.type() === "error" || message.type() === "warning") {
        problems.push(`console.${message.type()}: ${message.text()}`)
      }
    })
    page.on("pageerror", (error) => void problems.push(`uncaught: ${error.message}`))
    page.on("request", (request) => {
      requested.push(request.url())
      if (!request.url().startsWith(`${base}/`)) problems.push(`request to another origin: ${request.url()}`)
    })
    page.on("response", (response) => {
      if (response.status() >= 400) {
        failures.push(`${response.request().method()} ${where(response.url())} ${response.status()}`)
      }
    })
    page.on("requestfailed", (request) => void failures.push(`${request.method()} ${where(request.url())} failed`))
    const beforeLoad = options.beforeLoad
    if (beforeLoad !== undefined) yield* step(() => beforeLoad(page))
    yield* step(() => page.goto(`${base}/`))
    if (options.ready !== false) yield* waitReady(page)
    return { page, base, problems, failures, requested } satisfies Opened
  })

/** Waits until the figures and the table's page are shown. */
const waitReady = (page: Page) =>
  step(async () => {
    await page.locator("body[data-state=ready]").waitFor()
    await page.locator("[data-testid=users-table][data-loading=false]").waitFor()
  })

const refreshes = (page: Page) => step(async () => Number(await page.locator("body").getAttribute("data-refreshes")))

/**
 * Waits until a refresh after the `count`th has completed (the count only grows). A locator, not
 * `waitForFunction`: the page's CSP forbids the `eval` that a string predicate needs.
 */
const refreshedSince = (page: Page, count: number) =>
  step(() => page.locator(`body[data-refreshes]:not([data-refreshes='${count}'])`).waitFor())

/** Waits for a refresh that starts after this call, and completes. */
const nextRefresh = (page: Page) => Effect.flatMap(refreshes(page), (count) => refreshedSince(page, count))

const text = (page: Page, testId: string) =>
  step(async () => (await page.getByTestId(testId).textContent())?.trim() ?? "")

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** Waits until the element shows exactly `expected`. */
const waitText = (page: Page, testId: string, expected: string) =>
  step(() => page.getByTestId(testId).filter({ hasText: new RegExp(`^\\s*${escapeRegExp(expected)}\\s*$`) }).waitFor())

/** The table's rows as the user sees them: id, name, e-mail, age. */
const shownRows = (page: Page) =>
  step(() =>
    page.evaluate<Array<Array<string>>>(
      "Array.from(document.querySelectorAll('[data-testid=user-row]'), (row) =>" +
        " Array.from(row.cells, (cell) => cell.textContent))"
    )
  )

const asRows = (users: ReadonlyArray<User>) =>
  users.map((user) => [String(user.user_id), user.name, user.email, String(user.age)])

/** Waits for the table to show page `n` (of the filter `olderThan`, "" for none), loaded. */
const waitPage = (page: Page, n: number, olderThan = "") =>
  step(() =>
    page.locator(
      `[data-testid=users-table][data-page='${n}'][data-older-than='${olderThan}'][data-loading=false]`
    ).waitFor()
  )

/** Types a user into the form (the age as typed) and submits it. */
const submitUser = (page: Page, user: { readonly name: string; readonly email: string; readonly age: string }) =>
  step(async () => {
    await page.getByTestId("add-user-name").fill(user.name)
    await page.getByTestId("add-user-email").fill(user.email)
    await page.getByTestId("add-user-age").fill(user.age)
    await page.getByTestId("add-user-submit").click()
  })

/** Everything the page shows of the dashboard, as the user reads it. */
const shownFigures = (page: Page) =>
  Effect.all({
    total: text(page, "total-users"),
    average: text(page, "average-age"),
    youngest: text(page, "youngest-age"),
    oldest: text(page, "oldest-age"),
    over40: text(page, "users-over-40"),
    over40Share: text(page, "users-over-40-note"),
    bands: step(() =>
      page.evaluate<Array<Array<string | null>>>(
        "Array.from(document.querySelectorAll('[data-testid=age-band]'), (band) => [band.getAttribute('data-band')," +
          " band.getAttribute('data-users'), band.querySelector('[data-testid=age-band-users]')?.textContent ?? null])"
      )
    ),
    domains: step(() =>
      page.evaluate<Array<Array<string | null>>>(
        "Array.from(document.querySelectorAll('[data-testid=domain-row]'), (row) =>" +
          " [row.querySelector('[data-testid=domain-name]').textContent," +
          " row.querySelector('[data-testid=domain-users]').textContent])"
      )
    )
  })

/** What the page should show for the API's dashboard. */
const expectedFigures = (body: DashboardBody) => ({
  total: whole.format(body.summary.users),
  average: body.summary.average_age === null ? "–" : oneDecimal.format(body.summary.average_age),
  youngest: body.summary.youngest === null ? "–" : whole.format(body.summary.youngest),
  oldest: body.summary.oldest === null ? "–" : whole.format(body.summary.oldest),
  over40: whole.format(body.usersOver40),
  over40Share: `${oneDecimal.format((body.usersOver40 / body.summary.users) * 100)}% of all users`,
  // Every band from the youngest to the oldest is drawn; the empty ones (absent from the API) have no bar.
  bands: body.ageBands.map((band) => [String(band.band), String(band.users), whole.format(band.users)]),
  domains: body.topDomains.map((domain) => [domain.domain, whole.format(domain.users)])
})

const assertFiguresMatch = (page: Page, body: DashboardBody) =>
  Effect.gen(function*() {
    const shown = yield* shownFigures(page)
    assert.deepStrictEqual(
      { ...shown, bands: shown.bands.filter(([, users]) => users !== "0") },
      expectedFigures(body)
    )
  })

/** No console error, CSP violation or request elsewhere; the failed requests are exactly `expected`. */
const assertClean = (opened: Opened, expectedFailures: ReadonlyArray<string> = []) =>
  Effect.sync(() => {
    assert.deepStrictEqual(opened.problems, [])
    assert.deepStrictEqual(opened.failures, expectedFailures)
  })

describe("the dashboard page in Chromium", () => {
  if (!installed) return it.skip(`${Chromium.executablePath} is missing (see the warning above)`)
  layer(Layer.merge(served, Layer.scoped(Browser, Chromium.launch)), { timeout: 120_000, excludeTestServices: true })(
    (it) => {
      it.scoped(
        "shows the API's figures: totals, ages, users over 40, the age bands and the top domains",
        () =>
          Effect.gen(function*() {
            const opened = yield* openDashboard()
            const body = yield* dashboard
            yield* assertFiguresMatch(opened.page, body)
            assert.strictEqual(yield* text(opened.page, "total-users"), "1,000")
            assert.match(yield* text(opened.page, "status-text"), /updated \d\d:\d\d:\d\d/)
            assert.isTrue(yield* step(() => opened.page.getByTestId("error-banner").isHidden()))
            yield* assertClean(opened)
          }),
        120_000
      )

      it.scoped(
        "pages the users table forward and back with the keyset cursor; each page is the API's",
        () =>
          Effect.gen(function*() {
            const { page, ...opened } = yield* openDashboard()
            const size = Number(yield* step(() => page.getByTestId("users-table").getAttribute("data-page-size")))
            const first = yield* usersPage(`limit=${size}`)
            const second = yield* usersPage(`limit=${size}&after=${first.next}`)
            const third = yield* usersPage(`limit=${size}&after=${second.next}`)
            yield* waitPage(page, 1)
            assert.deepStrictEqual(yield* shownRows(page), asRows(first.users))
            assert.isTrue(yield* step(() => page.getByTestId("page-previous").isDisabled()))

            yield* step(() => page.getByTestId("page-next").click())
            yield* waitPage(page, 2)
            assert.deepStrictEqual(yield* shownRows(page), asRows(second.users))
            yield* step(() => page.getByTestId("page-next").click())
            yield* waitPage(page, 3)
            assert.deepStrictEqual(yield* shownRows(page), asRows(third.users))
            assert.strictEqual(
              yield* text(page, "page-info"),
              `Page 3 · users ${2 * size + 1}–${3 * size}`
            )
            yield* step(() => page.getByTestId("page-previous").click())
            yield* waitPage(page, 2)
            assert.deepStrictEqual(yield* shownRows(page), asRows(second.users))
            yield* step(() => page.getByTestId("page-previous").click())
            yield* waitPage(page, 1)
            assert.deepStrictEqual(yield* shownRows(page), asRows(first.users))
            assert.isTrue(yield* step(() => page.getByTestId("page-previous").isDisabled()))

            // The filter starts over from its own first page.
            const older = yield* usersPage(`limit=${size}&olderThan=100`)
            const olderNext = yield* usersPage(`limit=${size}&olderThan=100&after=${older.next}`)
            yield* step(() => page.getByTestId("filter-older-than").fill("100"))
            yield* step(() => page.getByTestId("filter-apply").click())
            yield* waitPage(page, 1, "100")
            assert.deepStrictEqual(yield* shownRows(page), asRows(older.users))
            yield* step(() => page.getByTestId("page-next").click())
            yield* waitPage(page, 2, "100")
            assert.deepStrictEqual(yield* shownRows(page), asRows(olderNext.users))
            // A value the API refuses: its message by the filter, the table as it was.
            yield* step(() => page.getByTestId("filter-older-than").fill("151"))
            yield* step(() => page.getByTestId("filter-apply").click())
            yield* waitText(page, "filter-message", "olderThan must be a whole number from 0 to 150, got '151'")
            assert.deepStrictEqual(yield* shownRows(page), asRows(olderNext.users))
            yield* step(() => page.getByTestId("filter-clear").click())
            yield* waitPage(page, 1)
            assert.deepStrictEqual(yield* shownRows(page), asRows(first.users))
            yield* assertClean({ page, ...opened }, ["GET /api/users 400"])
          }),
        120_000
      )

      it.scoped(
        "a user added through the form is in the figures at once: total, band, over 40, domains",
        () =>
          Effect.gen(function*() {
            const opened = yield* openDashboard()
            const page = opened.page
            const before = yield* dashboard
            yield* assertFiguresMatch(page, before)
            yield* submitUser(page, { name: "Browser Example", email: "browser@dbscope-test.example", age: "45" })
            yield* step(() => page.locator("[data-testid=add-user-message][data-kind=ok]").waitFor())
            assert.match(yield* text(page, "add-user-message"), /^Added Browser Example \(id \d+\)\.$/)
            yield* waitText(page, "total-users", whole.format(before.summary.users + 1))
            const after = yield* dashboard
            assert.strictEqual(after.summary.users, before.summary.users + 1)
            assert.strictEqual(after.usersOver40, before.usersOver40 + 1)
            const band40 = (body: DashboardBody) => body.ageBands.find((band) => band.band === 40)?.users ?? 0
            assert.strictEqual(band40(after), band40(before) + 1)
            assert.deepInclude(after.topDomains, { domain: "dbscope-test.example", users: 1 })
            yield* assertFiguresMatch(page, after)
            // The form is emptied for the next user.
            assert.strictEqual(yield* step(() => page.getByTestId("add-user-email").inputValue()), "")
            yield* assertClean(opened)
          }),
        120_000
      )

      it.scoped(
        "a user the API refuses shows its message by the form, and nothing is added",
        () =>
          Effect.gen(function*() {
            const opened = yield* openDashboard()
            const page = opened.page
            const before = yield* dashboard
            const [taken] = (yield* usersPage("limit=1")).users
            if (taken === undefined) return assert.fail("the sample has users")
            yield* submitUser(page, { name: "Too Old", email: "too.old@dbscope-test.example", age: "200" })
            yield* waitText(page, "add-user-message", "Not added: age must be an integer between 0 and 150, got 200")
            assert.strictEqual(yield* step(() => page.getByTestId("add-user-age").getAttribute("aria-invalid")), "true")

            yield* submitUser(page, { name: "Copy Cat", email: taken.email, age: "30" })
            yield* waitText(page, "add-user-message", `Not added: a user with e-mail ${taken.email} already exists`)
            assert.strictEqual(
              yield* step(() => page.getByTestId("add-user-email").getAttribute("aria-invalid")),
              "true"
            )
            // What was typed stays, to be corrected.
            assert.strictEqual(yield* step(() => page.getByTestId("add-user-name").inputValue()), "Copy Cat")

            // Nothing was added: the API and, after a refresh, the page still count the same users.
            const after = yield* dashboard
            assert.deepStrictEqual(after.summary, before.summary)
            yield* nextRefresh(page)
            yield* assertFiguresMatch(page, after)
            yield* assertClean(opened, ["POST /api/users 400", "POST /api/users 409"])
          }),
        120_000
      )

      it.scoped(
        "it refreshes itself: a user added elsewhere shows within a refresh; hidden, it pauses",
        () =>
          Effect.gen(function*() {
            const opened = yield* openDashboard()
            const page = opened.page
            const before = yield* dashboard
            yield* assertFiguresMatch(page, before)
            const added = yield* postUser({
              name: "Elsewhere Example",
              email: "elsewhere@dbscope-test.example",
              age: 71
            })
            assert.strictEqual(added.status, 201)
            // No click: the next timed refresh (every 5 s) brings it.
            yield* waitText(page, "total-users", whole.format(before.summary.users + 1))
            yield* assertFiguresMatch(page, yield* dashboard)

            // Hidden (as the browser says when the tab is in the background): paused; visible: at once.
            const setHidden = (hidden: boolean) =>
              step(() =>
                page.evaluate(
                  `Object.defineProperty(document, "hidden", { configurable: true, get: () => ${hidden} });` +
                    "document.dispatchEvent(new Event('visibilitychange'))"
                )
              )
            yield* step(() => page.locator("[data-testid=status][data-status=live]").waitFor())
            yield* setHidden(true)
            yield* step(() => page.locator("[data-testid=status][data-status=paused]").waitFor())
            assert.match(yield* text(page, "status-text"), /^Paused/)
            const count = yield* refreshes(page)
            yield* setHidden(false)
            yield* refreshedSince(page, count)
            yield* step(() => page.locator("[data-testid=status][data-status=live]").waitFor())
            yield* assertClean(opened)
          }),
        120_000
      )

      it.scoped(
        "an unreachable server: a clear message, the last figures kept, and back when it answers",
        () =>
          Effect.gen(function*() {
            const opened = yield* openDashboard()
            const page = opened.page
            const total = yield* text(page, "total-users")
            yield* step(() => page.route("**/api/**", (route) => route.abort("connectionrefused")))
            yield* step(() => page.locator("body[data-state=unreachable]").waitFor())
            assert.strictEqual(yield* text(page, "error-title"), "Cannot reach the dbscope server")
            assert.match(yield* text(page, "error-message"), /Retrying every 5 seconds\. The figures below are from/)
            assert.strictEqual(yield* text(page, "status-text"), "Server unreachable")
            assert.strictEqual(yield* text(page, "total-users"), total)
            yield* step(() => page.unroute("**/api/**"))
            yield* step(() => page.locator("body[data-state=ready]").waitFor())
            assert.isTrue(yield* step(() => page.getByTestId("error-banner").isHidden()))
            assert.deepStrictEqual(opened.problems, [])
            assert.isNotEmpty(opened.failures)
            for (const failure of opened.failures) assert.match(failure, /^GET \/api\/(dashboard|users) failed$/)
          }),
        120_000
      )

      it.scoped(
        "a server that wants a token: the page asks, keeps it in sessionStorage, sends it as Bearer only",
        () =>
          Effect.gen(function*() {
            const token = "s3cret-token-for-the-browser-test"
            const authorizations: Array<string> = []
            // The server's API-token rules, played by the browser's router: 401 without a token, 403 with a wrong one.
            const opened = yield* openDashboard({
              ready: false,
              beforeLoad: (page) =>
                page.route("**/api/**", (route) => {
                  const given = route.request().headers()["authorization"]
                  authorizations.push(given ?? "")
                  if (given === `Bearer ${token}`) return route.continue()
                  return route.fulfill(
                    given === undefined
                      ? {
                        status: 401,
                        json: { error: "unauthorized", message: "this server needs an API token" }
                      }
                      : { status: 403, json: { error: "forbidden", message: "the API token is not valid" } }
                  )
                })
            })
            const page = opened.page
            yield* step(() => page.locator("body[data-state=auth]").waitFor())
            yield* step(() => page.getByTestId("token-panel").waitFor())
            assert.strictEqual(yield* text(page, "token-message"), "This server needs an API token.")

            yield* step(async () => {
              await page.getByTestId("token-input").fill("not-the-token")
              await page.getByTestId("token-submit").click()
            })
            yield* waitText(page, "token-message", "The token in use was refused: the API token is not valid.")

            yield* step(async () => {
              await page.getByTestId("token-input").fill(token)
              await page.getByTestId("token-submit").click()
            })
            yield* waitReady(page)
            yield* assertFiguresMatch(page, yield* dashboard)
            assert.isTrue(yield* step(() => page.getByTestId("token-panel").isHidden()))
            assert.isTrue(yield* step(() => page.getByTestId("token-state").isVisible()))
            assert.strictEqual(
              yield* step(() => page.evaluate<string | null>("sessionStorage.getItem('dbscope.apiToken')")),
              token
            )
            assert.strictEqual(yield* step(() => page.evaluate<number>("localStorage.length")), 0)
            // A reload in the same tab keeps it: no question asked.
            yield* step(() => page.reload())
            yield* waitReady(page)
            assert.isTrue(yield* step(() => page.getByTestId("token-panel").isHidden()))

            assert.include(authorizations, `Bearer ${token}`)
            for (const url of opened.requested) assert.notInclude(url, token, url)
            assert.isFalse(opened.requested.some((url) => url.includes("not-the-token")))
            assert.deepStrictEqual(opened.problems, [])
            for (const failure of opened.failures) assert.match(failure, /^GET \/api\/(dashboard|users) 40[13]$/)
          }),
        120_000
      )

      it.scoped("names and domains are shown as text: markup in them is never parsed", () =>
        Effect.gen(function*() {
          const name = "<img src=x onerror=\"window.pwned=1\"> & <b>bold</b>"
          const added = yield* postUser({ name, email: "markup@<b>x</b>.example", age: 149 })
          assert.strictEqual(added.status, 201)
          const opened = yield* openDashboard()
          const page = opened.page
          yield* step(async () => {
            await page.getByTestId("filter-older-than").fill("148")
            await page.getByTestId("filter-apply").click()
          })
          yield* waitPage(page, 1, "148")
          assert.deepStrictEqual(yield* shownRows(page), [[
            String(added.json.user_id),
            name,
            "markup@<b>x</b>.example",
            "149"
          ]])
          assert.deepInclude((yield* shownFigures(page)).domains, ["<b>x</b>.example", "1"])
          assert.strictEqual(
            yield* step(() => page.evaluate<number>("document.querySelectorAll('main img, main b').length")),
            0
          )
          assert.isUndefined(yield* step(() => page.evaluate<unknown>("window.pwned")))
          yield* assertClean(opened)
        }), 120_000)

      it.effect("the page and its files come with a strict CSP, nosniff and no-referrer", () =>
        Effect.gen(function*() {
          const base = yield* baseUrl
          const files = [
            { path: "/", type: "text/html" },
            { path: "/assets/dashboard.js", type: "text/javascript" },
            { path: "/assets/dashboard.css", type: "text/css" },
            { path: "/assets/favicon.svg", type: "image/svg+xml" }
          ]
          for (const { path, type } of files) {
            const response = yield* step(() => fetch(`${base}${path}`))
            const body = yield* step(() => response.text())
            assert.strictEqual(response.status, 200, path)
            assert.include(response.headers.get("content-type") ?? "", type, path)
            assert.strictEqual(response.headers.get("content-security-policy"), DashboardPage.contentSecurityPolicy)
            assert.strictEqual(response.headers.get("x-content-type-options"), "nosniff")
            assert.strictEqual(response.headers.get("referrer-policy"), "no-referrer")
            if (path === "/") {
              // Nothing inline for the CSP to allow, and nothing from elsewhere.
              assert.notMatch(body, /<script>|<style|\sstyle=|\son[a-z]+=/i)
              assert.notMatch(body, /(src|href)="(https?:)?\/\//)
            }
          }
          assert.include(DashboardPage.contentSecurityPolicy, "script-src 'self'")
          assert.include(DashboardPage.contentSecurityPolicy, "frame-ancestors 'none'")
        }))
    }
  )
})
