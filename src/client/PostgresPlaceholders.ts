/**
 * `?` placeholders on PostgreSQL. dbscope's own statements and every user of `executeQuery` and
 * `dbscope query` write `?`, which SQLite and MySQL take, while PostgreSQL numbers its parameters
 * (`$1`, `$2`). A text is renumbered only when it has no `$n` of its own and exactly as many `?`
 * outside strings, quoted names and comments as it is given parameters: jsonb's `?` operators
 * (with no parameter for them) stay as they are. Texts are renumbered once and remembered.
 */

/** Texts already read: how many `?` placeholders each has (-1: it numbers its own) and the renumbered text. */
const remembered = new Map<string, { readonly count: number; readonly numbered: string }>()
const rememberAtMost = 2000

/** Where each `?` placeholder is, or `undefined` when the text numbers its own (`$1`). */
const placeholderPositions = (sql: string): ReadonlyArray<number> | undefined => {
  const positions: Array<number> = []
  let i = 0
  while (i < sql.length) {
    const c = sql.charAt(i)
    const next = sql.charAt(i + 1)
    if (/[A-Za-z0-9_\u0080-\uffff]/.test(c)) {
      // A name or a number: a `$` inside one (`foo$bar`) quotes nothing.
      while (i < sql.length && /[A-Za-z0-9_$\u0080-\uffff]/.test(sql.charAt(i))) i++
    } else if (c === "-" && next === "-") {
      const end = sql.indexOf("\n", i)
      i = end === -1 ? sql.length : end + 1
    } else if (c === "/" && next === "*") {
      let depth = 0
      while (i < sql.length) {
        if (sql.startsWith("/*", i)) {
          depth++
          i += 2
        } else if (sql.startsWith("*/", i)) {
          i += 2
          if (--depth === 0) break
        } else {
          i++
        }
      }
    } else if (c === "'" || c === "\"") {
      // `E'...'` escapes with a backslash; elsewhere a doubled quote is the only escape.
      const backslash = c === "'" && /[Ee]/.test(sql.charAt(i - 1)) && !/[A-Za-z0-9_]/.test(sql.charAt(i - 2))
      i++
      while (i < sql.length) {
        const d = sql.charAt(i)
        if (backslash && d === "\\") i += 2
        else if (d === c && sql.charAt(i + 1) === c) i += 2
        else if (d === c) break
        else i++
      }
      i++
    } else if (c === "$") {
      const dollarQuote = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64))
      if (dollarQuote !== null) {
        const end = sql.indexOf(dollarQuote[0], i + dollarQuote[0].length)
        i = end === -1 ? sql.length : end + dollarQuote[0].length
      } else if (/\d/.test(next)) {
        return undefined
      } else {
        i++
      }
    } else if (c === "?") {
      positions.push(i)
      i++
    } else {
      i++
    }
  }
  return positions
}

const renumber = (sql: string): { readonly count: number; readonly numbered: string } => {
  const positions = placeholderPositions(sql)
  if (positions === undefined) return { count: -1, numbered: sql }
  let numbered = ""
  let from = 0
  positions.forEach((at, index) => {
    numbered += `${sql.slice(from, at)}$${index + 1}`
    from = at + 1
  })
  return { count: positions.length, numbered: numbered + sql.slice(from) }
}

/** `sql` with its `?` placeholders numbered (`$1`...) when it is given `count` parameters for them. */
export const numberedPlaceholders = (sql: string, count: number): string => {
  if (count === 0 || !sql.includes("?")) return sql
  let known = remembered.get(sql)
  if (known === undefined) {
    known = renumber(sql)
    if (remembered.size >= rememberAtMost) remembered.clear()
    remembered.set(sql, known)
  }
  return known.count === count ? known.numbered : sql
}
