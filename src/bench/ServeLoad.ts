/**
 * The load the `serve` suite puts on an HTTP server. Requests that are counted and timed come from
 * autocannon, in a probe process of their own (`SuiteMain.js serve --probe load <spec>`), so that
 * the load generator never shares a thread with the server nor with the suite: random existing ids
 * for `GET /api/users/{id}`, either at a bounded rate or closed-loop, with every response's time
 * kept (autocannon's own histogram has whole milliseconds only and, at a bounded rate, corrects for
 * coordinated omission with a 1 ms interval that inflates the tail). The other clients run in the
 * suite's process, on `node:http`: the export downloaded at full speed (again and again), the
 * dashboard polled, and a slow reader of the export that lets the socket's backpressure act (it
 * reads a few KB per tick and never buffers more than the stream does).
 */
import type autocannon from "autocannon"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as http from "node:http"
import { createRequire } from "node:module"
import { performance } from "node:perf_hooks"
import * as OptionalPackage from "../OptionalPackage.js"
import { reportProbe, spawnProbe } from "./ChildProbe.js"
import { lookupIds } from "./Measure.js"

/** The load generator: a devDependency, absent from an installed package (the suite is then skipped). */
export const autocannonFeature: OptionalPackage.Feature = { name: "the serve benchmark", packages: ["autocannon"] }

/** A package the suite needs that dbscope does not depend on (a devDependency, absent from an installed dbscope). */
export interface Needed {
  readonly name: string
  /** What the suite needs it for. */
  readonly role: string
  /** What to install, with the major version the suite is built against. */
  readonly install: string
}

export const autocannonNeeded: Needed = { name: "autocannon", role: "the load generator", install: "autocannon@8" }

/** Why the suite cannot run here (some of `needed` cannot be found, in one line that says what to install), or none. */
export const missing = (needed: ReadonlyArray<Needed>): Option.Option<string> => {
  const require = createRequire(import.meta.url)
  const absent = needed.filter(({ name }) => {
    try {
      require.resolve(name)
      return false
    } catch {
      return true
    }
  })
  if (absent.length === 0) return Option.none()
  return Option.some(
    `${absent.map(({ name, role }) => `${name} (${role}, a devDependency)`).join(" and ")} ` +
      `${absent.length === 1 ? "is" : "are"} not installed: npm install --no-save ${
        absent.map(({ install }) => install).join(" ")
      }`
  )
}

/** One run of the load generator. */
export const LoadSpec = Schema.Struct({
  url: Schema.String,
  /** The path; `{id}` in it is replaced, request by request, by pseudo-random ids from 1 to `ids`. */
  path: Schema.String,
  ids: Schema.Number,
  connections: Schema.Number,
  /** Seconds of untimed load first (connections opened, JIT warmed, caches filled). */
  warmup: Schema.Number,
  seconds: Schema.Number,
  /** Requests per second over all connections; absent: closed-loop, as fast as the server answers. */
  rate: Schema.optional(Schema.Number)
})
export type LoadSpec = typeof LoadSpec.Type

/** What the measured part of a run saw; latencies (ms) of the 2xx responses, from request sent to response read. */
export const LoadResult = Schema.Struct({
  ok: Schema.Number,
  /** Responses that were not 2xx. */
  other: Schema.Number,
  errors: Schema.Number,
  timeouts: Schema.Number,
  seconds: Schema.Number,
  p50: Schema.Number,
  p90: Schema.Number,
  p99: Schema.Number,
  max: Schema.Number
})
export type LoadResult = typeof LoadResult.Type

