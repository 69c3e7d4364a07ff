/**
 * What each endpoint of `UsersApi` does, on the users repository and the dashboard: keyset pages,
 * point lookups, writes in a transaction retried when the database was busy, the export streamed
 * page by page (a slow client slows the reads; a client that leaves stops them), and the dashboard
 * served through `cacheQuery` (a write through the API drops it).
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpApiError from "@effect/platform/HttpApiError"
import * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { cacheQuery } from "../combinators/CacheQuery.js"
import { retryOnFailure } from "../combinators/RetryOnFailure.js"
import { transactional } from "../combinators/Transactional.js"
import { Dashboard } from "../users/Dashboard.js"
import { parseWholeNumber } from "../users/User.js"
import { UserRepo } from "../users/UserRepo.js"
import { streamUsersWhere } from "../users/UserStream.js"
import {
  BadRequest,
  badRequest,
  Conflict,
  conflict,
  NotFound,
  notFound,
  Unavailable,
  unavailable,
  UsersApi
} from "./UsersApi.js"

type ApiError = BadRequest | NotFound | Conflict | Unavailable

/** Page sizes the API accepts, and the default. */
export const maxPageSize = 1000
export const defaultPageSize = 100

/** A whole number from a query parameter, within bounds; `undefined` when the parameter is absent. */
const wholeParam = (name: string, text: string | undefined, min: number, max: number) => {
  if (text === undefined) return Effect.succeed(undefined)
  const n = parseWholeNumber(text)
  return n !== undefined && n >= min && n <= max
    ? Effect.succeed(n)
    : Effect.fail(badRequest(`${name} must be a whole number from ${min} to ${max}, got '${text.slice(0, 40)}'`))
}

/**
 * Any failure of a handler as one of the API's errors: bad input is a 400, a taken e-mail a 409, and
 * the database failing (busy past its timeout, a commit refused, a stored value it should not hold)
 * a 503 with the one-line message dbscope gives, never the driver's text.
 */
const asApiError = (error: ApiError | { readonly _tag: string; readonly message: string }): ApiError => {
  if (error instanceof BadRequest || error instanceof NotFound || error instanceof Conflict) return error
  if (error instanceof Unavailable) return error
  switch (error._tag) {
    case "InvalidAge":
    case "InvalidUserId":
      return badRequest(error.message)
    case "InvalidUser":
      return badRequest("reason" in error && typeof error.reason === "string" ? error.reason : error.message)
    case "DuplicateEmail":
      return conflict(error.message)
    case "SqlError":
      return unavailable("the database failed; try again")
    default:
      return unavailable(error.message)
  }
}

/** A user id from the path: a positive integer. */
const checkId = (id: number) =>
  Number.isSafeInteger(id) && id > 0
    ? Effect.succeed(id)
    : Effect.fail(badRequest(`user id must be a positive integer`))

