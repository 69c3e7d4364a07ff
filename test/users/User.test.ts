import { assert, describe, it } from "@effect/vitest"
import * as Schema from "effect/Schema"
import { isNewUser, isUser, NewUser, User } from "../../src/users/User.js"

const valid = { name: "Ada Lovelace", email: "ada@example.com", age: 36 }
const candidates: ReadonlyArray<unknown> = [
  valid,
  { ...valid, age: 0 },
  { ...valid, age: 150 },
  { ...valid, age: 151 },
  { ...valid, age: -1 },
  { ...valid, age: 1.5 },
  { ...valid, age: Number.NaN },
  { ...valid, age: Number.POSITIVE_INFINITY },
  { ...valid, age: 2 ** 53 },
  { ...valid, age: "36" },
  { ...valid, name: "" },
  { ...valid, name: "   " },
  { ...valid, name: "a".repeat(200) },
  { ...valid, name: "a".repeat(201) },
  { ...valid, name: "nul\u0000byte" },
  { ...valid, name: "Zoë Ñúñez 李" },
  { ...valid, email: "no-at-sign" },
  { ...valid, email: "a@b" },
  { ...valid, email: "a b@example.com" },
  { ...valid, email: `${"x".repeat(250)}@e.io` },
  { ...valid, email: 42 },
  { name: "Missing age", email: "m@example.com" },
  null,
  "a string",
  []
]

describe("User", () => {
  it("the fast NewUser check agrees with the Schema on every case", () => {
    const is = Schema.is(NewUser)
    for (const candidate of candidates) {
      assert.strictEqual(isNewUser(candidate), is(candidate), JSON.stringify(candidate))
    }
    assert.isTrue(isNewUser(valid))
  })

  it("the fast stored-row check agrees with the Schema on every case", () => {
    const is = Schema.is(User)
    const rows = candidates.flatMap((candidate) =>
      typeof candidate === "object" && candidate !== null && !Array.isArray(candidate)
        ? [
          { user_id: 1, created_at: "2026-01-01 00:00:00", ...candidate },
          { user_id: 1.5, created_at: "2026-01-01 00:00:00", ...candidate },
          { user_id: 1, created_at: null, ...candidate }
        ]
        : [candidate]
    )
    for (const row of rows) assert.strictEqual(isUser(row), is(row), JSON.stringify(row))
  })
})
