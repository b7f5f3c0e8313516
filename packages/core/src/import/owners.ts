import { isSlackUserId } from "@keepwarm/rules";
import type { Owner } from "@keepwarm/store";

/** An owner cell, resolved: the Slack member, or (none known yet) the email or name as given. */
export interface ResolvedOwner {
  owner_slack_id: string | null;
  owner_ref: string | null;
}

const looksLikeEmail = (text: string) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(text);

/**
 * Owners as CRM exports give them: a Slack member id (U0123ABCD), an email or a name,
 * resolved through the owner directory (`keepwarm owners sync`). An email or name
 * without a directory entry is kept as given (customers.owner_ref) and counted, for
 * the import to report and `owners sync` to resolve later. A name shared by two reps
 * resolves to neither.
 */
export class OwnerResolver {
  private readonly byEmail = new Map<string, string>();
  private readonly byName = new Map<string, string | null>();
  /** Distinct unresolved owners and how many rows had each, in order of first appearance. */
  readonly unresolved = new Map<string, number>();

  constructor(directory: readonly Owner[]) {
    for (const owner of directory) {
      if (owner.email !== null) this.byEmail.set(owner.email.toLowerCase(), owner.slack_id);
      if (owner.name !== null) {
        const key = owner.name.trim().toLowerCase();
        this.byName.set(key, this.byName.has(key) && this.byName.get(key) !== owner.slack_id ? null : owner.slack_id);
      }
    }
  }

  resolve(cell: string): ResolvedOwner {
    const value = cell.trim();
    if (value === "") return { owner_slack_id: null, owner_ref: null };
    if (isSlackUserId(value)) return { owner_slack_id: value, owner_ref: null };
    const email = looksLikeEmail(value);
    const found = email ? this.byEmail.get(value.toLowerCase()) : this.byName.get(value.toLowerCase());
    if (found !== undefined && found !== null) return { owner_slack_id: found, owner_ref: null };
    const ref = email ? value.toLowerCase() : value;
    if (this.unresolved.size < 10_000 || this.unresolved.has(ref)) this.unresolved.set(ref, (this.unresolved.get(ref) ?? 0) + 1);
    return { owner_slack_id: null, owner_ref: ref };
  }
}
