/** A customer to re-evaluate now (see the evaluation-queue migration). */
export interface EvaluationQueueTable {
  customer_id: number;
  /** Grows with each write that queues the customer again. */
  seq: number;
  queued_at: number;
  claimed_by: string | null;
  claimed_until: number | null;
}
