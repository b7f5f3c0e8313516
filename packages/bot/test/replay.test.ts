import { interactionBody, slackSignature, slashCommandBody } from "@keepwarm/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { ReplayGuard } from "../src/security/replay-guard";
import { blockAction, type Harness, REP, SECRET, startHarness, sweep, viewSubmission } from "./harness";

let h: Harness;
afterEach(async () => h?.close());

/** POST exactly these bytes with exactly these Slack headers, as a replaying attacker or a retrying Slack would. */
async function postRaw(body: string, timestamp: number, extra: Record<string, string> = {}, contentType = "application/x-www-form-urlencoded") {
  const res = await fetch(`${h.url}/slack/events`, {
    method: "POST",
    headers: {
      "content-type": contentType,
      "x-slack-request-timestamp": String(timestamp),
      "x-slack-signature": slackSignature(SECRET, timestamp, body),
      ...extra,
    },
    body,
  });
  return { status: res.status, text: await res.text() };
}

const nowSec = () => Math.floor(Date.now() / 1000);
const touchCount = async () =>
  (
    await h.store.db
      .selectFrom("touchpoints")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .executeTakeFirstOrThrow()
  ).n;
/** Give a wrongly accepted duplicate the time to do its damage before counting. */
const settle = () => new Promise((r) => setTimeout(r, 300));

describe("replays and retries are answered without a second write", () => {
  it("the same signed /touch sent three times, then retried by Slack with a new timestamp, logs one touch and answers once", async () => {
    h = await startHarness({ customers: [{ id: "C-1", name: "Acme Corp" }] });
    const body = slashCommandBody({ command: "/touch", text: "Acme Corp call", response_url: h.fake.responseUrl("t1"), trigger_id: "trigger-t1" });
    const ts = nowSec();
    for (let i = 0; i < 3; i++) expect((await postRaw(body, ts)).status).toBe(200);
    // Slack's own retry: same body, new timestamp and signature, X-Slack-Retry-Num.
    expect((await postRaw(body, ts + 2, { "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout" })).status).toBe(200);
    await h.fake.waitFor(() => h.fake.responses.find((r) => r.id === "t1"));
    await settle();
    expect(await touchCount()).toBe(1);
    expect(h.fake.responses.filter((r) => r.id === "t1")).toHaveLength(1);
    // A new command (Slack gives each its own trigger_id) is new, even with the same words.
    const again = slashCommandBody({ command: "/touch", text: "Acme Corp call", response_url: h.fake.responseUrl("t2"), trigger_id: "trigger-t2" });
    expect((await postRaw(again, nowSec())).status).toBe(200);
    await h.fake.waitFor(() => h.fake.responses.find((r) => r.id === "t2"));
    expect(await touchCount()).toBe(1 + 1);
  });

  it("a modal submission sent twice logs once", async () => {
    h = await startHarness({ customers: [{ id: "C-1", name: "Acme Corp" }] });
    const customer = await h.store.db.selectFrom("customers").select("id").where("external_id", "=", "C-1").executeTakeFirstOrThrow();
    const values = {
      customer: { customer_search: { type: "external_select", selected_option: { text: { type: "plain_text", text: "x" }, value: String(customer.id) } } },
      kind: { kind: { type: "static_select", selected_option: { text: { type: "plain_text", text: "call" }, value: "call" } } },
      date: { date: { type: "datepicker", selected_date: "2026-11-22" } },
      note: { note: { type: "plain_text_input", value: "lunch" } },
    };
    const body = interactionBody(viewSubmission("touch_modal", values, '{"nudgeId":null,"channel":null}'));
    const first = await postRaw(body, nowSec());
    const second = await postRaw(body, nowSec());
    expect([first.status, second.status]).toEqual([200, 200]);
    await settle();
    expect(await touchCount()).toBe(1);
  });

  it("a button click sent twice acts once", async () => {
    h = await startHarness({ customers: [{ id: "C-1", name: "Acme Corp" }] });
    await sweep(h.store);
    await h.bot.delivery.runOnce();
    const click = blockAction(
      { type: "static_select", action_id: "nudge_snooze", selected_option: { text: { type: "plain_text", text: "7 days" }, value: "1:7" } },
      { responseUrl: h.fake.responseUrl("snooze"), user: REP },
    );
    const body = interactionBody(click);
    const ts = nowSec();
    expect((await postRaw(body, ts)).status).toBe(200);
    expect((await postRaw(body, ts)).status).toBe(200);
    await h.fake.waitFor(() => h.fake.responses.find((r) => r.id === "snooze"));
    await settle();
    expect(h.fake.responses.filter((r) => r.id === "snooze")).toHaveLength(1);
    const updates = await h.store.db.selectFrom("outbox").select("id").where("kind", "=", "update").execute();
    expect(updates).toHaveLength(1);
  });

  it("an Events API event retried by Slack is handled once (by event_id, whatever the body)", async () => {
    h = await startHarness({ customers: [{ id: "C-1", name: "Acme Corp" }] });
    const event = (extra: Record<string, unknown>) =>
      JSON.stringify({
        token: "t",
        team_id: "T0TEST",
        api_app_id: "A0KEEPWARM",
        type: "event_callback",
        event_id: "Ev0RETRY",
        event_time: 1,
        event: { type: "app_home_opened", user: REP, channel: "D0REP", tab: "home", event_ts: "1.1" },
        ...extra,
      });
    expect((await postRaw(event({}), nowSec(), {}, "application/json")).status).toBe(200);
    expect((await postRaw(event({ is_ext_shared_channel: false }), nowSec(), { "x-slack-retry-num": "1" }, "application/json")).status).toBe(200);
    await h.fake.waitFor(() => h.fake.callsOf("views.publish")[0]);
    await settle();
    expect(h.fake.callsOf("views.publish")).toHaveLength(1);
  });
});

describe("ReplayGuard", () => {
  it("remembers a key for 10 minutes, then forgets it", () => {
    let now = 0;
    const guard = new ReplayGuard(() => now);
    expect(guard.first("a")).toBe(true);
    expect(guard.first("a")).toBe(false);
    now += 10 * 60_000 - 1;
    expect(guard.first("a")).toBe(false);
    now += 1;
    expect(guard.first("a")).toBe(true);
  });

  it("stays within its size bound, dropping the oldest keys first", () => {
    const guard = new ReplayGuard(() => 0, 60_000, 100);
    for (let i = 0; i < 1000; i++) guard.first(`k${i}`);
    expect(guard.size).toBe(100);
    expect(guard.first("k999")).toBe(false);
    expect(guard.first("k0")).toBe(true);
  });
});
