import { findCustomerByExternalId, liveNudgesOfCustomer, recentTouches } from "@keepwarm/store";
import { expect } from "vitest";
import { blockAction, type Harness, TEAM } from "./harness";

/**
 * What a user does and sees in a running bot, for the access tests: a slash command's
 * answer, a snooze click, the customer picker; and the store's own reads to check that
 * a refused action changed nothing.
 */
export function asUser(harness: () => Harness) {
  let clicks = 0;
  const customerOf = async (externalId: string) => {
    const customer = await findCustomerByExternalId(harness().store.db, externalId);
    if (customer === undefined) throw new Error(`no customer ${externalId}`);
    return customer;
  };
  const nudgeOf = async (externalId: string) => {
    const [nudge] = await liveNudgesOfCustomer(harness().store.db, (await customerOf(externalId)).id);
    if (nudge === undefined) throw new Error(`no live nudge for ${externalId}`);
    return { id: nudge.nudgeId, status: nudge.status };
  };
  return {
    customerOf,
    nudgeOf,
    touchesOf: async (externalId: string) => (await recentTouches(harness().store.db, (await customerOf(externalId)).id, 1000)).length,

    /** The answer to a slash command, immediate or through its response_url. */
    async answer(command: string, text: string, user: string): Promise<string> {
      const h = harness();
      const sent = await h.command(command, text, user);
      expect(sent.status).toBe(200);
      const body = sent.json === undefined ? await h.response(sent.responseId) : (sent.json as Record<string, unknown>);
      return JSON.stringify(body);
    },

    /** Snooze a customer's nudge 3 days as `user`; the ephemeral answer. */
    async snooze(externalId: string, user: string): Promise<string> {
      const h = harness();
      const { id } = await nudgeOf(externalId);
      const responseId = `snooze-${++clicks}`;
      const res = await h.interact(
        blockAction(
          { type: "static_select", action_id: "nudge_snooze", selected_option: { text: { type: "plain_text", text: "3 days" }, value: `${id}:3` } },
          { user, responseUrl: h.fake.responseUrl(responseId) },
        ),
      );
      expect(res.status).toBe(200);
      return JSON.stringify(await h.response(responseId));
    },

    /** The customer picker's options for `user` typing `value`, sorted. */
    async picker(value: string, user: string): Promise<string[]> {
      const res = await harness().interact({
        type: "block_suggestion",
        user: { id: user, team_id: TEAM },
        team: { id: TEAM, domain: "test" },
        api_app_id: "A0KEEPWARM",
        action_id: "customer_search",
        block_id: "customer",
        value,
        view: { id: "V1", team_id: TEAM, type: "modal", callback_id: "touch_modal" },
      });
      return ((res.json as { options: Array<{ text: { text: string } }> }).options ?? []).map((o) => o.text.text).sort();
    },
  };
}
