/**
 * The session every dbscope connection to PostgreSQL opens, pool and reader workers alike: times
 * in UTC, written the ISO way, as `PostgresTypes`' parsers and `UserRepo`'s `created_at` expect.
 * No pg here: the settings module loads without the driver.
 */

/** The settings. */
const sessionSettings = "-c TimeZone=UTC -c DateStyle=ISO,MDY"

/**
 * `url` with dbscope's session settings (and `extra` ones) added to its `options` parameter. pg
 * lets a URL's `options` replace the client's own: so they go into the URL, after the user's.
 */
export const sessionUrl = (url: string, extra = ""): string => {
  const parsed = new URL(url)
  const theirs = parsed.searchParams.get("options") ?? ""
  parsed.searchParams.set("options", [theirs, sessionSettings, extra].filter((part) => part !== "").join(" "))
  return parsed.href
}
