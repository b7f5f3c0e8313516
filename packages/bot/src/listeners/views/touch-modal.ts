import { logTouch, parseTouchDate, UserError } from "@keepwarm/core";
import type { TouchKind } from "@keepwarm/store";
import { findCustomerById, TOUCH_KINDS } from "@keepwarm/store";
import type { App } from "@slack/bolt";
import { z } from "zod";
import { VIEW } from "../../blocks/modals";
import type { BotDeps } from "../../deps";
import { mayAccess, viewerOf } from "../../security/access";

const submission = z.object({
  customer: z.object({ customer_search: z.object({ selected_option: z.object({ value: z.string().regex(/^\d{1,12}$/) }).nullish() }) }),
  kind: z.object({ kind: z.object({ selected_option: z.object({ value: z.enum(TOUCH_KINDS) }).nullish() }) }),
  date: z.object({
    date: z.object({
      selected_date: z
        .string()
        .regex(/^\d{4}-\d{2}-\d{2}$/)
        .nullish(),
    }),
  }),
  note: z.object({ note: z.object({ value: z.string().max(3000).nullish() }) }).optional(),
});

/** The touch form: validated field by field, errors shown next to the field. */
export function registerTouchModalSubmission(app: App, deps: BotDeps): void {
  app.view(VIEW.touch, async ({ ack, body, view }) => {
    const parsed = submission.safeParse(view.state.values);
    if (!parsed.success) {
      await ack({ response_action: "errors", errors: { customer: "Choose a customer, a kind and a date." } });
      return;
    }
    const values = parsed.data;
    const customerId = Number(values.customer.customer_search.selected_option?.value ?? Number.NaN);
    const customer = Number.isNaN(customerId) ? undefined : await findCustomerById(deps.store.db, customerId);
    if (customer === undefined) {
      await ack({ response_action: "errors", errors: { customer: "Choose a customer from the list." } });
      return;
    }
    // The picker lists only customers the user may act on; a submission can be forged, so check again.
    if (!mayAccess(viewerOf(deps.env, body.user.id), customer.owner_slack_id)) {
      await ack({ response_action: "errors", errors: { customer: "Choose one of your customers from the list." } });
      return;
    }
    const kind: TouchKind = values.kind.kind.selected_option?.value ?? "other";
    const now = deps.now();
    const dateText = values.date.date.selected_date;
    const occurredAt = dateText ? parseTouchDate(dateText, now, deps.calendar) : now;
    if (occurredAt === undefined || occurredAt === "invalid") {
      await ack({ response_action: "errors", errors: { date: "Pick a valid date." } });
      return;
    }
    if (occurredAt > now + 5 * 60_000) {
      await ack({ response_action: "errors", errors: { date: "That date is in the future: log touches that happened." } });
      return;
    }
    const note = values.note?.note.value?.trim() || null;
    try {
      const result = await logTouch(deps.store, {
        customerId: customer.id,
        kind,
        occurredAt,
        note,
        loggedBy: body.user.id,
        source: "modal",
        now,
        calendar: deps.calendar,
      });
      await ack();
      if (result.resolved.length > 0) deps.kickDelivery();
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      await ack({ response_action: "errors", errors: { note: error.message } });
    }
  });
}
