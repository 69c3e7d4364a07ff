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
import * as Layer from "effect/Layer"
import { createServer } from "node:http"
import * as CacheQuery from "../combinators/CacheQuery.js"
import * as UsersHandlers from "./UsersHandlers.js"

/** Where the server listens. */
export interface ServeOptions {
  readonly port: number
  readonly host: string
}

/** The API, its document and docs, on `host:port`; the server closes with the layer's scope. */
export const layer = (options: ServeOptions) =>
  HttpApiBuilder.serve().pipe(
    Layer.provide(HttpApiScalar.layer({ path: "/api/docs", scalar: { withDefaultFonts: false } })),
    Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/api/openapi.json" })),
    Layer.provide(UsersHandlers.layer),
    Layer.provide(CacheQuery.layer()),
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: options.port, host: options.host }))
  )

export type Requirements = Layer.Layer.Context<ReturnType<typeof layer>> | Reactivity.Reactivity
