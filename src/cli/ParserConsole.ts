/**
 * The console @effect/cli prints through while it parses the command line. Its help is ANSI-styled
 * text whatever stdout is, so when colours are off (stdout not a terminal, or `NO_COLOR` set) the
 * codes are taken out; and its own report of a parse error (the message, then a blank line) is
 * dropped, because dbscope reports that error itself, as one `dbscope: <message>` line. Commands
 * print through the console they were given (`restore`), untouched.
 */
import * as HelpDoc from "@effect/cli/HelpDoc"
import type * as ValidationError from "@effect/cli/ValidationError"
import type * as Console from "effect/Console"
import * as Effect from "effect/Effect"

/** Select Graphic Rendition sequences: the only escapes @effect/printer-ansi writes. */
const ansi = /\u001b\[[0-9;]*m/g

/** `text` without ANSI styling. */
export const plain = (text: string): string => text.replace(ansi, "")

/** The console each parser console stands for, for `restore`. */
const originals = new WeakMap<Console.Console, Console.Console>()

/** The console to parse with: `original` with the parser's error reports dropped, and plain text unless `colour`. */
export const make = (original: Console.Console, colour: boolean): Console.Console => {
  const parsing: Console.Console = {
    ...original,
    log: (...values) => original.log(...(colour ? values : values.map((value) => plain(String(value))))),
    error: () => Effect.void
  }
  originals.set(parsing, original)
  return parsing
}

/** Runs a command's handler with the console dbscope was given, not the parser's. */
export const restore = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.consoleWith((current) => Effect.withConsole(effect, originals.get(current) ?? current))

/** Why a command line was refused, as one line of plain text (the parser's help doc may hold several). */
export const oneLine = (error: ValidationError.ValidationError): string => {
  const text = "error" in error ? plain(HelpDoc.toAnsiText(error.error)).replace(/\s+/g, " ").trim() : ""
  if (text !== "") return text
  // The parser leaves some errors without a message (an option given twice with different values).
  return error._tag === "MultipleValuesDetected"
    ? `an option was given more than once (${error.values.join(", ")})`
    : "the command line could not be read; see dbscope --help"
}
