const DAY_MS = 86_400_000;
const BUCKET_MS = 15 * 60_000;

/**
 * Calendar-day arithmetic in a time zone. "47 days ago" means 47 local midnights
 * have passed, which is what a rep reading the nudge expects.
 * Offsets are cached per 15-minute bucket: a million lookups would otherwise cost
 * a million Intl calls.
 */
export class Calendar {
  readonly timeZone: string;
  private readonly format: Intl.DateTimeFormat | null;
  private readonly offsets = new Map<number, number>();

  constructor(timeZone = "UTC") {
    this.timeZone = timeZone;
    this.format =
      timeZone === "UTC"
        ? null
        : new Intl.DateTimeFormat("en-US", {
            timeZone,
            hourCycle: "h23",
            year: "numeric",
            month: "2-digit",
            day: "2-digit",
            hour: "2-digit",
            minute: "2-digit",
            second: "2-digit",
          });
  }

  /** Throws RangeError for an unknown IANA zone. */
  static assertValidZone(timeZone: string): void {
    new Intl.DateTimeFormat("en-US", { timeZone });
  }

  offsetMs(ms: number): number {
    if (this.format === null) return 0;
    const bucket = Math.floor(ms / BUCKET_MS);
    const cached = this.offsets.get(bucket);
    if (cached !== undefined) return cached;
    const parts: Record<string, number> = {};
    for (const part of this.format.formatToParts(new Date(bucket * BUCKET_MS))) {
      if (part.type !== "literal") parts[part.type] = Number(part.value);
    }
    const asUtc = Date.UTC(parts.year ?? 1970, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0);
    const offset = asUtc - bucket * BUCKET_MS;
    this.offsets.set(bucket, offset);
    return offset;
  }

  /** Local day number (days since 1970-01-01 in this zone). */
  dayNumber(ms: number): number {
    return Math.floor((ms + this.offsetMs(ms)) / DAY_MS);
  }

  daysBetween(fromMs: number, toMs: number): number {
    return this.dayNumber(toMs) - this.dayNumber(fromMs);
  }

  /** The UTC instant of local midnight starting the given local day number. */
  startOfDay(dayNumber: number): number {
    const guess = dayNumber * DAY_MS;
    return guess - this.offsetMs(guess - this.offsetMs(guess));
  }

  /**
   * The same wall-clock time `days` calendar days later in this zone (a snooze's end,
   * a cooldown's): across a DST change that is 23 or 25 hours per day crossed, not 24.
   * A wall-clock time the change skips lands on the instant just after the gap.
   */
  addDays(ms: number, days: number): number {
    const local = ms + this.offsetMs(ms) + days * DAY_MS;
    const guess = local - this.offsetMs(local - this.offsetMs(ms));
    return local - this.offsetMs(guess);
  }

  /** YYYY-MM-DD of the instant in this zone. */
  isoDate(ms: number): string {
    return new Date(this.dayNumber(ms) * DAY_MS).toISOString().slice(0, 10);
  }
}
