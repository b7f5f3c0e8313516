import { searchCustomers } from "@keepwarm/core";
import type { App } from "@slack/bolt";
import { CUSTOMER_SEARCH, customerOption } from "../../blocks/modals";
import type { BotDeps } from "../../deps";

/** The customer picker's search, as the user types. */
export function registerCustomerSearch(app: App, deps: BotDeps): void {
  app.options(CUSTOMER_SEARCH, async ({ ack, options }) => {
    const query = typeof options.value === "string" ? options.value.slice(0, 100) : "";
    await ack({ options: (await searchCustomers(deps.store, query, 50)).map(customerOption) });
  });
}
