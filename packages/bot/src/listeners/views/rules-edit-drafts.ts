import { randomUUID } from "node:crypto";
import type { RulePreviewEntry } from "@keepwarm/core";

export interface RuleDraft {
  id: string;
  /** The admin who previewed it; nobody else can confirm it. */
  user: string;
  text: string;
  /** The active version the diff and preview were computed against (0: none). */
  baseVersion: number;
  summary: string;
  preview: RulePreviewEntry[];
  createdAt: number;
}

export const DRAFT_TTL_MS = 30 * 60_000;
const MAX_DRAFTS = 100;

/**
 * Candidate rule files between "preview" and "save". Slack's private_metadata holds
 * only 3000 characters, so the view carries a random draft id and the JSON stays here.
 * In memory on purpose: a draft is seconds-to-minutes of modal state, the bot is one
 * process, and a restart only costs a re-submit (the confirm step says so plainly).
 */
export class RuleDrafts {
  private readonly drafts = new Map<string, RuleDraft>();

  constructor(private readonly now: () => number) {}

  add(draft: Omit<RuleDraft, "id" | "createdAt">): RuleDraft {
    this.prune();
    const full: RuleDraft = { ...draft, id: randomUUID(), createdAt: this.now() };
    this.drafts.set(full.id, full);
    // Map keeps insertion order: the first key is the oldest draft.
    while (this.drafts.size > MAX_DRAFTS) {
      const oldest = this.drafts.keys().next().value;
      if (oldest === undefined) break;
      this.drafts.delete(oldest);
    }
    return full;
  }

  /** The draft, if it exists, is fresh and belongs to this user. */
  get(id: string | undefined, user: string): RuleDraft | undefined {
    if (id === undefined) return undefined;
    const draft = this.drafts.get(id);
    if (draft === undefined || draft.user !== user) return undefined;
    if (this.now() - draft.createdAt > DRAFT_TTL_MS) {
      this.drafts.delete(id);
      return undefined;
    }
    return draft;
  }

  delete(id: string): void {
    this.drafts.delete(id);
  }

  private prune(): void {
    const now = this.now();
    for (const [id, draft] of this.drafts) if (now - draft.createdAt > DRAFT_TTL_MS) this.drafts.delete(id);
  }
}
