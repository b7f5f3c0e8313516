import { afterEach, describe, expect, it } from "vitest";
import { blockAction, type Harness, startHarness, sweep } from "./harness";

/** A form Slack refuses to open (the 3 s trigger ran out) is never a silent click. */
let h: Harness;
afterEach(async () => h?.close());

describe("a form that cannot open", () => {
  it("/touch alone with an expired trigger answers the user with an ephemeral line saying so", async () => {
    h = await startHarness({ customers: [{ id: "C-1", name: "Acme Corp" }] });
    h.fake.failNext("views.open", 1, { error: "expired_trigger_id" });
    const sent = await h.command("/touch", "");
    expect(sent.status).toBe(200);
    const answer = await h.response(sent.responseId);
    expect(answer).toMatchObject({ response_type: "ephemeral" });
    expect(String(answer.text)).toContain("The form could not open: Slack allows 3 seconds");
  });

  it("a Log touch or Dismiss button whose form fails says why under the message, and nothing changes", async () => {
    h = await startHarness({ customers: [{ id: "C-1", name: "Acme Corp" }] });
    await sweep(h.store);
    h.fake.failNext("views.open", 2, { error: "expired_trigger_id" });
    await h.interact(blockAction({ type: "button", action_id: "nudge_log_touch", value: '{"n":1}' }, { responseUrl: h.fake.responseUrl("touch") }));
    await h.interact(blockAction({ type: "button", action_id: "nudge_dismiss", value: '{"n":1}' }, { responseUrl: h.fake.responseUrl("dismiss") }));
    for (const id of ["touch", "dismiss"]) {
      const answer = await h.response(id);
      expect(answer).toMatchObject({ response_type: "ephemeral", replace_original: false });
      expect(String(answer.text)).toContain("The form could not open");
    }
    const nudge = await h.store.db.selectFrom("nudges").select("status").executeTakeFirstOrThrow();
    expect(nudge.status).toBe("open");
  });

  it("any other refusal is named, escaped", async () => {
    h = await startHarness({ customers: [{ id: "C-1", name: "Acme Corp" }] });
    h.fake.failNext("views.open", 1, { error: "<!channel>_invalid" });
    const sent = await h.command("/touch", "");
    const answer = await h.response(sent.responseId);
    expect(String(answer.text)).toContain("Slack said `&lt;!channel&gt;_invalid`");
  });
});
