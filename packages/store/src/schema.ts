import type { ApiIdempotencyTable, ApiTokensTable } from "./tables/api-tokens.table";
import type { EvaluationQueueTable } from "./tables/evaluation-queue.table";
import type { CustomersTable } from "./tables/customers.table";
import type { LeasesTable } from "./tables/leases.table";
import type { OwnersTable } from "./tables/owners.table";
import type { MetaTable } from "./tables/meta.table";
import type { NpsResponsesTable } from "./tables/nps-responses.table";
import type { NudgesTable } from "./tables/nudges.table";
import type { OutboxTable } from "./tables/outbox.table";
import type { PurchasesTable } from "./tables/purchases.table";
import type { RuleSetsTable } from "./tables/rule-sets.table";
import type { SlackChannelsTable } from "./tables/slack-channels.table";
import type { SweepRunsTable } from "./tables/sweep-runs.table";
import type { TouchpointsTable } from "./tables/touchpoints.table";

export interface Database {
  customers: CustomersTable;
  touchpoints: TouchpointsTable;
  nps_responses: NpsResponsesTable;
  purchases: PurchasesTable;
  nudges: NudgesTable;
  outbox: OutboxTable;
  rule_sets: RuleSetsTable;
  sweep_runs: SweepRunsTable;
  leases: LeasesTable;
  meta: MetaTable;
  owners: OwnersTable;
  slack_channels: SlackChannelsTable;
  api_tokens: ApiTokensTable;
  api_idempotency: ApiIdempotencyTable;
  evaluation_queue: EvaluationQueueTable;
}
