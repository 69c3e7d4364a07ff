/**
 * Every request of `dbscope serve` gets an id (the caller's `X-Request-Id` when it is a sane one,
 * else a new one), sent back in `X-Request-Id`, set on the request's span (whose children are the
 * statements' spans under `--trace`) and on every log line written while it runs. When it is
 * answered, one `request` log line (method, route, status, milliseconds) and the request metrics.
 * A request whose client left before its body was sent is counted with status 499. The route is
 * the pattern matched, never the path with its ids and query. A 503 (the database busy
 * past its timeout) says `Retry-After: 1`.
 */
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as HttpApp from "@effect/platform/HttpApp"
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import { randomUUID } from "node:crypto"
import * as ServerMetrics from "./ServerMetrics.js"

/** The status recorded for a request whose client went away before it was answered in full. */
const clientClosedRequest = 499

/** An id a caller may choose: short, and nothing that could forge a log line. */
const saneId = /^[A-Za-z0-9._-]{1,64}$/

/** The request's id: the caller's, when sane, or a new one. */
export const requestIdOf = (given: string | undefined) =>
  given !== undefined && saneId.test(given) ? given : randomUUID()

/** The route the router matched, as it set it on the request's span; `unmatched` for none. */
const routeOf = (span: Option.Option<{ readonly attributes: ReadonlyMap<string, unknown> }>) => {
  const route = Option.isSome(span) ? span.value.attributes.get("http.route") : undefined
  return typeof route === "string" ? route : "unmatched"
}

/** A response for a path no route serves, as JSON like the API's other errors. */
const notFound = HttpServerResponse.unsafeJson(
  { error: "not_found", message: "no such endpoint: see /api/docs" },
  { status: 404 }
)

/**
 * The response as sent: with the request's id, and JSON for a path no route serves. Applied before
 * the response is written (the app writes its own response before returning it).
 */
const finish = (id: string, route: () => string) => (response: HttpServerResponse.HttpServerResponse) => {
  const answered = HttpServerResponse.setHeader(
    response.status === 404 && route() === "unmatched" ? notFound : response,
    "x-request-id",
    id
  )
  // The database was busy or failing: a well-behaved client waits before trying again.
  return answered.status === 503 ? HttpServerResponse.setHeader(answered, "retry-after", "1") : answered
}

/** The middleware: ids, span attribute, log line and metrics for each request. */
export const middleware = HttpMiddleware.make((app) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const id = requestIdOf(request.headers["x-request-id"])
    const span = yield* Effect.option(Effect.currentSpan)
    if (Option.isSome(span)) span.value.attribute("request.id", id)
    const finished = finish(id, () => routeOf(span))
    yield* HttpApp.appendPreResponseHandler((_request, response) => Effect.succeed(finished(response)))
    // Node says so when the connection closes before the response was sent in full.
    const nodeResponse = NodeHttpServerRequest.toServerResponse(request)
    let clientLeft = false
    nodeResponse.once("close", () => void (clientLeft = !nodeResponse.writableFinished))
    const started = performance.now()
    const exit = yield* app.pipe(Effect.annotateLogs("request_id", id), Effect.exit)
    const seconds = (performance.now() - started) / 1000
    const route = routeOf(span)
    // A client that left (an export it stopped reading) interrupted its request: 499, as nginx says.
    const status = clientLeft || (Exit.isFailure(exit) && Cause.isInterrupted(exit.cause)) ?
      clientClosedRequest :
      finished(HttpServerError.exitResponse(exit)).status
    yield* ServerMetrics.recordRequest(request.method, route, status, seconds)
    // Only when it will be written: building the entry's annotations costs as much as the lookup.
    yield* Effect.logInfo("request").pipe(
      Effect.annotateLogs({
        request_id: id,
        method: request.method,
        route,
        status,
        ms: Math.round(seconds * 10_000) / 10
      }),
      Effect.whenLogLevel(LogLevel.Info)
    )
    // A response the app returned without writing it (a refusal by a middleware) is finished here;
    // a failure was answered already, and its cause is kept for the span.
    return Exit.isSuccess(exit) ? finished(exit.value) : yield* Effect.failCause(exit.cause)
  })
)
