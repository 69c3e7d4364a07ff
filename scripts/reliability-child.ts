/**
 * Child processes for the reliability tests (`test/Reliability.test.ts`), run as
 * `node dist/scripts/reliability-child.js <mode> <database> <count> [tag]`:
 * - `insert`: inserts `count` users one transaction each (e-mails `<tag>-<i>@writers.invalid`),
 *   retrying a locked database the way a user of dbscope would (`retryOnFailure`);
 * - `import`: adds `count` synthetic users in one transaction, printing `rows N` after each batch
 *   (the test kills it once it has seen the number of rows it picked).
 * It prints `started` when its connection is open, and exits 0 only if everything it did succeeded.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as SqliteDatabase from "../src/client/SqliteDatabase.js"
import { retryOnFailure } from "../src/combinators/RetryOnFailure.js"
import * as Progress from "../src/users/Progress.js"
import { addSynthetic } from "../src/users/SyntheticUsers.js"
import { UserRepo } from "../src/users/UserRepo.js"

const [mode, filename = "", countText = "0", tag = "w"] = process.argv.slice(2)
const count = Number(countText)

/** The import's progress on stdout, one line per batch, for the test to time its kill by. */
const reportRows = Layer.succeed(Progress.Progress, {
  start: () =>
    Effect.sync(() => {
      let rows = 0
      return {
        advance: (amount: number) => Effect.sync(() => void process.stdout.write(`rows ${(rows += amount)}\n`)),
        status: () => Effect.void
      }
    })
})

const insertAll = Effect.gen(function*() {
  const repo = yield* UserRepo
  for (let i = 0; i < count; i++) {
    yield* repo.insert({ name: `Writer ${tag} ${i}`, email: `${tag}-${i}@writers.invalid`, age: i % 150 }).pipe(
      retryOnFailure({ retries: 50, delay: "5 millis", maxDelay: "200 millis" })
    )
  }
})

const program = Effect.gen(function*() {
  process.stdout.write("started\n")
  if (mode === "insert") return yield* insertAll
  if (mode === "import") return yield* addSynthetic(count)
  return yield* Effect.dieMessage(`unknown mode ${mode}`)
}).pipe(
  Effect.provide(UserRepo.Default.pipe(Layer.provideMerge(SqliteDatabase.layer({ filename, create: false })))),
  Effect.provide(Layer.mergeAll(reportRows, NodeContext.layer)),
  Logger.withMinimumLogLevel(LogLevel.Warning)
)

Effect.runPromiseExit(program).then((exit) => {
  if (exit._tag === "Failure") {
    process.stderr.write(`reliability-child: ${String(exit.cause)}\n`)
    process.exitCode = 1
  }
})
