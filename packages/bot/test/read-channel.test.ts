import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { READ_CHANNEL_TTL_MS } from "../src/security/read-channel";
import { STRANGER_TEXT } from "../src/security/access";
import { asUser } from "./as-user";
import { type Harness, NOW, startHarness, sweep, viewSubmission } from "./harness";

/**
 * KEEPWARM_READ_CHANNEL: the members of #cs-team read every customer and act only as
 * their own role allows. READER owns nothing; REP_C owns Charlie and is a member too.
 */
const REP_A = "U0REPA";
const REP_C = "U0REPC";
const READER = "U0READER";
const OUTSIDER = "U0OUTSIDER";
const CS_TEAM = "C0CSTEAM";

let h: Harness;
let now = NOW;
beforeAll(async () => {
  h = await startHarness({
    env: { KEEPWARM_READ_CHANNEL: "#cs-team" },
    clockNow: () => now,
    customers: [
      { id: "C-A1", name: "Alpha One", owner: REP_A },
      { id: "C-A2", name: "Acme A", owner: REP_A },
      { id: "C-C1", name: "Charlie One", owner: REP_C },
      { id: "C-N", name: "Nobody Inc", owner: null },
    ],
  });
  h.fake.channelMembers.set(CS_TEAM, [READER, REP_C, "U0BOT"]);
  await sweep(h.store);
});
afterAll(async () => h.close());

const { answer, customerOf, nudgeOf, touchesOf, snooze, picker } = asUser(() => h);

describe("members of KEEPWARM_READ_CHANNEL read every customer", () => {
  it("a member who owns nothing looks up, lists and picks any customer, unowned included", async () => {
    expect(await answer("/keepwarm", "customer C-A1", READER)).toContain("*Alpha One* (C-A1)");
    expect(await answer("/keepwarm", "customer Nobody", READER)).toContain("Owner: none");
    const quiet = await answer("/keepwarm", "quiet", READER);
    expect(quiet).toContain("All quiet customers* (4");
    for (const shown of ["Alpha One", "Acme A", "Charlie One", "Nobody Inc"]) expect(quiet).toContain(shown);
    expect(await picker("One", READER)).toEqual(["Alpha One (C-A1)", "Charlie One (C-C1)"]);
    expect(await answer("/keepwarm", "stats", READER)).not.toContain(STRANGER_TEXT);
  });

  it("but acts on no one else's nudge: buttons, forged forms and /touch are refused and change nothing", async () => {
    expect(await snooze("C-A1", READER)).toContain("customer of another rep");
    expect((await nudgeOf("C-A1")).status).toBe("open");
    const { id } = await nudgeOf("C-A1");
    const forgedDismiss = await h.interact(viewSubmission("dismiss_modal", {}, JSON.stringify({ nudgeId: id }), READER));
    expect(JSON.stringify(forgedDismiss.json)).toContain("customer of another rep");
    expect((await nudgeOf("C-A1")).status).toBe("open");
    const forgedTouch = await h.interact(
      viewSubmission(
        "touch_modal",
        {
          customer: {
            customer_search: {
              type: "external_select",
              selected_option: { text: { type: "plain_text", text: "x" }, value: String((await customerOf("C-A1")).id) },
            },
          },
          kind: { kind: { type: "static_select", selected_option: { text: { type: "plain_text", text: "call" }, value: "call" } } },
          date: { date: { type: "datepicker", selected_date: "2026-11-22" } },
          note: { note: { type: "plain_text_input", value: null } },
        },
        '{"nudgeId":null,"channel":null}',
        READER,
      ),
    );
    expect(forgedTouch.json).toMatchObject({ response_action: "errors" });
    expect(await answer("/touch", "C-A1 call", READER)).toContain(STRANGER_TEXT);
    expect(await touchesOf("C-A1")).toBe(0);
  });

  it("a rep in the channel reads everyone's customers and still acts on their own only", async () => {
    expect(await answer("/keepwarm", "customer C-A1", REP_C)).toContain("*Alpha One* (C-A1)");
    expect(await snooze("C-A1", REP_C)).toContain("customer of another rep");
    expect((await nudgeOf("C-A1")).status).toBe("open");
    expect(await snooze("C-C1", REP_C)).toContain("Snoozed for 3 days");
    expect((await nudgeOf("C-C1")).status).toBe("snoozed");
  });

  it("someone outside the channel is still a stranger; a rep outside it sees their own only", async () => {
    for (const text of ["customer C-A1", "quiet"]) expect(await answer("/keepwarm", text, OUTSIDER)).toContain(STRANGER_TEXT);
    expect(await picker("A", OUTSIDER)).toEqual([]);
    expect(await answer("/keepwarm", "customer C-C1", REP_A)).not.toContain("Charlie One");
    expect(await picker("A", REP_A)).toEqual(["Acme A (C-A2)", "Alpha One (C-A1)"]);
  });

  it("resolves the channel name once and asks for its members once per TTL; leaving the channel ends read access", async () => {
    expect(h.fake.callsOf("conversations.list")).toHaveLength(1);
    expect(h.fake.callsOf("conversations.members").map((c) => c.args.channel)).toEqual([CS_TEAM]);

    h.fake.channelMembers.set(CS_TEAM, [REP_C]);
    now += READ_CHANNEL_TTL_MS - 1000;
    expect(await answer("/keepwarm", "customer C-A1", READER)).toContain("*Alpha One* (C-A1)");
    now += 2000;
    expect(await answer("/keepwarm", "customer C-A1", READER)).toContain(STRANGER_TEXT);
    expect(h.fake.callsOf("conversations.members")).toHaveLength(2);
    expect(h.fake.callsOf("conversations.list")).toHaveLength(1);
  });

  it("when Slack cannot list the members, the last known list holds", async () => {
    h.fake.channelMembers.set(CS_TEAM, [READER]);
    now += READ_CHANNEL_TTL_MS;
    h.fake.failNext("conversations.members", 1, { status: 503 });
    // The refresh failed: the last list (REP_C only) still decides.
    expect(await answer("/keepwarm", "customer C-A1", READER)).toContain(STRANGER_TEXT);
    expect(await answer("/keepwarm", "customer C-A1", REP_C)).toContain("*Alpha One* (C-A1)");
  });
});
