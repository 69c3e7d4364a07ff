/**
 * Tracing, optional: exports dbscope's spans through OpenTelemetry (`@effect/opentelemetry`). With
 * the layer on, every statement gets a span — `sql.execute` for a templated statement,
 * `dbscope.statement` for the others — with `db.system`, `db.statement` (the SQL text, never the
 * bound values) and `db.response.returned_rows`, under the spans of the operations that ran it
 * (`UserRepo.count`, `CsvImport.importCsv`, ...).
 *
 * Spans go to an OTLP/HTTP collector when one is configured (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`,
 * or `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`, the standard variables), else to stderr, one line
 * each, so that stdout keeps only the command's data.
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import type * as Resource from "@effect/opentelemetry/Resource"
import * as Statement from "@effect/sql/Statement"
import type { ExportResult } from "@opentelemetry/core"
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http"
import {
  BatchSpanProcessor,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter
} from "@opentelemetry/sdk-trace-base"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Observation from "./core/Observation.js"
import * as StatementObserver from "./core/StatementObserver.js"

/** Where spans go. */
export type Destination =
  | { readonly _tag: "Console"; readonly write?: (line: string) => void }
  | { readonly _tag: "Otlp"; readonly url: string }

const serviceName = "dbscope"

/** `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as is, or `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`. */
const configuredEndpoint: Config.Config<Option.Option<string>> = Config.all({
  traces: Config.option(Config.nonEmptyString("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")),
  base: Config.option(Config.nonEmptyString("OTEL_EXPORTER_OTLP_ENDPOINT"))
}).pipe(
  Config.map(({ base, traces }) =>
    Option.orElse(traces, () => Option.map(base, (url) => `${url.replace(/\/+$/, "")}/v1/traces`))
  )
)

/** The destination from Config: the OTLP endpoint if one is set, else the console. */
export const destinationFromConfig: Effect.Effect<Destination, ConfigError.ConfigError> = Effect.map(
  configuredEndpoint,
  Option.match({
    onNone: (): Destination => ({ _tag: "Console" }),
    onSome: (url): Destination => ({ _tag: "Otlp", url })
  })
)

const durationMs = (span: ReadableSpan) => span.duration[0] * 1e3 + span.duration[1] / 1e6

const shown = (value: unknown) => typeof value === "string" ? JSON.stringify(value) : String(value)

/** One line per span: name, duration, trace and parent, then its attributes. */
export const formatSpan = (span: ReadableSpan): string => {
  const context = span.spanContext()
  const parent = span.parentSpanContext?.spanId
  const attributes = Object.entries(span.attributes)
    .filter(([key]) => !key.startsWith("code."))
    .map(([key, value]) => `${key}=${shown(value)}`)
  return [
    `span ${span.name}`,
    `${durationMs(span).toFixed(3)}ms`,
    `trace=${context.traceId.slice(0, 8)}`,
    `id=${context.spanId.slice(0, 8)}`,
    ...(parent === undefined ? [] : [`parent=${parent.slice(0, 8)}`]),
    ...(span.status.code === 2 ? ["status=error"] : []),
    ...attributes
  ].join(" ")
}

/** Writes each finished span as one line (on stderr by default). */
class LineExporter implements SpanExporter {
  constructor(private readonly write: (line: string) => void) {}
  export(spans: Array<ReadableSpan>, done: (result: ExportResult) => void): void {
    for (const span of spans) this.write(formatSpan(span))
    done({ code: 0 })
  }
  shutdown(): Promise<void> {
    return Promise.resolve()
  }
}

const processorFor = (destination: Destination) =>
  destination._tag === "Console"
    ? new SimpleSpanProcessor(
      new LineExporter(destination.write ?? ((line) => void process.stderr.write(`${line}\n`)))
    )
    : new BatchSpanProcessor(new OTLPTraceExporter({ url: destination.url }))

/**
 * Traces everything run under it to `destination`. Spans still buffered are flushed when the
 * layer is released, so a short command loses none.
 */
export const layer = (destination: Destination): Layer.Layer<Resource.Resource> =>
  Layer.mergeAll(
    NodeSdk.layer(() => ({
      resource: { serviceName },
      spanProcessor: processorFor(destination),
      shutdownTimeout: "5 seconds"
    })),
    Layer.scopedDiscard(
      Effect.locallyScopedWith(StatementObserver.current, (observer) => ({ ...observer, tracing: true }))
    ),
    Statement.setTransformer(Observation.shareStatementSpan)
  )

/** `layer` with the destination read from Config (see the module comment). */
export const layerFromConfig: Layer.Layer<Resource.Resource, ConfigError.ConfigError> = Layer.unwrapEffect(
  Effect.map(destinationFromConfig, layer)
)
