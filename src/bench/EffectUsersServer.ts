/**
 * The `serve` suite's second baseline: the framework `dbscope serve` is built on, bare —
 * `@effect/platform`'s `HttpRouter` on `@effect/platform-node`'s `NodeHttpServer`, no `HttpApi` and
 * no middleware but what `HttpServer.serve` adds by default (its span, failures turned into
 * responses) — answering `GET /api/users/{id}` as `RawUsersServer` does: a prepared better-sqlite3
 * statement on one connection with dbscope's pragmas, the row as JSON, 404 `{ error, message }` when
 * there is none. Between this server and `dbscope serve` lies what dbscope adds (the typed API, its
 * middleware, the repository and its reader pool); between it and `RawUsersServer`, the framework.
 * `node EffectUsersServer.js <db file> [port]` prints the same first line as `dbscope serve`
 * (`... listening on http://127.0.0.1:PORT`) and runs until it is stopped (SIGTERM or SIGINT).
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import Sqlite from "better-sqlite3"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { createServer } from "node:http"

const [file, portText = "0"] = process.argv.slice(2)
if (file === undefined) {
  process.stderr.write("usage: EffectUsersServer.js <db file> [port]\n")
  process.exit(2)
}

/** The user with this id as the driver returns it (the row object), or undefined. */
class UserById extends Context.Tag("dbscope/bench/UserById")<UserById, (id: number) => unknown>() {}

/** One connection to `file` with dbscope's pragmas, closed with the layer, and its prepared lookup. */
const UserByIdLive = (file: string) =>
  Layer.scoped(
    UserById,
    Effect.gen(function*() {
      const db = yield* Effect.acquireRelease(
        Effect.sync(() => {
          const db = new Sqlite(file)
          db.pragma("journal_mode = WAL")
          db.pragma("synchronous = NORMAL")
          db.pragma("foreign_keys = ON")
          return db
        }),
        (db) => Effect.sync(() => db.close())
      )
      const byId = db.prepare("SELECT user_id, name, email, age, created_at FROM users WHERE user_id = ?")
      return (id: number) => byId.get(id)
    })
  )

const notFound = (message: string) => HttpServerResponse.unsafeJson({ error: "not_found", message }, { status: 404 })

const router = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/api/users/:id",
    Effect.gen(function*() {
      const { id: text = "" } = yield* HttpRouter.params
      const id = Number(text)
      if (!/^\d+$/.test(text) || !Number.isSafeInteger(id) || id < 1) return notFound("no such path")
      const user = (yield* UserById)(id)
      return user === undefined ? notFound(`no user with id ${id}`) : HttpServerResponse.unsafeJson(user)
    })
  )
)

/** Serves the router, then says where (the handler is attached before the line is printed). */
const main = Effect.gen(function*() {
  yield* HttpServer.serveEffect(router)
  yield* HttpServer.addressFormattedWith((address) => Console.log(`bare Effect users server: listening on ${address}`))
  return yield* Effect.never
})

main.pipe(
  Effect.scoped,
  Effect.provide(UserByIdLive(file)),
  Effect.provide(NodeHttpServer.layer(createServer, { port: Number(portText), host: "127.0.0.1" })),
  NodeRuntime.runMain
)
