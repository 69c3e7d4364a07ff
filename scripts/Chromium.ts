/**
 * Headless Chromium for the dashboard page's browser test and `npm run screenshot`: Debian's
 * `chromium` package (`/usr/bin/chromium`, which `.ci/run` installs) driven by `playwright-core`,
 * which brings no browser of its own and downloads nothing. Each launch runs in a fresh temporary
 * profile (Playwright's, removed when the browser closes), offline apart from the pages it is sent
 * to, and the browser is closed when the scope closes, whatever the test or script did.
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import { chromium } from "playwright-core"

/** Debian's build (a shell wrapper that `exec`s the browser, so closing it closes Chromium). */
export const executablePath = "/usr/bin/chromium"

/**
 * No sandbox (containers and root have none to give), no GPU, and nothing of its own on the network:
 * no QUIC, no first-run pages, no component updates, sync or other background requests.
 */
export const args: ReadonlyArray<string> = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync"
]

/** Whether Debian's Chromium is installed here. */
export const isInstalled = (): boolean => {
  try {
    fs.accessSync(executablePath, fs.constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** Chromium did not start (or is not installed). */
export class ChromiumError extends Data.TaggedError("ChromiumError")<{ readonly reason: string }> {
  override get message() {
    return `Chromium (${executablePath}) did not start: ${this.reason}; on Debian: apt-get install chromium`
  }
}

/** How long Chromium gets to start, and to close, on a loaded machine. */
const startTimeout = 60_000
const closeTimeout = "30 seconds"

/**
 * A headless browser, closed when the scope closes (a close that hangs is logged; Playwright kills
 * the process when Node exits).
 */
export const launch = Effect.acquireRelease(
  Effect.tryPromise({
    try: () => chromium.launch({ executablePath, args: [...args], headless: true, timeout: startTimeout }),
    catch: (cause) => new ChromiumError({ reason: cause instanceof Error ? cause.message.split("\n")[0] ?? "" : "" })
  }),
  (browser) =>
    Effect.tryPromise(() => browser.close()).pipe(
      Effect.timeout(closeTimeout),
      Effect.tap(() => Effect.logDebug("closed Chromium")),
      Effect.catchAll((error) => Effect.logWarning(`Chromium did not close cleanly: ${error.message}`))
    )
)
