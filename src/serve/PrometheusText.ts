/**
 * Effect's metrics in the Prometheus text exposition format (version 0.0.4), the format `/metrics`
 * serves: counters, gauges, histograms (cumulative `_bucket`s with `le`, `_sum`, `_count`),
 * summaries and frequencies. Metrics of one name, with different labels, are one family.
 */
import type * as MetricPair from "effect/MetricPair"
import * as MetricState from "effect/MetricState"
import * as Option from "effect/Option"

/** A metric family: its name, help line, type and sample lines. */
interface Family {
  readonly help: string
  type: "counter" | "gauge" | "histogram" | "summary"
  readonly samples: Array<string>
}

/** The media type of the format. */
export const contentType = "text/plain; version=0.0.4; charset=utf-8"

/** A metric or label name the format accepts: other characters become `_`. */
const metricName = (name: string) => name.replace(/[^a-zA-Z0-9_:]/g, "_").replace(/^([0-9])/, "_$1")
const labelName = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, "_").replace(/^([0-9])/, "_$1")

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, "\\\"")
const escapeHelp = (text: string) => text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")

const numberText = (value: number | bigint) =>
  typeof value === "bigint" ?
    value.toString() :
    Number.isNaN(value) ?
    "NaN" :
    value === Infinity ?
    "+Inf" :
    value === -Infinity ?
    "-Inf" :
    String(value)

type Labels = ReadonlyArray<readonly [string, string]>

const labelText = (labels: Labels) =>
  labels.length === 0 ? "" : `{${labels.map(([key, value]) => `${labelName(key)}="${escapeLabel(value)}"`).join(",")}}`

const sample = (name: string, labels: Labels, value: number | bigint) =>
  `${name}${labelText(labels)} ${numberText(value)}`

/** The families of one metric's state; gauges named in `totals` are published as counters. */
const addSamples = (
  families: Map<string, Family>,
  pair: MetricPair.MetricPair.Untyped,
  totals: ReadonlySet<string>
) => {
  const key = pair.metricKey
  const name = metricName(key.name)
  const labels: Labels = key.tags.map((tag) => [tag.key, tag.value] as const)
  const state = pair.metricState
  const family = (type: Family["type"], familyName = name) => {
    const found = families.get(familyName)
    if (found !== undefined) return found
    const made: Family = { help: Option.getOrElse(key.description, () => key.name), type, samples: [] }
    families.set(familyName, made)
    return made
  }
  if (MetricState.isCounterState(state)) {
    family("counter").samples.push(sample(name, labels, state.count))
  } else if (MetricState.isGaugeState(state)) {
    family(totals.has(key.name) ? "counter" : "gauge").samples.push(sample(name, labels, state.value))
  } else if (MetricState.isHistogramState(state)) {
    const samples = family("histogram").samples
    for (const [bound, count] of state.buckets) {
      samples.push(sample(`${name}_bucket`, [...labels, ["le", numberText(bound)]], count))
    }
    samples.push(sample(`${name}_bucket`, [...labels, ["le", "+Inf"]], state.count))
    samples.push(sample(`${name}_sum`, labels, state.sum))
    samples.push(sample(`${name}_count`, labels, state.count))
  } else if (MetricState.isSummaryState(state)) {
    const samples = family("summary").samples
    for (const [quantile, value] of state.quantiles) {
      samples.push(sample(name, [...labels, ["quantile", String(quantile)]], Option.getOrElse(value, () => NaN)))
    }
    samples.push(sample(`${name}_sum`, labels, state.sum))
    samples.push(sample(`${name}_count`, labels, state.count))
  } else if (MetricState.isFrequencyState(state)) {
    const samples = family("counter").samples
    for (const [occurrence, count] of state.occurrences) {
      samples.push(sample(name, [...labels, ["key", occurrence]], count))
    }
  }
}

/**
 * The metrics as Prometheus text, one family after the other, each with its `# HELP` and `# TYPE`.
 * `totals` names gauges that hold a running total kept elsewhere: they are published as counters.
 */
export const render = (
  pairs: Iterable<MetricPair.MetricPair.Untyped>,
  totals: ReadonlySet<string> = new Set()
): string => {
  const families = new Map<string, Family>()
  for (const pair of pairs) addSamples(families, pair, totals)
  const lines: Array<string> = []
  for (const [name, family] of [...families].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`# HELP ${name} ${escapeHelp(family.help)}`, `# TYPE ${name} ${family.type}`, ...family.samples)
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`
}
