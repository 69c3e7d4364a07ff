/**
 * Effect metrics in the Prometheus text format: one family per name with its HELP and TYPE lines,
 * labels escaped, histogram buckets cumulative and ending with `+Inf`, totals published as counters.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as PrometheusText from "../../src/serve/PrometheusText.js"

const snapshotOf = (prefix: string) =>
  Effect.map(Metric.snapshot, (pairs) => pairs.filter((pair) => pair.metricKey.name.startsWith(prefix)))

describe("PrometheusText.render", () => {
  it.effect("counters and gauges, one family per name, labels escaped", () =>
    Effect.gen(function*() {
      const requests = Metric.counter("ptest_requests_total", { description: "Requests\nseen", incremental: true })
      yield* Metric.incrementBy(Metric.tagged(requests, "route", "/a"), 2)
      yield* Metric.increment(Metric.tagged(requests, "route", "say \"hi\"\\"))
      yield* Metric.set(Metric.gauge("ptest.size"), 7)
      const text = PrometheusText.render(yield* snapshotOf("ptest"))
      assert.strictEqual(text.match(/^# TYPE ptest_requests_total counter$/gm)?.length, 1)
      assert.include(text, "# HELP ptest_requests_total Requests\\nseen\n")
      assert.include(text, "ptest_requests_total{route=\"/a\"} 2\n")
      assert.include(text, "ptest_requests_total{route=\"say \\\"hi\\\"\\\\\"} 1\n")
      assert.include(text, "# TYPE ptest_size gauge\nptest_size 7\n")
      assert.isTrue(text.endsWith("\n"))
    }))

  it.effect("histograms: cumulative buckets, +Inf, _sum and _count", () =>
    Effect.gen(function*() {
      const latency = Metric.histogram("htest_seconds", MetricBoundaries.fromIterable([0.1, 1]), "Latency")
      for (const value of [0.05, 0.5, 0.7, 3]) yield* Metric.update(Metric.tagged(latency, "route", "/x"), value)
      const text = PrometheusText.render(yield* snapshotOf("htest"))
      assert.include(text, "# TYPE htest_seconds histogram\n")
      assert.include(text, "htest_seconds_bucket{route=\"/x\",le=\"0.1\"} 1\n")
      assert.include(text, "htest_seconds_bucket{route=\"/x\",le=\"1\"} 3\n")
      assert.include(text, "htest_seconds_bucket{route=\"/x\",le=\"+Inf\"} 4\n")
      assert.include(text, "htest_seconds_sum{route=\"/x\"} 4.25\n")
      assert.include(text, "htest_seconds_count{route=\"/x\"} 4\n")
    }))

  it.effect("a gauge holding a total kept elsewhere is published as a counter", () =>
    Effect.gen(function*() {
      yield* Metric.set(Metric.gauge("ttest_hits_total"), 12)
      const text = PrometheusText.render(yield* snapshotOf("ttest"), new Set(["ttest_hits_total"]))
      assert.strictEqual(
        text,
        "# HELP ttest_hits_total ttest_hits_total\n# TYPE ttest_hits_total counter\nttest_hits_total 12\n"
      )
    }))
})
