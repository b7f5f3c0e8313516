import type { Migration, MigrationProvider } from "kysely";
import * as initial from "./2026-11-23T00-00_initial";
import * as sweepPlanIndex from "./2026-11-24T00-00_sweep-plan-index";
import * as customerIdNocaseIndex from "./2026-11-26T00-00_customer-id-nocase-index";
import * as customerNamePrefixIndex from "./2026-11-27T00-00_customer-name-prefix-index";
import * as outboxClaims from "./2026-12-01T00-00_outbox-claims";
import * as coveringHistoryIndexes from "./2026-12-01T12-00_covering-history-indexes";
import * as deliveryIntent from "./2026-12-02T00-00_delivery-intent";
import * as nudgeSnoozeCount from "./2026-12-02T00-00_nudge-snooze-count";
import * as nudgeVariant from "./2026-12-02T01-00_nudge-variant";
import * as nudgeClaims from "./2026-12-02T02-00_nudge-claims";
import * as importIdentityAndOwners from "./2026-12-02T12-00_import-identity-and-owners";
import * as apiTokens from "./2026-12-02T13-00_api-tokens";
import * as webhooks from "./2026-12-03T01-00_webhooks";
import * as evaluationQueue from "./2026-12-03T02-00_evaluation-queue";
import * as repPreferences from "./2026-12-03T03-00_rep-preferences";
import * as nudgeEarlierMessages from "./2026-12-03T05-00_nudge-earlier-messages";
import * as slackPace from "./2026-12-03T05-00_slack-pace";
import * as touchWriteFunctions from "./2026-12-04T01-00_touch-write-functions";

/** In-code provider: migrations ship inside the package, no directory scanning at run time. */
export const migrationProvider: MigrationProvider = {
  async getMigrations(): Promise<Record<string, Migration>> {
    return {
      "2026-11-23T00-00_initial": initial,
      "2026-11-24T00-00_sweep-plan-index": sweepPlanIndex,
      "2026-11-26T00-00_customer-id-nocase-index": customerIdNocaseIndex,
      "2026-11-27T00-00_customer-name-prefix-index": customerNamePrefixIndex,
      "2026-12-01T00-00_outbox-claims": outboxClaims,
      "2026-12-01T12-00_covering-history-indexes": coveringHistoryIndexes,
      "2026-12-02T00-00_delivery-intent": deliveryIntent,
      "2026-12-02T00-00_nudge-snooze-count": nudgeSnoozeCount,
      "2026-12-02T01-00_nudge-variant": nudgeVariant,
      "2026-12-02T02-00_nudge-claims": nudgeClaims,
      "2026-12-02T12-00_import-identity-and-owners": importIdentityAndOwners,
      "2026-12-02T13-00_api-tokens": apiTokens,
      "2026-12-03T01-00_webhooks": webhooks,
      "2026-12-03T02-00_evaluation-queue": evaluationQueue,
      "2026-12-03T03-00_rep-preferences": repPreferences,
      "2026-12-03T05-00_nudge-earlier-messages": nudgeEarlierMessages,
      "2026-12-03T05-00_slack-pace": slackPace,
      "2026-12-04T01-00_touch-write-functions": touchWriteFunctions,
    };
  },
};
