/**
 * `dbscope serve`'s HTTP server: the `UsersApi` with its handlers, the OpenAPI document at
 * `/api/openapi.json` and interactive docs at `/api/docs` (Scalar, served from the package itself:
 * no network access needed), on Node's `http` server. Needs the users repository, the dashboard and
 * the database's `Reactivity` (the dashboard's cache listens to it).
 */
import type * as Reactivity from "@effect/experimental/Reactivity"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApiScalar from "@effect/platform/HttpApiScalar"
import * as IncomingMessage from "@effect/platform/HttpIncomingMessage"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Http from "node:http"
import { createServer } from "node:http"
import * as CacheQuery from "../combinators/CacheQuery.js"
import * as AccessRules from "./AccessRules.js"
import * as DashboardPage from "./DashboardPage.js"
import * as RequestLog from "./RequestLog.js"
import * as ServerMetrics from "./ServerMetrics.js"
import * as UsersHandlers from "./UsersHandlers.js"

/** Where the server listens, and how long requests in flight may take to finish when it stops. */
export interface ServeOptions {
  readonly port: number
  readonly host: string
  /** Default 10 s; then the connections still open are closed. */
  readonly shutdownTimeout?: Duration.DurationInput | undefined
  /** The API token: with one, writes need it, and reads unless `publicReads`. */
  readonly token?: Option.Option<Redacted.Redacted<string>> | undefined
  readonly publicReads?: boolean | undefined
  /** Origins whose pages may call the API (CORS); none by default. */
  readonly corsOrigins?: ReadonlyArray<string> | undefined
  /** How long the dashboard's figures are cached unless a write drops them (default 1 minute; zero: no cache). */
  readonly dashboardCache?: Duration.DurationInput | undefined
}

/**
 * Stops the server gracefully when its scope closes: no new connections, idle ones closed, requests
 * in flight given `timeout` to finish, then every connection still open closed (their requests are
 * interrupted: a streamed export stops its reads).
 */
const drainOnClose = (server: Http.Server, timeout: Duration.DurationInput) =>
  Layer.scopedDiscard(Effect.gen(function*() {
    let inFlight = 0
    const drained: Array<() => void> = []
    server.on("request", (_request: Http.IncomingMessage, response: Http.ServerResponse) => {
      inFlight++
      response.once("close", () => {
        inFlight--
        if (inFlight === 0) drained.splice(0).forEach((wake) => wake())
      })
    })
    // A finalizer cannot be interrupted, so the bound is a timer rather than `Effect.timeout`.
    yield* Effect.addFinalizer(() =>
      Effect.async<void>((resume) => {
        server.close()
        if (inFlight === 0) return resume(Effect.void)
        const bound = setTimeout(() => resume(Effect.void), Duration.toMillis(timeout))
        drained.push(() => {
          clearTimeout(bound)
          resume(Effect.void)
        })
      }).pipe(Effect.ensuring(Effect.sync(() => server.closeAllConnections())))
    )
  }))

/** The largest request body the API reads: a user is well under 1 KB. */
export const maxBodyBytes = 64 * 1024

/**
 * Refuses a body over `maxBodyBytes` with 413 before reading it (by its Content-Length), and bounds
 * the reading of one sent without a length.
 */
const bodyLimit = HttpMiddleware.make((app) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (request.method === "GET" || request.method === "HEAD") return yield* app
    const declared = Number(request.headers["content-length"] ?? "0")
    if (declared > maxBodyBytes) {
      return HttpServerResponse.unsafeJson(
        { error: "payload_too_large", message: `a request body may hold at most ${maxBodyBytes} bytes` },
        { status: 413 }
      )
    }
    return yield* app.pipe(IncomingMessage.withMaxBodySize(Option.some(maxBodyBytes)))
  })
)

/** The API, its document and docs, on `host:port`; the server stops gracefully with the layer's scope. */
export const layer = (options: ServeOptions) => {
  const server = createServer()
  const access = AccessRules.middleware({
    token: options.token ?? Option.none(),
    publicReads: options.publicReads ?? false,
    corsOrigins: options.corsOrigins ?? []
  })
  const cors = options.corsOrigins !== undefined && options.corsOrigins.length > 0
    ? HttpMiddleware.cors({
      allowedOrigins: options.corsOrigins,
      allowedHeaders: ["authorization", "content-type", "x-request-id"],
      allowedMethods: ["GET", "POST", "PATCH"],
      exposedHeaders: ["x-request-id"],
      maxAge: 600
    })
    : identity
  return HttpApiBuilder.serve((app) => RequestLog.middleware(cors(access(bodyLimit(app))))).pipe(
    Layer.provide(ServerMetrics.layer),
    Layer.provide(HttpApiScalar.layer({ path: "/api/docs", scalar: { withDefaultFonts: false } })),
    Layer.provide(DashboardPage.layer),
    Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/api/openapi.json" })),
    Layer.provide(UsersHandlers.layer({ dashboardCache: options.dashboardCache })),
    Layer.provide(CacheQuery.layer()),
    Layer.provideMerge(drainOnClose(server, options.shutdownTimeout ?? Duration.seconds(10))),
    Layer.provideMerge(NodeHttpServer.layer(() => server, { port: options.port, host: options.host }))
  )
}

export type Requirements = Layer.Layer.Context<ReturnType<typeof layer>> | Reactivity.Reactivity
