import {
  computeStats,
  customerHealth,
  DEFAULT_STATS_DAYS,
  dismissNudge,
  factsOfCustomers,
  getActiveRuleSet,
  healthLines,
  IMPORT_KINDS,
  type ImportKind,
  ingestItems,
  type NudgeActionResult,
  parseIsoInstant,
  resolveNudge,
  snoozeNudge,
} from "@keepwarm/core";
import { type Calendar, ruleFileProgram } from "@keepwarm/rules";
import {
  type ApiToken,
  DAY_MS,
  findCustomerByExternalId,
  knownSegments,
  listNudges,
  liveNudgesOfCustomer,
  type NudgeView,
  nudgeResource,
  nudgeView,
  type Store,
} from "@keepwarm/store";
import type { z } from "zod";
import {
  batchEnvelope,
  customerResponse,
  dismissBody,
  errorBody,
  INGEST_BODIES,
  ingestResponse,
  nudgeActionResponse,
  type nudgeBody,
  nudgesQuery,
  nudgesResponse,
  resolveBody,
  snoozeBody,
  statsQuery,
  statsResponse,
} from "./schemas";
import type { Scope } from "./tokens";

/** A client's mistake: answered with `status` and `{ error: message }`, nothing changed. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface RouteContext {
  store: Store;
  now: number;
  calendar: Calendar;
  token: ApiToken;
  params: Record<string, string>;
  query: unknown;
  body: unknown;
}

export interface Answer {
  status: number;
  body: unknown;
}

export interface Route {
  method: "GET" | "POST";
  /** `/api/v1/nudges/{id}/snooze`: `{name}` matches one path segment. */
  path: string;
  scope: Scope;
  summary: string;
  query?: z.ZodType;
  /** The body as documented; `parseBody` (default: this) checks it. */
  body?: z.ZodType;
  parseBody?: z.ZodType;
  /** Responses besides the errors every route shares. */
  responses: Record<number, { description: string; schema: z.ZodType }>;
  handle(ctx: RouteContext): Promise<Answer>;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** The store's one shape of a nudge for other systems (webhook events carry it too), checked against the schema here. */
const nudgeOut: (view: NudgeView) => z.infer<typeof nudgeBody> = nudgeResource;

const ingestRoute = (kind: ImportKind): Route => ({
  method: "POST",
  path: `/api/v1/${kind}`,
  scope: "ingest",
  summary:
    kind === "customers"
      ? "Upsert customers by id (attributes merged: null removes one)"
      : `Add ${kind === "nps" ? "NPS responses" : kind} (already stored ones are skipped)`,
  body: INGEST_BODIES[kind],
  parseBody: batchEnvelope,
  responses: {
    200: { description: "Written; each item's outcome", schema: ingestResponse },
    422: { description: "Some items are invalid and partial is not set: nothing was written", schema: ingestResponse },
  },
  async handle({ store, now, calendar, body }) {
    const batch = body as z.infer<typeof batchEnvelope>;
    const result = await ingestItems(store, kind, batch.items, { now, calendar, ...(batch.partial === undefined ? {} : { partial: batch.partial }) });
    const out: z.infer<typeof ingestResponse> = {
      committed: result.committed,
      counts: result.counts,
      resolved_nudges: result.resolvedNudges,
      items: result.items.map((item) => ({ index: item.index, status: item.status, ...(item.errors === undefined ? {} : { errors: item.errors }) })),
    };
    if (!result.committed)
      out.error = `${result.counts.invalid} of ${batch.items.length} items are invalid; nothing was written (set "partial": true to write the valid ones)`;
    return { status: result.committed ? 200 : 422, body: out };
  },
});

async function nudgeAnswer(store: Store, result: NudgeActionResult, id: number): Promise<Answer> {
  if (!result.ok && result.reason === "not_found") throw new ApiError(404, `no nudge ${id}`);
  if (!result.ok) throw new ApiError(409, `nudge ${id} is ${result.nudge?.status ?? "closed"} already`);
  const view = await nudgeView(store.db, id);
  if (view === undefined) throw new ApiError(404, `no nudge ${id}`);
  return { status: 200, body: { nudge: nudgeOut(view) } };
}

/** `POST /api/v1/nudges/{id}/<verb>`: the act routes differ only in their body and the action they call. */
function nudgeActionRoute<B extends z.ZodType<{ by?: string | undefined }>>(
  verb: string,
  summary: string,
  done: string,
  body: B,
  act: (store: Store, id: number, body: z.infer<B>, by: string, now: number, calendar: Calendar) => Promise<NudgeActionResult>,
): Route {
  return {
    method: "POST",
    path: `/api/v1/nudges/{id}/${verb}`,
    scope: "act",
    summary,
    body,
    responses: {
      200: { description: `The nudge, ${done}`, schema: nudgeActionResponse },
      404: { description: "No such nudge", schema: errorBody },
      409: { description: "The nudge is closed already", schema: errorBody },
    },
    async handle({ store, now, calendar, params, body: parsed, token }) {
      const id = nudgeId(params);
      const b = parsed as z.infer<B>;
      return nudgeAnswer(store, await act(store, id, b, actor(b.by, token), now, calendar), id);
    },
  };
}

