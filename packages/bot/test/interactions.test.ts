import { runCli } from "@keepwarm/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { blockAction, countRows, type Harness, NOW, REP, startHarness, sweep, viewSubmission, waitUntil } from "./harness";

let h: Harness;
afterEach(async () => h?.close());

const nudge = (id = 1) =>
  h.store.db
    .selectFrom("nudges")
    .select(["status", "snoozed_until as snoozedUntil", "closed_by as closedBy", "close_note as closeNote"])
    .where("id", "=", id)
    .executeTakeFirstOrThrow();
const messageBlocks = () => JSON.stringify(h.fake.allMessages()[0]?.blocks);

async function delivered(customers = [{ id: "C-1", name: "Acme Corp" }]) {
  h = await startHarness({ customers });
  await sweep(h.store);
  await h.bot.delivery.runOnce();
  expect(h.fake.allMessages()).toHaveLength(customers.length);
}

const touchValues = (customerId: string, kind: string, date: string, note: string | null) => ({
  customer: { customer_search: { type: "external_select", selected_option: { text: { type: "plain_text", text: "x" }, value: customerId } } },
  kind: { kind: { type: "static_select", selected_option: { text: { type: "plain_text", text: kind }, value: kind } } },
  date: { date: { type: "datepicker", selected_date: date } },
  note: { note: { type: "plain_text_input", value: note } },
});

