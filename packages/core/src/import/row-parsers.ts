import type { Calendar } from "@keepwarm/rules";
import { TOUCH_KINDS } from "@keepwarm/store";
import { z } from "zod";
import { parseIsoInstant } from "../dates";
import { readDate } from "./date-format";

/** zod at the CSV boundary: each cell is text; these turn it into stored values or a reason. */
const text = (max: number) => z.string().max(max, `longer than ${max} characters`);
const optionalText = (max: number) =>
  z
    .string()
    .max(max, `longer than ${max} characters`)
    .transform((v) => (v.trim() === "" ? null : v.trim()));
const lowerText = (max: number) => optionalText(max).transform((v) => (v === null ? null : v.toLowerCase()));

/** Why a date cell is refused; a day/month date gets the --date-format to pass (see readDate). */
function notIsoDate(label: string, value: string): string {
  const read = readDate(value, "iso");
  return "error" in read ? `${label}: ${read.error}` : `${label}: "${value}" is not an ISO 8601 date (YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM])`;
}

// A bare date is that calendar day in KEEPWARM_TZ (its local midnight), as `keepwarm touch` reads it.
const instant = (label: string, calendar: Calendar) =>
  z.string().transform((value, ctx) => {
    const parsed = parseIsoInstant(value, calendar);
    if (parsed === undefined) {
      ctx.addIssue({ code: "custom", message: notIsoDate(label, value) });
      return z.NEVER;
    }
    return parsed;
  });
const optionalInstant = (label: string, calendar: Calendar) =>
  z.string().transform((value, ctx) => {
    if (value.trim() === "") return null;
    const parsed = parseIsoInstant(value, calendar);
    if (parsed === undefined) {
      ctx.addIssue({ code: "custom", message: notIsoDate(label, value) });
      return z.NEVER;
    }
    return parsed;
  });

const required = (label: string, max = 200) =>
  text(max).transform((v, ctx) => {
    const trimmed = v.trim();
    if (trimmed === "") {
      ctx.addIssue({ code: "custom", message: `${label} is empty` });
      return z.NEVER;
    }
    return trimmed;
  });

const BOOLEAN_WORDS: Record<string, number> = { true: 1, yes: 1, y: 1, "1": 1, false: 0, no: 0, n: 0, "0": 0, "": 0 };

export const customerRow = (calendar: Calendar) =>
  z.object({
    id: required("id"),
    name: required("name", 300),
    segment: lowerText(100).optional(),
    lifecycle_stage: lowerText(100).optional(),
    /** A Slack member id, an email or a name: resolved by the import (see OwnerResolver). */
    owner: optionalText(200).optional(),
    tier: lowerText(100).optional(),
    since: optionalInstant("since", calendar).optional(),
    renewal_date: optionalInstant("renewal_date", calendar).optional(),
    churned_at: optionalInstant("churned_at", calendar).optional(),
    loyalty_member: z
      .string()
      .transform((value, ctx) => {
        const word = BOOLEAN_WORDS[value.trim().toLowerCase()];
        if (word === undefined) {
          ctx.addIssue({ code: "custom", message: `loyalty_member: "${value}" is not true/false/yes/no/1/0` });
          return z.NEVER;
        }
        return word;
      })
      .optional(),
  });

export const touchRow = (calendar: Calendar) =>
  z.object({
    customer_id: required("customer_id"),
    occurred_at: instant("occurred_at", calendar),
    kind: z
      .string()
      .transform((v) => (v.trim() === "" ? "other" : v.trim().toLowerCase()))
      .refine((v) => (TOUCH_KINDS as readonly string[]).includes(v), { message: `kind must be one of ${TOUCH_KINDS.join(", ")}` })
      .optional(),
    note: optionalText(4000).optional(),
    logged_by: optionalText(200).optional(),
    external_id: optionalText(200).optional(),
  });

export const npsRow = (calendar: Calendar) =>
  z.object({
    customer_id: required("customer_id"),
    responded_at: instant("responded_at", calendar),
    score: z.string().transform((value, ctx) => {
      const trimmed = value.trim();
      const score = Number(trimmed);
      if (trimmed === "" || !Number.isInteger(score) || score < 0 || score > 10) {
        ctx.addIssue({ code: "custom", message: `score: "${value}" is not a whole number from 0 to 10` });
        return z.NEVER;
      }
      return score;
    }),
    comment: optionalText(4000).optional(),
    external_id: optionalText(200).optional(),
  });

export const purchaseRow = (calendar: Calendar) =>
  z.object({
    customer_id: required("customer_id"),
    occurred_at: instant("occurred_at", calendar),
    amount: z
      .string()
      .transform((value, ctx) => {
        const trimmed = value.trim().replace(/^\$/, "");
        if (trimmed === "") return 0;
        const amount = Number(trimmed);
        if (!/^-?\d+(\.\d+)?$/.test(trimmed) || !Number.isFinite(amount)) {
          ctx.addIssue({ code: "custom", message: `amount: "${value}" is not a number (use 1234.50, no thousands separators)` });
          return z.NEVER;
        }
        return Math.round(amount * 100);
      })
      .optional(),
    order_id: optionalText(200).optional(),
  });

/** Unknown customer columns become attributes; numbers and booleans keep their type for rules. */
export function attributeValue(raw: string): string | number | boolean | null {
  const value = raw.trim();
  if (value === "") return null;
  if (/^-?\d+(\.\d+)?$/.test(value) && value.length < 16) return Number(value);
  if (/^(true|false)$/i.test(value)) return value.toLowerCase() === "true";
  return value;
}
