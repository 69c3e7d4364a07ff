/**
 * Who may call `dbscope serve`. With no API token the server listens on this machine only, and it
 * also refuses requests whose `Host` is not a loopback name (a web page cannot reach it by DNS
 * rebinding). With a token (`DBSCOPE_API_TOKEN`), writes always need it, reads need it unless
 * reads are public, and it is compared in constant time. Writes from a browser must come from the
 * server's own origin (or one allowed for CORS): another site's page cannot post through a user's
 * browser. The page, its assets and the API's description hold no data and are always public.
 */
import * as HttpMiddleware from "@effect/platform/HttpMiddleware"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { createHash, timingSafeEqual } from "node:crypto"

/** What `dbscope serve` was started with. */
export interface AccessPolicy {
  /** The API token; none means a server on this machine only, open to its users. */
  readonly token: Option.Option<Redacted.Redacted<string>>
  /** Reads without the token (writes still need it). */
  readonly publicReads: boolean
  /** Origins (`https://app.example.com`) whose pages may call the API: CORS, and writes. */
  readonly corsOrigins: ReadonlyArray<string>
}

/** The part of a request the rules look at. */
export interface Knock {
  readonly method: string
  readonly path: string
  readonly headers: Readonly<Record<string, string | undefined>>
}

export type Verdict =
  | { readonly _tag: "Allowed" }
  | {
    readonly _tag: "Refused"
    readonly status: 401 | 403
    readonly error: "unauthorized" | "forbidden"
    readonly message: string
  }

const allowed: Verdict = { _tag: "Allowed" }
const unauthorized = (message: string): Verdict => ({ _tag: "Refused", status: 401, error: "unauthorized", message })
const forbidden = (message: string): Verdict => ({ _tag: "Refused", status: 403, error: "forbidden", message })

/** The shortest token accepted: a token is a secret, not a password to remember. */
export const minTokenLength = 16

/** Whether `host` (an address to listen on, or a `Host` header's name) is this machine only. */
export const isLoopback = (host: string) => {
  const name = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host
  return name === "localhost" || name === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)
}

/** An origin as CORS spells it: scheme, host and optional port, nothing else. */
export const isOrigin = (text: string) => /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/.test(text)

/** Paths that serve no data: the page, its assets, the API's description and docs. */
const isPublicPath = (path: string) =>
  path === "/" || path === "/favicon.ico" || path.startsWith("/assets/") || path === "/api/openapi.json" ||
  path === "/api/docs" || path.startsWith("/api/docs/")

const isRead = (method: string) => method === "GET" || method === "HEAD" || method === "OPTIONS"

/** The host name of a `Host` header (`127.0.0.1:8080` → `127.0.0.1`, `[::1]:80` → `[::1]`). */
const hostName = (host: string) =>
  host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0] ?? host

/** Same length digests, so that the comparison takes as long whatever the token given. */
const digest = (text: string) => createHash("sha256").update(text).digest()

/** Whether `given` is the token, in time that does not depend on where they differ. */
export const tokenMatches = (given: string, token: Redacted.Redacted<string>) =>
  timingSafeEqual(digest(given), digest(Redacted.value(token)))

/** The token of an `Authorization: Bearer <token>` header, if that is what it holds. */
const bearer = (authorization: string | undefined) => {
  const match = authorization === undefined ? null : /^Bearer +(\S+) *$/i.exec(authorization)
  return match === null ? undefined : match[1]
}

/**
 * Whether a browser sent the request from a page of another site. Requests without `Origin`
 * (command-line clients, same-origin GETs) are not cross-site.
 */
const crossSite = (policy: AccessPolicy, knock: Knock) => {
  const origin = knock.headers["origin"]
  if (origin === undefined) return knock.headers["sec-fetch-site"] === "cross-site"
  if (policy.corsOrigins.includes(origin)) return false
  const host = knock.headers["host"]
  return host === undefined || (origin !== `http://${host}` && origin !== `https://${host}`)
}

/** The rules, as a function of the request: allowed, or refused with the status and why. */
export const judge = (policy: AccessPolicy, knock: Knock): Verdict => {
  if (Option.isNone(policy.token)) {
    const host = knock.headers["host"]
    if (host === undefined || !isLoopback(hostName(host))) {
      return forbidden("this server answers to localhost only")
    }
  }
  if (!isRead(knock.method) && crossSite(policy, knock)) {
    return forbidden("writes are accepted from this server's own pages only")
  }
  // A CORS preflight never carries credentials; the CORS middleware answers it (or nothing does).
  if (Option.isNone(policy.token) || isPublicPath(knock.path) || knock.method === "OPTIONS") return allowed
  if (isRead(knock.method) && policy.publicReads) return allowed
  const given = bearer(knock.headers["authorization"])
  if (given === undefined) {
    return unauthorized(
      isRead(knock.method) ?
        "this server needs an API token: send Authorization: Bearer <token>" :
        "writes need the API token: send Authorization: Bearer <token>"
    )
  }
  return tokenMatches(given, policy.token.value) ? allowed : forbidden("the API token is not valid")
}

/** The rules as a middleware: a refused request gets its status and `{ error, message }`, nothing else runs. */
export const middleware = (policy: AccessPolicy) =>
  HttpMiddleware.make((app) =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
      const path = request.url.split("?")[0] ?? "/"
      const verdict = judge(policy, { method: request.method, path, headers: request.headers })
      if (verdict._tag === "Allowed") return app
      return Effect.succeed(HttpServerResponse.unsafeJson(
        { error: verdict.error, message: verdict.message },
        {
          status: verdict.status,
          headers: verdict.status === 401 ? { "www-authenticate": "Bearer realm=\"dbscope\"" } : {}
        }
      ))
    })
  )
