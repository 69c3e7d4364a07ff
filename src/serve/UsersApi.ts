/**
 * The HTTP API of `dbscope serve`, as a typed `HttpApi`: its endpoints, their schemas (the `User`
 * schema and friends) and their errors. The OpenAPI document is derived from it. Errors are JSON
 * `{ error, message }` with the status their class names (classes, not tagged errors: a `_tag` would
 * be on the wire); a message never holds SQL, a stack or a file path.
 */
import * as HttpApi from "@effect/platform/HttpApi"
import * as HttpApiEndpoint from "@effect/platform/HttpApiEndpoint"
import * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpApiSchema from "@effect/platform/HttpApiSchema"
import * as OpenApi from "@effect/platform/OpenApi"
import * as Schema from "effect/Schema"
import { AgeBand, AgeSummary, Domain } from "../users/Dashboard.js"
import { User } from "../users/User.js"

/** A parameter or body the API refuses (400). */
export class BadRequest extends Schema.Class<BadRequest>("BadRequest")({
  error: Schema.Literal("bad_request"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 400 })) {}

/** No such user (404). */
export class NotFound extends Schema.Class<NotFound>("NotFound")({
  error: Schema.Literal("not_found"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 404 })) {}

/** The e-mail belongs to another user (409). */
export class Conflict extends Schema.Class<Conflict>("Conflict")({
  error: Schema.Literal("conflict"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 409 })) {}

/** The database did not answer in time, or failed (503). */
export class Unavailable extends Schema.Class<Unavailable>("Unavailable")({
  error: Schema.Literal("unavailable"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 503 })) {}

/** No API token was sent, and this server needs one (401; answered before the API runs). */
export class Unauthorized extends Schema.Class<Unauthorized>("Unauthorized")({
  error: Schema.Literal("unauthorized"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 401 })) {}

/** The token is wrong, or the request came from another site's page or host name (403). */
export class Forbidden extends Schema.Class<Forbidden>("Forbidden")({
  error: Schema.Literal("forbidden"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 403 })) {}

/** The request body is over the limit (413). */
export class PayloadTooLarge extends Schema.Class<PayloadTooLarge>("PayloadTooLarge")({
  error: Schema.Literal("payload_too_large"),
  message: Schema.String
}, HttpApiSchema.annotations({ status: 413 })) {}

export const badRequest = (message: string) => new BadRequest({ error: "bad_request", message })
export const notFound = (message: string) => new NotFound({ error: "not_found", message })
export const conflict = (message: string) => new Conflict({ error: "conflict", message })
export const unavailable = (message: string) => new Unavailable({ error: "unavailable", message })

/** One keyset page: the users, and the cursor of the next page (`null` after the last). */
export const UsersPage = Schema.Struct({
  users: Schema.Array(User),
  next: Schema.NullOr(Schema.String)
})

/** The query of a page; numbers arrive as text and are checked by the handler (clear 400s). */
export const PageParams = Schema.Struct({
  olderThan: Schema.optional(Schema.String),
  limit: Schema.optional(Schema.String),
  after: Schema.optional(Schema.String)
})

/** A user to create (the `NewUser` rules are checked by the repository: 400 with its message). */
export const NewUserBody = Schema.Struct({ name: Schema.String, email: Schema.String, age: Schema.Number })

export const EmailBody = Schema.Struct({ email: Schema.String })

/** The dashboard's figures (the rows' decoded side: counts are numbers). */
export const DashboardBody = Schema.Struct({
  ageBands: Schema.Array(Schema.typeSchema(AgeBand)),
  summary: Schema.typeSchema(AgeSummary),
  usersOver40: Schema.Number,
  topDomains: Schema.Array(Schema.typeSchema(Domain)),
  millis: Schema.Number
})

export const Health = Schema.Struct({ status: Schema.Literal("ok"), users: Schema.Number })

const userId = HttpApiSchema.param("id", Schema.NumberFromString)

export class UsersGroup extends HttpApiGroup.make("users")
  .add(
    HttpApiEndpoint.get("list", "/users")
      .setUrlParams(PageParams)
      .addSuccess(UsersPage)
  )
  .add(
    HttpApiEndpoint.get("export", "/users/export.ndjson")
      .setUrlParams(Schema.Struct({ olderThan: Schema.optional(Schema.String) }))
      .addSuccess(HttpApiSchema.Text({ contentType: "application/x-ndjson" }))
  )
  .add(
    HttpApiEndpoint.get("byId")`/users/${userId}`
      .addSuccess(User)
  )
  .add(
    HttpApiEndpoint.post("create", "/users")
      .setPayload(NewUserBody)
      .addSuccess(User, { status: 201 })
  )
  .add(
    HttpApiEndpoint.patch("changeEmail")`/users/${userId}/email`
      .setPayload(EmailBody)
      .addSuccess(User)
  )
  .prefix("/api")
{}

export class DashboardGroup extends HttpApiGroup.make("dashboard")
  .add(HttpApiEndpoint.get("dashboard", "/dashboard").addSuccess(DashboardBody))
  .add(HttpApiEndpoint.get("health", "/health").addSuccess(Health))
  .prefix("/api")
{}

/** The whole API. */
export class UsersApi extends HttpApi.make("dbscope")
  .add(UsersGroup)
  .add(DashboardGroup)
  .addError(BadRequest)
  .addError(NotFound)
  .addError(Conflict)
  .addError(Unavailable)
  .addError(Unauthorized)
  .addError(Forbidden)
  .addError(PayloadTooLarge)
  .annotate(OpenApi.Title, "dbscope")
  .annotate(
    OpenApi.Description,
    "The users database over HTTP: pages, lookups, writes, a streamed export, the dashboard"
  )
{}
