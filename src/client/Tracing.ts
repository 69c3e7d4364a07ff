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
 *
 * The OpenTelemetry packages are optional peers: they are imported when the layer is built (see
 * `TracingSdk`), and a missing one fails it with `MissingPackage`, naming what to install.
 */
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as OptionalPackage from "../OptionalPackage.js"

/** Where spans go. */
export type Destination =
  | { readonly _tag: "Console"; readonly write?: (line: string) => void }
  | { readonly _tag: "Otlp"; readonly url: string }

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

/**
 * Traces everything run under it to `destination`. Spans still buffered are flushed when the
 * layer is released, so a short command loses none. (It also provides `@effect/opentelemetry`'s
 * `Resource`, not named in the type so that the type needs no OpenTelemetry package.)
 */
export const layer = (destination: Destination): Layer.Layer<never, OptionalPackage.MissingPackage> =>
  Layer.unwrapEffect(
    Effect.map(
      OptionalPackage.load(OptionalPackage.tracing, () => import("./TracingSdk.js")),
      (sdk) => sdk.layer(destination)
    )
  )

/** `layer` with the destination read from Config (see the module comment). */
export const layerFromConfig: Layer.Layer<never, OptionalPackage.MissingPackage | ConfigError.ConfigError> = Layer
  .unwrapEffect(Effect.map(destinationFromConfig, layer))