describe("nudge buttons", () => {
  it("Snooze 7 days snoozes the nudge and updates the message with who and until when", async () => {
    await delivered();
    const res = await h.interact(
      blockAction(
        { type: "static_select", action_id: "nudge_snooze", selected_option: { text: { type: "plain_text", text: "7 days" }, value: "1:7" } },
        { responseUrl: h.fake.responseUrl("s") },
      ),
    );
    expect(res.status).toBe(200);
    expect(String((await h.response("s")).text)).toContain("Snoozed for 7 days");
    expect(await nudge()).toMatchObject({ status: "snoozed", snoozedUntil: NOW + 7 * 86_400_000 });
    await h.bot.delivery.runOnce();
    expect(messageBlocks()).toContain("😴 Snoozed by <@U0REP> until 2026-11-30");
    expect(messageBlocks()).not.toContain("nudge_snooze");
  });

  it("Log touch opens the modal prefilled with the customer, and submitting it resolves the nudge and updates the message", async () => {
    await delivered();
    await h.interact(blockAction({ type: "button", action_id: "nudge_log_touch", value: '{"n":1}' }, { responseUrl: h.fake.responseUrl("l") }));
    const open = await h.fake.waitFor(() => h.fake.callsOf("views.open")[0]);
    const view = open.args.view as {
      callback_id: string;
      private_metadata: string;
      blocks: Array<{ element: { initial_option?: { value: string; text: { text: string } } } }>;
    };
    expect(view.callback_id).toBe("touch_modal");
    expect(view.blocks[0]?.element.initial_option?.text.text).toBe("Acme Corp (C-1)");
    const customerId = view.blocks[0]?.element.initial_option?.value ?? "";
    const res = await h.interact(viewSubmission("touch_modal", touchValues(customerId, "meeting", "2026-11-22", "lunch"), view.private_metadata));
    expect(res.status).toBe(200);
    expect(res.text).toBe("");
    expect(await nudge()).toMatchObject({ status: "resolved", closedBy: REP });
    const touch = await h.store.db.selectFrom("touchpoints").select(["kind", "source", "note"]).executeTakeFirst();
    expect(touch).toEqual({ kind: "meeting", source: "modal", note: "lunch" });
    await h.bot.delivery.runOnce();
    expect(messageBlocks()).toContain("✅ meeting logged by <@U0REP>");
  });

  it("the touch modal shows field errors for a future date or a missing customer and saves nothing", async () => {
    await delivered();
    const future = await h.interact(viewSubmission("touch_modal", touchValues("1", "call", "2026-12-25", null), '{"nudgeId":null,"channel":null}'));
    expect(future.json).toEqual({ response_action: "errors", errors: { date: "That date is in the future: log touches that happened." } });
    const missing = await h.interact(viewSubmission("touch_modal", touchValues("999", "call", "2026-11-20", null), "garbage"));
    expect(missing.json).toMatchObject({ response_action: "errors", errors: { customer: "Choose a customer from the list." } });
    const badKind = await h.interact(viewSubmission("touch_modal", touchValues("1", "telepathy", "2026-11-20", null), ""));
    expect((badKind.json as { response_action: string }).response_action).toBe("errors");
    expect(await countRows(h.store, "touchpoints")).toBe(0);
  });

  it("Dismiss opens a reason modal; submitting it dismisses with the reason and updates the message", async () => {
    await delivered();
    await h.interact(blockAction({ type: "button", action_id: "nudge_dismiss", value: '{"n":1}' }, { responseUrl: h.fake.responseUrl("d") }));
    const open = await h.fake.waitFor(() => h.fake.callsOf("views.open")[0]);
    const view = open.args.view as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe("dismiss_modal");
    const res = await h.interact(
      viewSubmission("dismiss_modal", { reason: { reason: { type: "plain_text_input", value: "churning anyway" } } }, view.private_metadata),
    );
    expect(res.status).toBe(200);
    expect(await nudge()).toMatchObject({ status: "dismissed", closedBy: REP, closeNote: "churning anyway" });
    await h.bot.delivery.runOnce();
    expect(messageBlocks()).toContain("🚫 Dismissed by <@U0REP>: churning anyway");
  });

  it("answers gracefully for a nudge that no longer exists, one already closed, and a tampered payload", async () => {
    await delivered();
    await h.interact(blockAction({ type: "button", action_id: "nudge_log_touch", value: '{"n":4242}' }, { responseUrl: h.fake.responseUrl("gone") }));
    expect(String((await h.response("gone")).text)).toContain("no longer exists");
    await h.interact(blockAction({ type: "button", action_id: "nudge_dismiss", value: "not json" }, { responseUrl: h.fake.responseUrl("junk") }));
    expect(String((await h.response("junk")).text)).toContain("no longer exists");
    await h.interact(
      blockAction(
        { type: "static_select", action_id: "nudge_snooze", selected_option: { text: { type: "plain_text", text: "x" }, value: "1:5" } },
        { responseUrl: h.fake.responseUrl("bad-days") },
      ),
    );
    expect(String((await h.response("bad-days")).text)).toMatch(/snooze for 3, 7, 14, 30 days/);
    await h.interact(
      blockAction(
        { type: "static_select", action_id: "nudge_snooze", selected_option: { text: { type: "plain_text", text: "x" }, value: "1:7; DROP" } },
        { responseUrl: h.fake.responseUrl("inj") },
      ),
    );
    expect(String((await h.response("inj")).text)).toContain("not valid");
    await h.command("/touch", "Acme Corp call");
    await waitUntil(async () => (await nudge()).status === "resolved");
    await h.interact(
      blockAction(
        { type: "static_select", action_id: "nudge_snooze", selected_option: { text: { type: "plain_text", text: "x" }, value: "1:3" } },
        { responseUrl: h.fake.responseUrl("closed") },
      ),
    );
    expect(String((await h.response("closed")).text)).toContain("already closed: ✅ call logged by <@U0REP>");
    const dismissAgain = await h.interact(viewSubmission("dismiss_modal", {}, '{"nudgeId":1}'));
    expect(dismissAgain.json).toMatchObject({ response_action: "errors" });
    expect((await nudge()).status).toBe("resolved");
  });

  it("the customer picker searches customers by name or id", async () => {
    await delivered([
      { id: "C-1", name: "Acme Corp" },
      { id: "C-2", name: "Globex" },
    ]);
    const res = await h.interact({
      type: "block_suggestion",
      action_id: "customer_search",
      block_id: "customer",
      value: "glo",
      team: { id: "T0TEST" },
      user: { id: REP, team_id: "T0TEST" },
      api_app_id: "A0KEEPWARM",
      view: { id: "V1", type: "modal", team_id: "T0TEST" },
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ options: [{ text: { type: "plain_text", text: "Globex (C-2)" }, value: "2" }] });
  });
});

