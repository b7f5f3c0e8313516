import type { CustomerLookup, Env } from "@keepwarm/core";
import { type Customer, ownsCustomers, type Store } from "@keepwarm/store";
import type { BotDeps } from "../deps";

/**
 * Who may see and act on which customers, from Slack:
 * - a rep: the customers they own (`owner_slack_id`);
 * - a lead: also the customers of the reps they manage (`KEEPWARM_MANAGERS=REP:LEAD`);
 * - an admin (`KEEPWARM_ADMINS`): every customer, those without an owner included;
 * - a member of `KEEPWARM_READ_CHANNEL`: sees every customer, acts as their role allows;
 * - anyone else: nothing, and a polite refusal that names no customer.
 * "See" is a lookup, a list, the picker; "act" is a touch, a snooze, a dismiss. A
 * customer someone may not see is answered exactly like one that does not exist.
 */
export interface Viewer {
  user: string;
  admin: boolean;
  /** Owners whose customers this user may see: themself and the reps they lead. */
  owners: ReadonlySet<string>;
  /** Leads at least one rep (KEEPWARM_MANAGERS). */
  lead: boolean;
  /** A member of KEEPWARM_READ_CHANNEL: sees every customer, acts only on those `owners` allows. */
  reader: boolean;
}

export function viewerOf(env: Pick<Env, "KEEPWARM_ADMINS" | "KEEPWARM_MANAGERS">, user: string): Viewer {
  const owners = new Set([user]);
  for (const [rep, manager] of Object.entries(env.KEEPWARM_MANAGERS)) if (manager === user) owners.add(rep);
  return { user, admin: env.KEEPWARM_ADMINS.includes(user), owners, lead: owners.size > 1, reader: false };
}

/**
 * The viewer for a read (a lookup, a list, the picker): also a reader when they are in
 * KEEPWARM_READ_CHANNEL. Acting paths use viewerOf, so read access never lets anyone act.
 */
export async function readingViewerOf(deps: Pick<BotDeps, "env" | "readChannel">, user: string): Promise<Viewer> {
  const viewer = viewerOf(deps.env, user);
  return viewer.admin || deps.readChannel === undefined ? viewer : { ...viewer, reader: await deps.readChannel.isMember(user) };
}

/** Whether the viewer may act on (touch, snooze, dismiss) a customer with this owner. */
export const mayAccess = (viewer: Viewer, ownerSlackId: string | null): boolean => viewer.admin || (ownerSlackId !== null && viewer.owners.has(ownerSlackId));

/** Whether the viewer may see a customer with this owner. */
export const maySee = (viewer: Viewer, ownerSlackId: string | null): boolean => viewer.reader || mayAccess(viewer, ownerSlackId);

/** Sees every customer: an admin or a reader. */
export const seesAll = (viewer: Viewer): boolean => viewer.admin || viewer.reader;

export const visibleCustomers = <C extends Pick<Customer, "owner_slack_id">>(viewer: Viewer, customers: readonly C[]): C[] =>
  customers.filter((c) => maySee(viewer, c.owner_slack_id));

/** Neither admin, nor lead, nor reader, nor owner of any customer: keepwarm has nothing to show them. */
export const isStranger = async (store: Store, viewer: Viewer): Promise<boolean> =>
  !viewer.admin && !viewer.lead && !viewer.reader && !(await ownsCustomers(store.db, viewer.user));

export const STRANGER_TEXT =
  "Sorry, keepwarm shows each rep their own customers (and a lead their team's), and you have none. If you should, ask a keepwarm admin to set you as the owner of your customers.";

export const NOT_YOURS_TEXT = "Sorry, that nudge is about a customer of another rep: only their owner, their lead or an admin can act on it.";

/**
 * A customer lookup narrowed to what the viewer may see, so that another rep's customer
 * answers like none at all: a single visible candidate is found; suggestions are filtered.
 * Callers pass a wider `limit` to lookupCustomer for non-admins, so that filtering still
 * leaves the viewer's own matches.
 */
export function visibleLookup(viewer: Viewer, lookup: CustomerLookup, limit = 5): CustomerLookup {
  if (seesAll(viewer)) return lookup;
  if (lookup.kind === "found") return maySee(viewer, lookup.customer.owner_slack_id) ? lookup : { kind: "none", suggestions: [] };
  if (lookup.kind === "ambiguous") {
    const candidates = visibleCustomers(viewer, lookup.candidates).slice(0, limit);
    const [only] = candidates;
    if (candidates.length === 1 && only !== undefined) return { kind: "found", customer: only };
    return candidates.length === 0 ? { kind: "none", suggestions: [] } : { kind: "ambiguous", candidates };
  }
  return { kind: "none", suggestions: visibleCustomers(viewer, lookup.suggestions).slice(0, limit) };
}
