import { countIn, lastAt, latest } from "../aggregates";
import { defineFact, type FactDefinition } from "../definition";
import { days, plural } from "./words";

const asTime = (value: unknown): number | null => (typeof value === "number" ? value : null);

export const daysSinceLastTouch = defineFact({
  name: "daysSinceLastTouch",
  type: "number",
  nullable: false,
  unit: "days",
  description: "Calendar days since the last logged touch; counts from `since` (or the import date) when the customer was never touched.",
  example: "47",
  aggregates: { last: lastAt("touches") },
  compute: ({ last }, { daysSince, start }) => daysSince(asTime(last) ?? start),
  explain: {
    reads: ["neverTouched", "lastTouchKind"],
    describe: (f) =>
      f.neverTouched === true
        ? `Never touched (customer for ${days(Number(f.daysSinceLastTouch))})`
        : `Last touch${f.lastTouchKind ? ` (${f.lastTouchKind})` : ""} ${days(Number(f.daysSinceLastTouch))} ago`,
  },
});

export const neverTouched = defineFact({
  name: "neverTouched",
  type: "boolean",
  nullable: false,
  description: "True when no touch was ever logged for the customer.",
  example: "false",
  aggregates: { last: lastAt("touches") },
  compute: ({ last }) => last === null,
  explain: { qualifier: true, describe: (f) => (f.neverTouched === true ? "Never touched" : "Touched before") },
});

export const lastTouchKind = defineFact({
  name: "lastTouchKind",
  type: "string",
  nullable: true,
  description:
    "Kind of the latest touch: call, email, meeting, visit, chat or other; null when never touched. Two touches at the same instant: the one logged last.",
  example: '"call"',
  aggregates: { kind: latest("touches") },
  compute: ({ kind }) => (typeof kind === "string" ? kind : null),
  explain: { qualifier: true, describe: (f) => (f.lastTouchKind === null ? "Never touched" : `Last touch was a ${String(f.lastTouchKind)}`) },
});

export const touchesLast30Days = defineFact({
  name: "touchesLast30Days",
  type: "number",
  nullable: false,
  unit: "touches",
  description: "Touches on the last 30 calendar days: today and the 29 days before.",
  example: "3",
  aggregates: { n: countIn("touches", [0, 29]) },
  compute: ({ n }) => Number(n ?? 0),
  explain: { describe: (f) => `${plural(Number(f.touchesLast30Days), "touch", "touches")} in the last 30 days` },
});

/**
 * Days since the last touch of some kinds. Like daysSinceLastTouch, a customer never
 * touched that way counts from `since`: "no meeting in 30 days" must catch the
 * customer nobody ever met, and a null would match no numeric comparison.
 */
function daysSinceKind(name: string, kinds: readonly string[], words: string, example: string): FactDefinition {
  return defineFact({
    name,
    type: "number",
    nullable: false,
    unit: "days",
    description: `Calendar days since the last ${words}; counts from \`since\` (or the import date) when there was none.`,
    example,
    aggregates: { last: lastAt("touches", kinds) },
    compute: ({ last }, { daysSince, start }) => daysSince(asTime(last) ?? start),
    explain: {
      describe: (f) => {
        const n = Number(f[name]);
        // The kind-specific "never" needs the aggregate; the phrase only has facts, so say what the number means.
        return `No ${words} for ${days(n)}`;
      },
    },
  });
}

export const daysSinceLastCall = daysSinceKind("daysSinceLastCall", ["call"], "call", "12");
export const daysSinceLastEmail = daysSinceKind("daysSinceLastEmail", ["email"], "email", "3");
export const daysSinceLastMeeting = daysSinceKind("daysSinceLastMeeting", ["meeting"], "meeting", "64");
export const daysSinceLastVisit = daysSinceKind("daysSinceLastVisit", ["visit"], "visit", "180");
export const daysSinceLastChat = daysSinceKind("daysSinceLastChat", ["chat"], "chat", "9");
export const daysSinceLastMeetingOrVisit = daysSinceKind("daysSinceLastMeetingOrVisit", ["meeting", "visit"], "meeting or visit", "64");

export const TOUCH_FACTS: readonly FactDefinition[] = [
  daysSinceLastTouch,
  neverTouched,
  lastTouchKind,
  touchesLast30Days,
  daysSinceLastCall,
  daysSinceLastEmail,
  daysSinceLastMeeting,
  daysSinceLastVisit,
  daysSinceLastChat,
  daysSinceLastMeetingOrVisit,
];
