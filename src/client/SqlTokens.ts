/**
 * SQL text as the server reads it: words, quoted strings and identifiers, and symbols, with the
 * comments gone. Enough to tell which statement a text is and which keywords it uses, whatever its
 * case, comments and spacing, so that the read-only gate never judges a statement by text the server
 * skips, nor skips text the server runs.
 *
 * MySQL/MariaDB run the inside of `/*! ... *\/` and `/*M! ... *\/` comments (an optional version
 * number first): that inside is read as code. Where the server's reading depends on its settings
 * (a backslash escapes a quote unless `NO_BACKSLASH_ESCAPES`; `"` quotes an identifier under
 * `ANSI_QUOTES`), `mysqlReadings` gives every reading, and a caller accepts a text only when it
 * accepts all of them. When unsure whether text is a comment, it is read as code: stricter, never
 * laxer.
 */

/** One token: a word (upper-cased: keyword or bare name), something quoted, or one symbol character. */
export type Token =
  | { readonly _tag: "Word"; readonly text: string }
  | { readonly _tag: "Quoted"; readonly quote: string; readonly text: string }
  | { readonly _tag: "Symbol"; readonly text: string }

/** How the text is read. */
export type Lexing =
  | { readonly _tag: "Sqlite" }
  /** `E'...'` strings escape with `\`, `$tag$ ... $tag$` quotes, block comments nest, `$1` is a parameter. */
  | { readonly _tag: "Postgres" }
  | {
    readonly _tag: "Mysql"
    /** Whether `\` escapes the next character in '...' strings (the default `sql_mode`). */
    readonly backslashInSingle: boolean
    /** Whether `\` escapes the next character in "..." (a string by default; an identifier under ANSI_QUOTES). */
    readonly backslashInDouble: boolean
  }

const isWordChar = (c: string) => /[A-Za-z0-9_$]/.test(c) || c.charCodeAt(0) >= 0x80

/** Splits `sql` into tokens. */
export const tokens = (sql: string, lexing: Lexing): ReadonlyArray<Token> => {
  const mysql = lexing._tag === "Mysql"
  const postgres = lexing._tag === "Postgres"
  const out: Array<Token> = []
  let i = 0
  /** Executable comments (`/*!`) being read as code: their `*\/` is skipped. */
  let executable = 0
  const lineComment = () => {
    const end = sql.indexOf("\n", i)
    i = end === -1 ? sql.length : end + 1
  }
  while (i < sql.length) {
    const c = sql.charAt(i)
    const next = sql.charAt(i + 1)
    if (/\s/.test(c)) {
      i++
    } else if (c === "-" && next === "-" && (!mysql || i + 2 >= sql.length || sql.charCodeAt(i + 2) <= 32)) {
      // MySQL reads `--` as a comment only before a space or control character: `1--1` is 1 - -1.
      lineComment()
    } else if (mysql && c === "#") {
      lineComment()
    } else if (postgres && c === "/" && next === "*") {
      i = nestedCommentEnd(sql, i)
    } else if (postgres && c === "$") {
      const dollarQuote = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(sql.slice(i))
      if (dollarQuote !== null) {
        const start = i + dollarQuote[0].length
        const end = sql.indexOf(dollarQuote[0], start)
        out.push({ _tag: "Quoted", quote: "$", text: sql.slice(start, end === -1 ? sql.length : end) })
        i = end === -1 ? sql.length : end + dollarQuote[0].length
      } else {
        const parameter = /^\$\d*/.exec(sql.slice(i))![0]
        out.push({ _tag: "Symbol", text: parameter })
        i += parameter.length
      }
    } else if (c === "/" && next === "*") {
      const opener = mysql ? /^\/\*M?!\d*/.exec(sql.slice(i)) : null
      if (opener !== null) {
        executable++
        i += opener[0].length
      } else {
        const end = sql.indexOf("*/", i + 2)
        i = end === -1 ? sql.length : end + 2
      }
    } else if (c === "*" && next === "/" && executable > 0) {
      executable--
      i += 2
    } else if (
      c === "'" || c === "\"" || (!postgres && c === "`") || (lexing._tag === "Sqlite" && c === "[") ||
      (postgres && (c === "E" || c === "e") && next === "'" && !isWordChar(sql.charAt(i - 1) || " "))
    ) {
      // PostgreSQL's `E'...'`: the one kind of its strings where `\` escapes.
      const escapeString = postgres && c !== "'" && c !== "\""
      if (escapeString) i++
      const quote = sql.charAt(i)
      const close = quote === "[" ? "]" : quote
      const backslash = escapeString || lexing._tag === "Mysql" &&
          (quote === "'" ? lexing.backslashInSingle : quote === "\"" ? lexing.backslashInDouble : false)
      let text = ""
      i++
      while (i < sql.length) {
        const d = sql.charAt(i)
        if (backslash && d === "\\") {
          text += sql.slice(i, i + 2)
          i += 2
        } else if (d === close && close !== "]" && sql.charAt(i + 1) === close) {
          text += d
          i += 2
        } else if (d === close) {
          i++
          break
        } else {
          text += d
          i++
        }
      }
      out.push({ _tag: "Quoted", quote, text })
    } else if (isWordChar(c)) {
      let end = i
      while (end < sql.length && isWordChar(sql.charAt(end))) end++
      out.push({ _tag: "Word", text: sql.slice(i, end).toUpperCase() })
      i = end
    } else {
      out.push({ _tag: "Symbol", text: c })
      i++
    }
  }
  return out
}

/** Where a PostgreSQL block comment that opens at `start` ends: they nest (`/* a /* b *\/ c *\/`). */
const nestedCommentEnd = (sql: string, start: number): number => {
  let depth = 0
  let i = start
  while (i < sql.length) {
    if (sql.startsWith("/*", i)) {
      depth++
      i += 2
    } else if (sql.startsWith("*/", i)) {
      depth--
      i += 2
      if (depth === 0) return i
    } else {
      i++
    }
  }
  return sql.length
}

/** Every way a MySQL/MariaDB server may read `sql`, whatever its `sql_mode`. */
export const mysqlReadings = (sql: string): ReadonlyArray<ReadonlyArray<Token>> =>
  [true, false].flatMap((backslashInSingle) =>
    [true, false].map((backslashInDouble) => tokens(sql, { _tag: "Mysql", backslashInSingle, backslashInDouble }))
  )

/** Whether `token` is the word `word` (upper case). */
export const isWord = (token: Token | undefined, ...words: ReadonlyArray<string>): boolean =>
  token?._tag === "Word" && words.includes(token.text)

/** Whether `token` is the symbol `symbol`. */
export const isSymbol = (token: Token | undefined, symbol: string): boolean =>
  token?._tag === "Symbol" && token.text === symbol
