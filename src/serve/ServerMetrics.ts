/**
 * What `dbscope serve` counts, and `GET /metrics` that shows it in the Prometheus text format:
 * requests and their latency by route (the route's pattern, never the raw path: `/api/users/{id}`
 * is one series, not one per user), the reader pool's workers busy and idle and the queries waiting
 * for one, the query cache's hits, misses, invalidations and evictions, and on MySQL each server's
 * state (a cluster's nodes: in service, taking the writes, statements running).
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as Option from "effect/Option"
import { MysqlDatabase } from "../client/MysqlDatabase.js"
import { QueryCache } from "../combinators/CacheQuery.js"
import { ReaderPool } from "../readers/ReaderPool.js"
import * as PrometheusText from "./PrometheusText.js"

const requests = Metric.counter("dbscope_http_requests_total", {
  description: "HTTP requests answered, by method, route and status (499: the client left first)",
  incremental: true
})

// From 1 ms to 10 s: a point lookup takes well under a millisecond, a dashboard tens of them.
const latency = Metric.histogram(
  "dbscope_http_request_duration_seconds",
  MetricBoundaries.fromIterable([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
  "Time to answer a request, until its body is sent (a streamed export: its last line), by route"
)

const readerWorkers = Metric.gauge("dbscope_reader_pool_workers", {
  description: "Reader worker threads of the pool, by state (busy: running a query)"
})
const readerWaiting = Metric.gauge("dbscope_reader_pool_waiting", {
  description: "Queries waiting for a free reader worker"
})

/** The cache's running totals, kept by the cache itself: read into gauges, published as counters. */
const cacheTotals = {
  hits: ["dbscope_cache_hits_total", "Query cache: answers served from the cache"],
  misses: ["dbscope_cache_misses_total", "Query cache: queries run for want of a result"],
  invalidations: [
    "dbscope_cache_invalidations_total",
    "Query cache: results dropped because a table they read changed"
  ],
  evictions: ["dbscope_cache_evictions_total", "Query cache: results dropped to stay within its capacity"]
} as const
const cacheCounters = {
  hits: Metric.gauge(cacheTotals.hits[0], { description: cacheTotals.hits[1] }),
  misses: Metric.gauge(cacheTotals.misses[0], { description: cacheTotals.misses[1] }),
  invalidations: Metric.gauge(cacheTotals.invalidations[0], { description: cacheTotals.invalidations[1] }),
  evictions: Metric.gauge(cacheTotals.evictions[0], { description: cacheTotals.evictions[1] })
}
const cacheSize = Metric.gauge("dbscope_cache_entries", { description: "Query cache: results held now" })

const nodeInService = Metric.gauge("dbscope_database_node_in_service", {
  description: "MySQL server (a cluster's node): 1 while it serves, 0 while the health check keeps it out"
})
const nodeWriter = Metric.gauge("dbscope_database_node_writer", {
  description: "MySQL server (a cluster's node): 1 for the one that takes the writes"
})
const nodeBusy = Metric.gauge("dbscope_database_node_busy", {
  description: "MySQL server (a cluster's node): dbscope's statements and connections in use on it"
})

/** Counts one answered request: `route` is the pattern matched (`unmatched` for none). */
export const recordRequest = (method: string, route: string, status: number, seconds: number) =>
  Effect.sync(() => {
    requestsBy(method, route, status).unsafeUpdate(1, [])
    latencyBy(route).unsafeUpdate(seconds, [])
  })

/**
 * The tagged metric of each series, made once: tagging builds a new key, hashed on every update,
 * which cost a fifth of a point lookup's time. Routes, methods and statuses are few (the patterns).
 */
const requestSeries = new Map<string, Metric.Metric.Counter<number>>()
const latencySeries = new Map<string, Metric.Metric.Histogram<number>>()

const requestsBy = (method: string, route: string, status: number) => {
  const key = `${method} ${route} ${status}`
  let series = requestSeries.get(key)
  if (series === undefined) {
    series = requests.pipe(
      Metric.tagged("method", method),
      Metric.tagged("route", route),
      Metric.tagged("status", String(status))
    )
    requestSeries.set(key, series)
  }
  return series
}

const latencyBy = (route: string) => {
  let series = latencySeries.get(route)
  if (series === undefined) {
    series = Metric.tagged(latency, "route", route)
    latencySeries.set(route, series)
  }
  return series
}

const totals: ReadonlySet<string> = new Set(Object.values(cacheTotals).map(([name]) => name))

/** Reads the pool, the cache and the MySQL servers (when the server has them) into their gauges. */
const sampleServices = (
  pool: Option.Option<ReaderPool["Type"]>,
  cache: Option.Option<QueryCache["Type"]>,
  mysql: Option.Option<MysqlDatabase["Type"]>
) =>
  Effect.gen(function*() {
    if (Option.isSome(mysql)) {
      for (const node of yield* mysql.value.nodes) {
        yield* Metric.set(Metric.tagged(nodeInService, "node", node.name), node.inService ? 1 : 0)
        yield* Metric.set(Metric.tagged(nodeWriter, "node", node.name), node.writer ? 1 : 0)
        yield* Metric.set(Metric.tagged(nodeBusy, "node", node.name), node.busy)
      }
    }
    if (Option.isSome(pool)) {
      const usage = yield* pool.value.usage
      yield* Metric.set(Metric.tagged(readerWorkers, "state", "busy"), usage.busy)
      yield* Metric.set(Metric.tagged(readerWorkers, "state", "idle"), usage.workers - usage.busy)
      yield* Metric.set(readerWaiting, usage.waiting)
    }
    if (Option.isSome(cache)) {
      const stats = yield* cache.value.stats
      yield* Metric.set(cacheCounters.hits, stats.hits)
      yield* Metric.set(cacheCounters.misses, stats.misses)
      yield* Metric.set(cacheCounters.invalidations, stats.invalidations)
      yield* Metric.set(cacheCounters.evictions, stats.evictions)
      yield* Metric.set(cacheSize, stats.size)
    }
  })

/** Whether a metric is one of dbscope's (others in the process, if any, are not ours to publish). */
const isOurs = (name: string) => name.startsWith("dbscope_")

/**
 * `GET /metrics` on the API's router, with the reader pool, the query cache and the MySQL servers of
 * the context it is built in (each may be absent: a single SQLite connection has no pool).
 */
export const layer = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function*() {
    const pool = yield* Effect.serviceOption(ReaderPool)
    const cache = yield* Effect.serviceOption(QueryCache)
    const mysql = yield* Effect.serviceOption(MysqlDatabase)
    yield* router.get(
      "/metrics",
      Effect.gen(function*() {
        yield* sampleServices(pool, cache, mysql)
        const pairs = (yield* Metric.snapshot).filter((pair) => isOurs(pair.metricKey.name))
        return HttpServerResponse.text(PrometheusText.render(pairs, totals), {
          contentType: PrometheusText.contentType
        })
      })
    )
  })
)
