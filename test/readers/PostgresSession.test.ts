/**
 * Every PostgreSQL connection's session settings go into its URL's `options`, after the user's:
 * pg lets a URL's `options` replace the client's own, which dropped UTC and the ISO date style
 * (and a reader worker's read-only session) when a URL carried `options` of its own.
 */
import { assert, describe, it } from "@effect/vitest"
import { sessionUrl } from "../../src/readers/PostgresSession.js"

const optionsOf = (url: string) => new URL(url).searchParams.get("options")

describe("PostgresSession", () => {
  it("adds dbscope's settings, and any extra ones, to a URL without options", () => {
    const url = sessionUrl("postgres://u:secret@db:5432/app", "-c default_transaction_read_only=on")
    assert.strictEqual(optionsOf(url), "-c TimeZone=UTC -c DateStyle=ISO,MDY -c default_transaction_read_only=on")
    assert.include(url, "u:secret@db:5432/app")
  })

  it("keeps the user's options, before dbscope's (the last setting of a name wins)", () => {
    const url = sessionUrl("postgres://u@db/app?options=-c%20search_path%3Dreports&sslmode=disable")
    assert.strictEqual(optionsOf(url), "-c search_path=reports -c TimeZone=UTC -c DateStyle=ISO,MDY")
    assert.strictEqual(new URL(url).searchParams.get("sslmode"), "disable")
  })
})
