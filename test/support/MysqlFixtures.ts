/**
 * Servers and users for the tests that prove connecting to MySQL never hangs: a silent port, and a
 * user with a password of its own on the test server (root has none there).
 */
import * as Effect from "effect/Effect"
import * as Mysql from "mysql2"
import * as crypto from "node:crypto"
import * as net from "node:net"
import { mysqlServer } from "./Backends.js"

/**
 * A TCP port on loopback that accepts connections and never says a word (no MySQL greeting): a
 * stalled server, to prove that connecting gives up in time. Closed, with its sockets, with the scope.
 */
export const silentServerPort = Effect.acquireRelease(
  Effect.async<{ server: net.Server; sockets: Set<net.Socket> }>((resume) => {
    const sockets = new Set<net.Socket>()
    const server = net.createServer((socket) => {
      sockets.add(socket)
      socket.on("error", () => undefined)
      socket.on("close", () => sockets.delete(socket))
    })
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed({ server, sockets })))
  }),
  ({ server, sockets }) =>
    Effect.async<void>((resume) => {
      server.close(() => resume(Effect.void))
      for (const socket of sockets) socket.destroy()
    })
).pipe(Effect.map(({ server }) => (server.address() as net.AddressInfo).port))

/** Runs one statement as the test server's administrator (creating and dropping test users). */
const admin = (sql: string) =>
  Effect.async<void, Error>((resume) => {
    const connection = Mysql.createConnection({ uri: mysqlServer })
    connection.query(sql, (error) => {
      connection.destroy()
      resume(error === null ? Effect.void : Effect.fail(error))
    })
  })

/** A new user (from any host) whose password is `password`, dropped with the scope; its name. */
export const userWithPassword = (password: string) =>
  Effect.acquireRelease(
    Effect.gen(function*() {
      const user = `dbscope_pw_${crypto.randomBytes(4).toString("hex")}`
      for (const host of ["%", "localhost"]) {
        yield* admin(`CREATE USER IF NOT EXISTS '${user}'@'${host}' IDENTIFIED BY '${password}'`)
      }
      return user
    }),
    (user) =>
      Effect.orDie(Effect.forEach(["%", "localhost"], (host) => admin(`DROP USER IF EXISTS '${user}'@'${host}'`)))
  )
