/** Which engine a KEEPWARM_DB value names: a postgres:// URL, else a SQLite file path. */
export type Engine = "sqlite" | "postgres";

export function engineOf(location: string): Engine {
  return /^postgres(ql)?:\/\//i.test(location) ? "postgres" : "sqlite";
}

/** The location for messages and logs: a URL's password is never shown. */
export function maskLocation(location: string): string {
  if (engineOf(location) !== "postgres") return location;
  try {
    const url = new URL(location);
    if (url.password !== "") url.password = "***";
    return url.toString();
  } catch {
    return location.replace(/:\/\/([^:/@]*):[^@]*@/, "://$1:***@");
  }
}
