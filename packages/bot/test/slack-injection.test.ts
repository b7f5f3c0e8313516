import { applyRuleSet, logTouch, runSweep } from "@keepwarm/core";
import { Calendar } from "@keepwarm/rules";
import { DAY_MS } from "@keepwarm/store";
import { postSigned } from "@keepwarm/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { blockAction, type Harness, NOW, REP, SECRET, startHarness, TEAM, viewSubmission } from "./harness";
import { expectNoInjection, HOSTILE, HOSTILE_SHOWN } from "./slack-safety";

let h: Harness;
afterEach(async () => h?.close());

const SHORT = "<!channel> <@UEVIL0001> <https://evil.example|Reset>";
const BOSS = "U0BOSS";

/** A rule whose name, message and action carry hostile text and {{owner}}; it escalates after a day. */
const hostileRules = JSON.stringify({
  rules: [
    {
      id: "quiet",
      name: `Quiet ${SHORT}`,
      enabled: true,
      conditions: { all: [{ fact: "daysSinceLastTouch", operator: "greaterThanInclusive", value: 1 }] },
      nudge: { message: `{{customer.name}}: ask {{owner}} ${SHORT}`, action: HOSTILE, priority: "high", cooldownDays: 7, escalateAfterDays: 1 },
    },
  ],
});

const customerId = async (externalId: string): Promise<number> =>
  (await h.store.db.selectFrom("customers").select("id").where("external_id", "=", externalId).executeTakeFirstOrThrow()).id;

/** Everything keepwarm sent to Slack: Web API calls (messages, updates, views) and response_url answers. */
const everythingSent = () => [...h.fake.calls.filter((c) => /^(chat|views)\./.test(c.method)).map((c) => c.args), ...h.fake.responses.map((r) => r.body)];

describe("hostile data and hostile users, through the real endpoint and delivery", () => {
  it("no ping, foreign mention or link reaches Slack from customer data, notes, reasons, 'logged by', rules or commands", async () => {
    h = await startHarness({
      customers: [
        { id: "C-1", name: `Acme ${HOSTILE}`, segment: HOSTILE },
        { id: "C-2", name: `Acme ${SHORT} Two` },
        { id: "C-3", name: `Globex ${SHORT}` },
        { id: "C-4", name: `Initech ${HOSTILE}` },
      ],
      env: { KEEPWARM_MANAGERS: `${REP}:${BOSS}`, KEEPWARM_DIGEST_THRESHOLD: "10" },
    });
    await applyRuleSet(h.store, hostileRules, { author: HOSTILE, source: "cli", now: NOW - DAY_MS });
    await runSweep(h.store, { calendar: new Calendar("UTC"), now: NOW });
    expect((await h.bot.delivery.runOnce()).delivered).toBe(4);
    const posted = h.fake.allMessages();
    expectNoInjection(posted, [REP]);
    // {{owner}} is a real mention; the data around it shows as typed.
    expect(JSON.stringify(posted[0]?.blocks)).toContain(`ask <@${REP}> &lt;!channel&gt;`);
    expect(posted[0]?.text).toContain(`Acme ${HOSTILE_SHOWN}`);

    // /touch with a hostile note over two lines: kept as typed, quoted line by line, "an email".
    const touch = await h.command("/touch", `C-1 email yesterday first line <!channel>\nsecond line <https://evil.example|x>`);
    expect(touch.status).toBe(200);
    const touchAnswer = String((await h.response(touch.responseId)).text);
    expect(touchAnswer).toContain(":white_check_mark: Logged an email with *Acme");
    expect(touchAnswer).toContain("> first line @channel\n> second line x");
    const notes = await h.store.db.selectFrom("touchpoints").select("note").execute();
    expect(notes).toEqual([{ note: "first line @channel\nsecond line x" }]);

    // A touch imported with a hostile "logged by" and note resolves C-2: the update says who, escaped.
    logTouch(h.store, {
      customerId: await customerId("C-2"),
      kind: "call",
      occurredAt: NOW - 60_000,
      note: HOSTILE,
      loggedBy: HOSTILE,
      source: "import",
      now: NOW,
    });

    // Dismiss C-3 with a hostile reason, through the button and the modal.
    const c3Nudge = (
      await h.store.db
        .selectFrom("nudges")
        .select("id")
        .where("customer_id", "=", await customerId("C-3"))
        .executeTakeFirstOrThrow()
    ).id;
    await h.interact(
      blockAction({ type: "button", action_id: "nudge_dismiss", value: JSON.stringify({ n: c3Nudge }) }, { responseUrl: h.fake.responseUrl("d") }),
    );
    const dismissView = (await h.fake.waitFor(() => h.fake.callsOf("views.open")[0])).args.view as { private_metadata: string };
    const dismissed = await h.interact(
      viewSubmission("dismiss_modal", { reason: { reason: { type: "plain_text_input", value: HOSTILE } } }, dismissView.private_metadata),
    );
    expect(dismissed.status).toBe(200);
    await h.bot.delivery.runOnce();
    const updates = h.fake.callsOf("chat.update").map((c) => JSON.stringify(c.args));
    expect(updates.some((u) => u.includes(`Dismissed by <@${REP}>: &lt;!channel&gt;`))).toBe(true);
    expect(updates.some((u) => u.includes("logged by &lt;!channel&gt;"))).toBe(true);

    // Answers to people: lookups, ambiguity buttons, not found, quiet, rules, stats, unknown subcommands.
    for (const [command, text] of [
      ["/keepwarm", "customer C-2"],
      ["/keepwarm", "customer C-1"],
      ["/keepwarm", `customer ${SHORT}`],
      ["/keepwarm", "quiet"],
      ["/keepwarm", "rules"],
      ["/keepwarm", "stats"],
      ["/keepwarm", `stats ${SHORT}`],
      ["/keepwarm", `${SHORT}`],
      ["/touch", "Acme call"],
      ["/touch", `${SHORT} call`],
      ["/touch", `C-1 call 2099-01-01 ${SHORT}`],
    ] as const) {
      const sent = await h.command(command, text);
      expect(sent.status).toBe(200);
      await h.response(sent.responseId);
    }
    const ambiguous = h.fake.responses.find((r) => JSON.stringify(r.body).includes("touch_choose"));
    expect(JSON.stringify(ambiguous?.body)).toContain("Acme &lt;!channel&gt;");

    // The App Home of the rep.
    const homeEvent = {
      token: "t",
      team_id: TEAM,
      api_app_id: "A0KEEPWARM",
      type: "event_callback",
      event_id: "EvHome",
      event_time: 1,
      event: { type: "app_home_opened", user: REP, channel: "D0REP", tab: "home", event_ts: "1.1" },
    };
    await postSigned(`${h.url}/slack/events`, JSON.stringify(homeEvent), { secret: SECRET, contentType: "application/json" });
    await h.fake.waitFor(() => h.fake.callsOf("views.publish")[0]);

    // Two days on, C-4's nudge is still open: it is escalated to the rep's manager.
    await runSweep(h.store, { calendar: new Calendar("UTC"), now: NOW + 2 * DAY_MS });
    h.clock.advance(2 * DAY_MS);
    expect((await h.bot.delivery.runOnce()).escalated).toBe(1);
    expect(h.fake.messages.get("D0BOSS")?.[0]?.text).toContain(`*Initech ${HOSTILE_SHOWN}`);

    expectNoInjection(everythingSent(), [REP, BOSS]);
  });
});
