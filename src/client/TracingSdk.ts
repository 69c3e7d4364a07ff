/**
 * The OpenTelemetry half of `Tracing`, imported only when tracing is on: `@effect/opentelemetry`
 * and the `@opentelemetry/*` packages are optional peers of dbscope (see `OptionalPackage`).
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
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Observation from "./core/Observation.js"
import * as StatementObserver from "./core/StatementObserver.js"
import type { Destination } from "./Tracing.js"

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

/** See `Tracing.layer`. */
export const layer = (destination: Destination): Layer.Layer<Resource.Resource> =>
  Layer.mergeAll(
    NodeSdk.layer(() => ({
      resource: { serviceName: "dbscope" },
      spanProcessor: processorFor(destination),
      shutdownTimeout: "5 seconds"
    })),
    Layer.scopedDiscard(
      Effect.locallyScopedWith(StatementObserver.current, (observer) => ({ ...observer, tracing: true }))
    ),
    Statement.setTransformer(Observation.shareStatementSpan)
  )
