import { searchCustomers } from "@keepwarm/core";
import type { App } from "@slack/bolt";
import { CUSTOMER_SEARCH, customerOption } from "../../blocks/modals";
import type { BotDeps } from "../../deps";
import { readingViewerOf, seesAll, visibleCustomers } from "../../security/access";

/** The customer picker's search, as the user types: only customers they may see. */
export function registerCustomerSearch(app: App, deps: BotDeps): void {
  app.options(CUSTOMER_SEARCH, async ({ ack, options, body }) => {
    const query = typeof options.value === "string" ? options.value.slice(0, 100) : "";
    const viewer = await readingViewerOf(deps, body.user.id);
    // Others' customers are filtered out after the search: ask for more, so the user's own still fill the list.
    const found = await searchCustomers(deps.store, query, seesAll(viewer) ? 50 : 500);
    await ack({ options: visibleCustomers(viewer, found).slice(0, 50).map(customerOption) });
  });
}