/** The `q` quantile (0..1) of `sorted` values, nearest rank. */
export const quantile = (sorted: ArrayLike<number>, q: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN

/** Pseudo-random ids, cycled: the same sequence for every server, so that each looks up the same rows. */
const idCycle = 1 << 16

/** What the responses of a run said: 2xx latencies (ms), other statuses, errors and timeouts. */
interface Responses {
  readonly latencies: Array<number>
  other: number
  errors: number
  timeouts: number
}

/** One autocannon instance for `seconds`, its responses added to `into`. */
const autocannonInstance = (
  options: Omit<autocannon.Options, "requests" | "timeout">,
  path: () => string,
  into: Responses
) =>
  Effect.flatMap(
    OptionalPackage.load(autocannonFeature, () => import("autocannon")),
    ({ default: autocannon }) =>
      Effect.async<void, Error>((resume) => {
        const instance = autocannon({
          ...options,
          timeout: 30,
          requests: [{ method: "GET", path: path(), setupRequest: (request) => ({ ...request, path: path() }) }]
        }, (error, result) => {
          if (error !== null) return resume(Effect.fail(error))
          into.errors += result.errors
          into.timeouts += result.timeouts
          resume(Effect.void)
        })
        instance.on("response", (_client, status, _bytes, ms) => {
          if (status >= 200 && status < 300) into.latencies.push(ms)
          else into.other++
        })
        return Effect.sync(() => instance.stop())
      })
  )

/**
 * The load of `spec` for `seconds`. Closed-loop: one autocannon instance with all the connections.
 * At a rate: one instance per connection, each with its share of the rate, started 1/connections
 * of a second apart: autocannon sends a connection's requests of a second back to back at the start
 * of the second, so staggered connections spread the load over the second instead of sending it all
 * at once (the latency then measures the server, not a queue of the load's own making).
 */
const autocannonRun = (spec: LoadSpec, seconds: number) =>
  Effect.gen(function*() {
    const ids = lookupIds(spec.ids, idCycle)
    let next = 0
    const path = () => spec.path.replace("{id}", String(ids[next++ % idCycle] ?? 1))
    const responses: Responses = { latencies: [], other: 0, errors: 0, timeouts: 0 }
    const start = performance.now()
    const { connections, rate, url } = spec
    if (rate === undefined) {
      yield* autocannonInstance({ url, connections, duration: seconds }, path, responses)
    } else {
      const step = Math.round(1000 / connections)
      yield* Effect.forEach(
        Array.from({ length: connections }, (_, i) => i),
        (i) =>
          autocannonInstance(
            {
              url,
              connections: 1,
              duration: seconds,
              // This connection's share of the rate; the remainder goes to the first ones.
              connectionRate: Math.floor(rate / connections) + (i < rate % connections ? 1 : 0),
              // Latencies are taken from the responses, so autocannon's own correction is turned off.
              ignoreCoordinatedOmission: true
            },
            path,
            responses
          ).pipe(Effect.delay(i * step)),
        { concurrency: "unbounded", discard: true }
      )
    }
    return { ...responses, ms: performance.now() - start }
  })

/** The probe's side: the warm-up, then the measured run, reported as one `LoadResult` line. */
export const runLoad = (specText: string) =>
  Effect.gen(function*() {
    const spec = yield* Schema.decode(Schema.parseJson(LoadSpec))(specText)
    if (spec.warmup > 0) yield* autocannonRun(spec, spec.warmup)
    const run = yield* autocannonRun(spec, spec.seconds)
    const sorted = Float64Array.from(run.latencies).sort()
    yield* reportProbe(LoadResult, {
      ok: sorted.length,
      other: run.other,
      errors: run.errors,
      timeouts: run.timeouts,
      seconds: run.ms / 1000,
      p50: quantile(sorted, 0.5),
      p90: quantile(sorted, 0.9),
      p99: quantile(sorted, 0.99),
      max: quantile(sorted, 1)
    })
  })

/** Runs `spec` in a fresh load-generator process; dies if any request failed or was not 2xx. */
export const load = (spec: LoadSpec) =>
  Effect.flatMap(
    spawnProbe(LoadResult, { suite: "serve", kind: "load", arg: JSON.stringify(spec) }),
    (result) =>
      result.other + result.errors + result.timeouts > 0 || result.ok === 0
        ? Effect.dieMessage(
          `load on ${spec.url}${spec.path}: ${result.ok} answered, ${result.other} not 2xx, ` +
            `${result.errors} errors, ${result.timeouts} timeouts`
        )
        : Effect.succeed(result)
  )

// ---------------------------------------------------------------------------------------------
// Clients in the suite's process

/** Keep-alive connections for the suite's own clients (the dashboard poller reuses one). */
const agent = new http.Agent({ keepAlive: true })

/** What one GET read. */
export interface Fetched {
  readonly status: number
  readonly bytes: number
  /** Newlines read: rows of an NDJSON export. */
  readonly lines: number
  readonly ms: number
}

const countLines = (chunk: Buffer) => {
  let lines = 0
  for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++
  return lines
}

/**
 * GET `url`, its whole body read as fast as it comes (and counted, not kept; `onLines` told of the
 * rows of each chunk as it arrives); fails if the connection breaks or the status is not 200.
 * Interrupted, it closes the connection.
 */
export const fetchAll = (url: string, onLines: (lines: number) => void = () => undefined) =>
  Effect.async<Fetched, Error>((resume) => {
    const start = performance.now()
    const request = http.get(url, { agent }, (response) => {
      let bytes = 0
      let lines = 0
      response.on("data", (chunk: Buffer) => {
        const seen = countLines(chunk)
        bytes += chunk.length
        lines += seen
        onLines(seen)
      })
      response.once("error", (error) => resume(Effect.fail(error)))
      response.once("end", () => {
        const status = response.statusCode ?? 0
        resume(
          status === 200
            ? Effect.succeed({ status, bytes, lines, ms: performance.now() - start })
            : Effect.fail(new Error(`GET ${url}: status ${status}`))
        )
      })
    })
    request.once("error", (error) => resume(Effect.fail(error)))
    return Effect.sync(() => request.destroy())
  })

/** Running counts of a background client: whole responses, rows as they arrive, failures, ms spent on whole responses. */
export interface Tally {
  runs: number
  lines: number
  failures: number
  ms: number
}

const tally = (): Tally => ({ runs: 0, lines: 0, failures: 0, ms: 0 })

/** GETs `url` and counts the response in `counts` (a failure too: the suite reports it). */
const counted = (counts: Tally, url: string) =>
  fetchAll(url, (lines) => void (counts.lines += lines)).pipe(
    Effect.matchEffect({
      onFailure: () => Effect.sync(() => void counts.failures++),
      onSuccess: (fetched) =>
        Effect.sync(() => {
          counts.runs++
          counts.ms += fetched.ms
        })
    })
  )

/**
 * The background of the headline: the export downloaded at full speed, again as soon as it ends,
 * and the dashboard polled, again `pollEvery` ms after each answer (never two polls at once), both
 * until the scope closes (forked in it). Their tallies fill meanwhile; `since` is when they started.
 */
export const background = (url: string, pollEvery: number) =>
  Effect.gen(function*() {
    const exports = tally()
    const dashboards = tally()
    const since = performance.now()
    yield* Effect.forkScoped(Effect.forever(counted(exports, `${url}/api/users/export.ndjson`)))
    yield* Effect.forkScoped(Effect.repeat(counted(dashboards, `${url}/api/dashboard`), Schedule.spaced(pollEvery)))
    return { exports, dashboards, since }
  })

/** What the slow reader read before it let go. */
export interface SlowRead {
  readonly bytes: number
  readonly lines: number
  readonly ms: number
}

/**
 * Reads the export at `url` slowly: `bytesPerTick` every `tick` ms for `seconds`, the response left
 * paused in between, so that only the stream's own buffer and the kernel's hold what the server
 * sent, and the server must wait for the socket to drain. Then closes the connection.
 */
export const slowRead = (
  url: string,
  options: { readonly bytesPerTick: number; readonly tick: number; readonly seconds: number }
) =>
  Effect.async<SlowRead, Error>((resume) => {
    const start = performance.now()
    let bytes = 0
    let lines = 0
    let timer: NodeJS.Timeout | undefined
    const request = http.get(`${url}/api/users/export.ndjson`, (response) => {
      if (response.statusCode !== 200) {
        response.resume()
        return resume(Effect.fail(new Error(`GET export: status ${response.statusCode}`)))
      }
      response.pause()
      response.once("error", (error) => resume(Effect.fail(error)))
      timer = setInterval(() => {
        if (performance.now() - start >= options.seconds * 1000) {
          clearInterval(timer)
          request.destroy()
          return resume(Effect.succeed({ bytes, lines, ms: performance.now() - start }))
        }
        const available = response.readableLength
        // Nothing buffered: read(0) asks the stream to fetch more from the socket, up to its high-water mark.
        const chunk: Buffer | null = response.read(available === 0 ? 0 : Math.min(available, options.bytesPerTick))
        if (chunk !== null) {
          bytes += chunk.length
          lines += countLines(chunk)
        }
      }, options.tick)
    })
    request.once("error", (error) => resume(Effect.fail(error)))
    return Effect.sync(() => {
      clearInterval(timer)
      request.destroy()
    })
  })

/**
 * Samples `rss` every `every` ms while `effect` runs; the effect's value with the peak seen (at
 * least the value before and after).
 */
export const withPeakRss = <A, E, R>(rss: () => number | undefined, every: number, effect: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      let peak = rss() ?? 0
      const sample = () => {
        peak = Math.max(peak, rss() ?? 0)
      }
      return { timer: setInterval(sample, every), sample, peak: () => peak }
    }),
    (probe) =>
      Effect.map(effect, (a) => {
        probe.sample()
        return [a, probe.peak()] as const
      }),
    (probe) => Effect.sync(() => clearInterval(probe.timer))
  )
