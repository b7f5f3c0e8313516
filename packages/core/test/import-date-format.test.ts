import { describe, expect, it } from "vitest";
import { readDate } from "../src/import/date-format";

describe("--date-format: day/month dates read as the file says, never guessed", () => {
  it("reads day-first and month-first dates, with times and AM/PM, as ISO text", () => {
    expect(readDate("20/11/2026", "day-first")).toEqual({ iso: "2026-11-20" });
    expect(readDate("5.10.2026 09:00", "day-first")).toEqual({ iso: "2026-10-05T09:00:00" });
    expect(readDate("03-04-2026", "day-first")).toEqual({ iso: "2026-04-03" });
    expect(readDate("03/04/2026", "month-first")).toEqual({ iso: "2026-03-04" });
    expect(readDate("2/3/2026 4:05 PM", "month-first")).toEqual({ iso: "2026-02-03T16:05:00" });
    expect(readDate("2/3/2026 12:30:15 am", "month-first")).toEqual({ iso: "2026-02-03T00:30:15" });
  });

  it("leaves ISO dates and other text to the ISO parser", () => {
    for (const format of ["iso", "day-first", "month-first"] as const) {
      expect(readDate("2026-11-20T09:30:00Z", format)).toEqual({ iso: "2026-11-20T09:30:00Z" });
      expect(readDate("", format)).toEqual({ iso: "" });
    }
  });

  it("refuses a day/month date without --date-format, naming the option, and ambiguous ones as ambiguous", () => {
    expect(readDate("03/04/2026", "iso")).toEqual({
      error: '"03/04/2026" is not an ISO 8601 date (YYYY-MM-DD); it could be day-first or month-first: pass --date-format day-first or month-first',
    });
    expect(readDate("20/11/2026", "iso")).toEqual({
      error: '"20/11/2026" is not an ISO 8601 date (YYYY-MM-DD); it looks day-first: pass --date-format day-first',
    });
    expect(readDate("11/20/2026", "iso")).toEqual({
      error: '"11/20/2026" is not an ISO 8601 date (YYYY-MM-DD); it looks month-first: pass --date-format month-first',
    });
  });

  it("refuses a date that contradicts the format, a two-digit year, a day that does not exist and a bad time", () => {
    expect(readDate("11/20/2026", "day-first")).toEqual({ error: '"11/20/2026" is not a day-first date (month 20); is the file month-first?' });
    expect(readDate("20/11/2026", "month-first")).toEqual({ error: '"20/11/2026" is not a month-first date (month 20); is the file day-first?' });
    expect(readDate("20/11/26", "day-first")).toEqual({ error: '"20/11/26" has a two-digit year; write the year in full' });
    expect(readDate("31/02/2026", "day-first")).toEqual({ error: '"31/02/2026" is not a real day-first date' });
    expect(readDate("01/02/2026 25:00", "day-first")).toEqual({ error: '"01/02/2026 25:00" has no such time of day' });
    expect(readDate("01/02/2026 13:00 PM", "day-first")).toEqual({ error: '"01/02/2026 13:00 PM" has hour 13 with PM' });
  });
});