function nudgeId(params: Record<string, string>): number {
  const text = params.id ?? "";
  if (!/^\d{1,15}$/.test(text)) throw new ApiError(404, `no nudge ${JSON.stringify(text.slice(0, 40))}`);
  return Number(text);
}

const actor = (by: string | undefined, token: ApiToken) => by ?? `api:${token.name}`;

export const ROUTES: Route[] = [
  ...IMPORT_KINDS.map(ingestRoute),
  {
    method: "GET",
    path: "/api/v1/customers/{id}",
    scope: "read",
    summary: "A customer with its facts, health score and open nudges",
    responses: { 200: { description: "The customer", schema: customerResponse }, 404: { description: "No customer with this id", schema: errorBody } },
    async handle({ store, now, calendar, params }) {
      const externalId = params.id ?? "";
      const customer = await findCustomerByExternalId(store.db, externalId);
      if (customer === undefined) throw new ApiError(404, `no customer with id ${JSON.stringify(externalId.slice(0, 200))}`);
      const active = await getActiveRuleSet(store);
      const at = { now, calendar };
      const facts = active === undefined ? undefined : (await factsOfCustomers(store, ruleFileProgram(active.ruleFile), at, [customer.id]))[0];
      const health = active === undefined ? undefined : (await customerHealth(store, active.ruleFile, at, [customer.id]))?.[0];
      const nudges = await liveNudgesOfCustomer(store.db, customer.id);
      let attributes: Record<string, string | number | boolean> = {};
      try {
        attributes = JSON.parse(customer.attributes) as typeof attributes;
      } catch {
        // A hand-edited attributes column that is not JSON reads as none.
      }
      const body: z.infer<typeof customerResponse> = {
        customer: {
          id: customer.external_id,
          name: customer.name,
          segment: customer.segment,
          lifecycle_stage: customer.lifecycle_stage,
          owner_slack_id: customer.owner_slack_id,
          tier: customer.tier,
          since: iso(customer.since_at),
          renewal_date: iso(customer.renewal_at),
          churned_at: iso(customer.churned_at),
          loyalty_member: customer.loyalty_member === 1,
          attributes,
          created_at: iso(customer.created_at) as string,
          updated_at: iso(customer.updated_at) as string,
        },
        facts: facts?.facts ?? null,
        health: health === undefined ? null : { score: health.now.score, grade: health.now.grade, change_30_days: health.change, summary: healthLines(health) },
        open_nudges: nudges.map(nudgeOut),
      };
      return { status: 200, body };
    },
  },
  {
    method: "GET",
    path: "/api/v1/nudges",
    scope: "read",
    summary: "Nudges by status, owner and rule, newest first",
    query: nudgesQuery,
    responses: { 200: { description: "A page of nudges", schema: nudgesResponse } },
    async handle({ store, query }) {
      const q = query as z.infer<typeof nudgesQuery>;
      const views = await listNudges(store.db, { status: q.status, ownerSlackId: q.owner, ruleId: q.rule, beforeId: q.before, limit: q.limit });
      const last = views[views.length - 1];
      return { status: 200, body: { nudges: views.map(nudgeOut), next_before: views.length === q.limit && last !== undefined ? last.nudgeId : null } };
    },
  },
  nudgeActionRoute("snooze", "Snooze a live nudge for 3, 7, 14 or 30 days", "snoozed", snoozeBody, (store, id, b, by, now, calendar) =>
    snoozeNudge(store, id, b.days, by, now, calendar),
  ),
  nudgeActionRoute(
    "dismiss",
    "Dismiss a live nudge (its rule stays quiet for the customer for its cooldown)",
    "dismissed",
    dismissBody,
    (store, id, b, by, now, calendar) => dismissNudge(store, id, by, b.reason ?? null, now, calendar),
  ),
  nudgeActionRoute("resolve", "Resolve a live nudge by hand (taken care of outside keepwarm)", "resolved", resolveBody, (store, id, b, by, now, calendar) =>
    resolveNudge(store, id, by, b.note ?? null, now, calendar),
  ),
  {
    method: "GET",
    path: "/api/v1/stats",
    scope: "read",
    summary: "KPIs, nudge funnel and holdouts: the same object as `keepwarm stats --json`",
    query: statsQuery,
    responses: { 200: { description: "The stats", schema: statsResponse } },
    async handle({ store, now, calendar, query }) {
      const q = query as z.infer<typeof statsQuery>;
      const instant = (name: string, text: string) => {
        const at = parseIsoInstant(text, calendar);
        if (at === undefined) throw new ApiError(400, `${name}: "${text}" is not a date (YYYY-MM-DD)`);
        return at;
      };
      const until = q.until === undefined ? now : instant("until", q.until);
      const since = q.since === undefined ? until - DEFAULT_STATS_DAYS * DAY_MS : instant("since", q.since);
      if (since >= until) throw new ApiError(400, "since must be before until");
      const segment = q.segment?.trim();
      if (segment !== undefined && !(await knownSegments(store.db)).includes(segment)) throw new ApiError(400, `segment: unknown segment "${segment}"`);
      return { status: 200, body: await computeStats(store, { since, until, calendar, segment }) };
    },
  },
];
