/**
 * A TCP port on loopback that accepts connections and never says a word (no MySQL greeting): a
 * stalled server, to prove that connecting gives up in time. Closed, with its sockets, with the scope.
 */
import * as Effect from "effect/Effect"
import * as net from "node:net"

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