describe("message updates on resolution from every source", () => {
  it("a /touch resolves the nudge and its message says so", async () => {
    await delivered();
    const res = await h.command("/touch", "Acme Corp email");
    expect(String((await h.response(res.responseId)).text)).toContain("Resolved 1 nudge");
    await h.bot.delivery.runOnce();
    expect(messageBlocks()).toContain("✅ email logged by <@U0REP>");
  });

  it("a `keepwarm touch` in another process resolves it; the bot updates the message", async () => {
    await delivered();
    const cli = await runCli(["touch", "Acme Corp", "visit", "--by", "U0CLI"], { KEEPWARM_DB: h.store.location });
    expect(cli.stderr).toBe("");
    expect(cli.code).toBe(0);
    // The other process stamps its outbox rows with the real clock.
    h.clock.t = Date.now() + 1000;
    await h.bot.delivery.runOnce();
    expect(h.fake.callsOf("chat.update")).toHaveLength(1);
    expect(messageBlocks()).toContain("✅ visit logged by <@U0CLI>");
  });

  it("a CSV import of touches resolves it; the bot updates the message", async () => {
    await delivered();
    const file = h.file(
      "touches.csv",
      `customer_id,occurred_at,kind,note,logged_by\nC-1,${new Date(Date.now() - 3_600_000).toISOString()},call,from the CRM,U0CRM\n`,
    );
    const cli = await runCli(["import", "touches", file], { KEEPWARM_DB: h.store.location });
    expect(cli.code, cli.stderr).toBe(0);
    // The other process stamps its outbox rows with the real clock.
    h.clock.t = Date.now() + 1000;
    await h.bot.delivery.runOnce();
    expect(messageBlocks()).toContain("✅ call logged by <@U0CRM>");
  });
});

describe("App Home", () => {
  it("publishes the user's open nudges, most urgent first, with buttons, and quiet customers", async () => {
    h = await startHarness({
      customers: [
        { id: "C-1", name: "Acme Corp", segment: "enterprise", quietDays: 20 },
        { id: "C-2", name: "Globex", quietDays: 60 },
        { id: "C-3", name: "Other Rep Co", owner: "U0OTHER" },
      ],
    });
    await sweep(h.store);
    const event = {
      type: "event_callback",
      team_id: "T0TEST",
      api_app_id: "A0KEEPWARM",
      event_id: "Ev1",
      event_time: 1,
      event: { type: "app_home_opened", user: REP, channel: "D0REP", tab: "home", event_ts: "1.1" },
    };
    const { postSigned } = await import("@keepwarm/testkit");
    const sent = await postSigned(`${h.url}/slack/events`, JSON.stringify(event), { secret: "test-signing-secret", contentType: "application/json" });
    expect(sent.status).toBe(200);
    const publish = await h.fake.waitFor(() => h.fake.callsOf("views.publish")[0]);
    expect(publish.args.user_id).toBe(REP);
    const text = JSON.stringify(publish.args.view);
    expect(text).toContain("Your open nudges (2)");
    expect(text.indexOf("Acme Corp")).toBeLessThan(text.indexOf("Globex"));
    expect(text).not.toContain("Other Rep Co");
    expect(text).toContain("nudge_log_touch");
    // Acme is nudged at 14 days (enterprise) but only "quiet" from 30.
    expect(text).toContain("Quiet customers (1)");
    expect(text).toContain("60 days since last touch");
  });

  it("a button clicked in App Home acts and refreshes the Home view", async () => {
    h = await startHarness({ customers: [{ id: "C-1", name: "Acme Corp" }] });
    await sweep(h.store);
    const res = await h.interact(
      blockAction(
        { type: "static_select", action_id: "nudge_snooze", selected_option: { text: { type: "plain_text", text: "3 days" }, value: "1:3" } },
        { home: true },
      ),
    );
    expect(res.status).toBe(200);
    const publish = await h.fake.waitFor(() => h.fake.callsOf("views.publish")[0]);
    expect(JSON.stringify(publish.args.view)).toContain("Your open nudges (0)");
    expect((await nudge()).status).toBe("snoozed");
  });
});