const UsersLive = HttpApiBuilder.group(UsersApi, "users", (handlers) =>
  Effect.gen(function*() {
    const repo = yield* UserRepo
    const context = yield* Effect.context<UserRepo>()
    const byId = (id: number) =>
      Effect.flatMap(
        repo.byId(id),
        Option.match({
          onNone: () => Effect.fail(notFound(`no user with id ${id}`)),
          onSome: Effect.succeed
        })
      )
    return handlers
      .handle("list", ({ urlParams }) =>
        Effect.gen(function*() {
          const olderThan = yield* wholeParam("olderThan", urlParams.olderThan, 0, 150)
          const limit = (yield* wholeParam("limit", urlParams.limit, 1, maxPageSize)) ?? defaultPageSize
          const after = (yield* wholeParam("after", urlParams.after, 0, Number.MAX_SAFE_INTEGER)) ?? 0
          const users = olderThan === undefined
            ? yield* repo.pageAfter(after, limit)
            : yield* repo.olderThanAfter(olderThan, after, limit)
          const last = users.at(-1)
          return { users, next: users.length === limit && last !== undefined ? String(last.user_id) : null }
        }).pipe(Effect.mapError(asApiError)))
      .handleRaw("export", ({ urlParams }) =>
        Effect.map(wholeParam("olderThan", urlParams.olderThan, 0, 150), (olderThan) => {
          const lines = streamUsersWhere({ olderThan, pageSize: maxPageSize }).pipe(
            // One write per page, not one per user: a write per row cost a fifth of the server's time.
            Stream.mapChunks((users) =>
              Chunk.of(Chunk.join(
                Chunk.map(users, (user) =>
                  `${JSON.stringify(user)}\n`),
                ""
              ))
            ),
            Stream.encodeText,
            Stream.provideContext(context)
          )
          return HttpServerResponse.stream(lines, { contentType: "application/x-ndjson" })
        }))
      .handle("byId", ({ path }) =>
        Effect.flatMap(checkId(path.id), byId).pipe(Effect.mapError(asApiError)))
      .handle("create", ({ payload }) =>
        repo.insert(payload).pipe(
          transactional,
          retryOnFailure(),
          Effect.mapError(asApiError)
        ))
      .handle("changeEmail", ({ path, payload }) =>
        Effect.gen(function*() {
          const id = yield* checkId(path.id)
          const changed = yield* repo.updateEmail(id, payload.email).pipe(transactional, retryOnFailure())
          if (!changed) return yield* Effect.fail(notFound(`no user with id ${id}`))
          return yield* byId(id)
        }).pipe(Effect.mapError(asApiError)))
  }))

/** How long the dashboard's figures are cached (unless a write drops them); zero: not cached. */
const DashboardLive = (dashboardCache: Duration.Duration) =>
  HttpApiBuilder.group(UsersApi, "dashboard", (handlers) =>
    Effect.gen(function*() {
      const dashboard = yield* Dashboard
      const repo = yield* UserRepo
      return handlers
        .handle("dashboard", () =>
          (Duration.isZero(dashboardCache)
            ? dashboard.report()
            : dashboard.report().pipe(cacheQuery({ key: ["dashboard"], timeToLive: dashboardCache }))).pipe(
              Effect.mapError(asApiError)
            ))
        .handle("health", () =>
          Effect.map(repo.count, (users) => ({ status: "ok" as const, users })).pipe(
            Effect.mapError(asApiError)
          ))
    }))

/** How a request the API could not decode is explained: what was wrong, never the schema's whole text. */
const explainDecodeError = (
  issues: ReadonlyArray<{ readonly path: ReadonlyArray<unknown>; readonly message: string }>
) => {
  const first = issues[0]
  if (first === undefined || first.path.length === 0) {
    return "the request body must be a JSON object like the API's documentation shows (Content-Type: application/json)"
  }
  return `${first.path.map(String).join(".")}: ${first.message.slice(0, 160)}`
}

/**
 * Requests the API could not read, as its 400 `{ error, message }`: a path parameter or a body
 * that does not fit its schema (`HttpApiDecodeError`), or a body that is not JSON at all.
 */
const explainUnreadable = HttpApiBuilder.middleware(UsersApi, (app) =>
  Effect.catchAllCause(app, (cause) => {
    // The body is read with `orDie`: a body that is not JSON is a defect carrying a `RequestError`.
    const error = Option.orElse(Cause.failureOption(cause as Cause.Cause<unknown>), () => Cause.dieOption(cause))
    if (Option.isSome(error) && error.value instanceof HttpApiError.HttpApiDecodeError) {
      return Effect.fail(badRequest(explainDecodeError(error.value.issues)))
    }
    if (Option.isSome(error) && HttpServerError.isServerError(error.value) && error.value._tag === "RequestError") {
      return Effect.fail(badRequest("the request body is not valid JSON"))
    }
    return Effect.failCause(cause)
  }))

/**
 * The API with its handlers; needs the users repository, the dashboard and a query cache. The
 * dashboard's figures are cached for `dashboardCache` (default 1 minute; zero: not cached).
 */
export const layer = (options: { readonly dashboardCache?: Duration.DurationInput | undefined } = {}) =>
  HttpApiBuilder.api(UsersApi).pipe(
    Layer.provide(UsersLive),
    Layer.provide(explainUnreadable),
    Layer.provide(DashboardLive(Duration.decode(options.dashboardCache ?? Duration.minutes(1))))
  )
