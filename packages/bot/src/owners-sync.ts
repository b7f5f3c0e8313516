import { ownerDirectory, ownersMissingFromDirectory, resolveOwnerRef, type Store, unresolvedOwnerRefs, upsertOwners, writeTransaction } from "@keepwarm/store";
import { UserError } from "@keepwarm/core";
import { webApi } from "@slack/bolt";

/** What `keepwarm owners sync` did. */
export interface OwnerSyncResult {
  /** Emails and names now resolved to a Slack member, with how many customers each gave an owner. */
  resolved: Array<{ owner: string; slackId: string; customers: number }>;
  /** Emails Slack knows no member for, and names no directory entry has (or that two reps share). */
  unresolved: string[];
  /** Slack members added to the directory (or refreshed) by id, for their names. */
  named: number;
}

interface SlackUser {
  id?: string;
  name?: string;
  real_name?: string;
  profile?: { email?: string; real_name?: string; display_name?: string };
}

/** Slack's Web API calls a sync needs (a WebClient, or a stand-in in tests). */
export interface OwnerLookupClient {
  users: {
    lookupByEmail(args: { email: string }): Promise<{ ok?: boolean; user?: SlackUser }>;
    info(args: { user: string }): Promise<{ ok?: boolean; user?: SlackUser }>;
  };
}

const isEmail = (text: string) => text.includes("@");
const displayName = (user: SlackUser): string | null => user.profile?.real_name || user.real_name || user.profile?.display_name || user.name || null;
const slackError = (error: unknown): string | undefined => (error as { data?: { error?: string } }).data?.error;
const notFound = (error: unknown) => ["users_not_found", "user_not_found"].includes(slackError(error) ?? "");

/** A Slack refusal other than "no such user", as one line (a missing scope names the one to add). */
function refused(method: string, error: unknown): Error {
  const code = slackError(error);
  if (code === undefined) return error as Error;
  const scope = (error as { data?: { needed?: string } }).data?.needed;
  return new UserError(
    `Slack refused ${method}: ${code}${code === "missing_scope" ? ` (the app needs the ${scope ?? "users:read.email"} scope: see slack/manifest.yml, then reinstall it)` : ""}`,
  );
}

/**
 * Fill the owner directory from Slack and give customers their owners:
 * 1. every owner email customers were imported with and no member is known for is
 *    looked up with users.lookupByEmail (scope users:read.email);
 * 2. every Slack member who owns customers but has no directory entry is looked up
 *    with users.info (users:read), for the name the stats, the report and the console show;
 * 3. owners given by name are matched to the directory's names (one rep per name).
 * Lookups run one at a time (Slack's Tier 3 allows 50+ a minute; the client retries a 429).
 */
export async function syncOwners(store: Store, client: OwnerLookupClient, now: number = Date.now()): Promise<OwnerSyncResult> {
  const result: OwnerSyncResult = { resolved: [], unresolved: [], named: 0 };
  const refs = await unresolvedOwnerRefs(store.db);
  for (const email of refs.filter(isEmail)) {
    const user = await client.users.lookupByEmail({ email }).then(
      (answer) => answer.user,
      (error: unknown) => {
        if (notFound(error)) return undefined;
        throw refused("users.lookupByEmail", error);
      },
    );
    if (user?.id === undefined) {
      result.unresolved.push(email);
      continue;
    }
    await upsertOwners(store.db, [{ slack_id: user.id, email: user.profile?.email ?? email, name: displayName(user), updated_at: now }]);
    result.named++;
  }
  for (const slackId of await ownersMissingFromDirectory(store.db)) {
    const user = await client.users.info({ user: slackId }).then(
      (answer) => answer.user,
      (error: unknown) => {
        if (notFound(error)) return undefined;
        throw refused("users.info", error);
      },
    );
    if (user === undefined) continue;
    await upsertOwners(store.db, [{ slack_id: slackId, email: user.profile?.email ?? null, name: displayName(user), updated_at: now }]);
    result.named++;
  }
  const directory = await ownerDirectory(store.db);
  const byEmail = new Map(directory.filter((o) => o.email !== null).map((o) => [(o.email as string).toLowerCase(), o.slack_id]));
  const byName = new Map<string, string | null>();
  for (const owner of directory) {
    if (owner.name === null) continue;
    const key = owner.name.trim().toLowerCase();
    byName.set(key, byName.has(key) && byName.get(key) !== owner.slack_id ? null : owner.slack_id);
  }
  for (const ref of refs) {
    const slackId = isEmail(ref) ? byEmail.get(ref.toLowerCase()) : byName.get(ref.trim().toLowerCase());
    if (slackId === undefined || slackId === null) {
      if (!isEmail(ref)) result.unresolved.push(ref);
      continue;
    }
    const customers = await writeTransaction(store.db, (trx) => resolveOwnerRef(trx, ref, slackId, now));
    result.resolved.push({ owner: ref, slackId, customers });
  }
  return result;
}

/** A Web API client for a sync: Slack's own retries (429 included), bounded by a timeout per call. */
export function ownerSyncClient(token: string, slackApiUrl: string): OwnerLookupClient {
  return new webApi.WebClient(token, { slackApiUrl, timeout: 15_000, retryConfig: { retries: 3 }, logLevel: webApi.LogLevel.ERROR });
}
