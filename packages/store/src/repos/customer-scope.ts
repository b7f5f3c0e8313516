import type { Expression, ExpressionBuilder, SqlBool } from "kysely";
import type { CustomersTable } from "../tables/customers.table";

/** An expression builder of any query whose customers table is aliased `c`. */
export type CustomerScope = ExpressionBuilder<{ c: CustomersTable }, "c">;

/** When the customer relationship started: `since`, else when the customer was added. */
export const customerStart = (eb: CustomerScope) => eb.fn.coalesce("c.since_at", "c.created_at");

/** The customer (alias c) is a customer at `at`: started on or before it, not churned by it. */
export function activeCustomerAt(eb: CustomerScope, at: number): Expression<SqlBool> {
  return eb.and([eb(customerStart(eb), "<=", at), eb.or([eb("c.churned_at", "is", null), eb("c.churned_at", ">", at)])]);
}

/** The customer (alias c) is in `segment`; no segment (null or undefined) means every customer. */
export function inSegment(eb: CustomerScope, segment: string | null | undefined): Expression<SqlBool> {
  return segment === null || segment === undefined ? eb.lit(true) : eb("c.segment", "=", segment);
}
