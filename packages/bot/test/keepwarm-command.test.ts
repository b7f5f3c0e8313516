import { defaultRulesText } from "@keepwarm/rules";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { splitRuleText } from "../src/blocks/modals";
import { countRows, type Harness, NOW, REP, startHarness, sweep, viewSubmission } from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    customers: [
      { id: "C-1", name: "Acme Corp", quietDays: 45 },
      { id: "C-2", name: "Globex", quietDays: 5 },
      { id: "C-3", name: "Initech", owner: "U0OTHER", quietDays: 90 },
    ],
  });
  await sweep(h.store);
  await h.store.db
    .insertInto("touchpoints")
    .values({ customer_id: 2, kind: "call", occurred_at: NOW - 3_600_000, logged_at: NOW, logged_by: "U0REP", note: "kickoff", source: "slack" })
    .execute();
  await h.store.db
    .insertInto("nps_responses")
    .values([
      { customer_id: 1, score: 9, responded_at: NOW - 40 * 86_400_000, comment: null },
      { customer_id: 1, score: 5, responded_at: NOW - 2 * 86_400_000, comment: null },
    ])
    .execute();
});
afterAll(async () => h.close());

async function keepwarm(text: string, user = REP): Promise<string> {
  const res = await h.command("/keepwarm", text, user);
  expect(res.status).toBe(200);
  const answer = await h.response(res.responseId);
  expect(answer.response_type).toBe("ephemeral");
  return String(answer.text);
}

describe("/keepwarm", () => {
  it("help lists the subcommands; an unknown one says so", async () => {
    expect(await keepwarm("help")).toContain("/keepwarm customer &lt;name or id&gt;");
    expect(await keepwarm("")).toContain("/keepwarm quiet");
    expect(await keepwarm("frobnicate <@U1>")).toContain('Unknown subcommand "frobnicate"');
  });

  it("quiet lists my customers without a touch in 30+ days, quietest first", async () => {
    const text = await keepwarm("quiet");
    expect(text).toContain("*Acme Corp* (C-1): 45 days");
    expect(text).not.toContain("Globex");
    expect(text).not.toContain("Initech");
  });

  it("customer shows owner, NPS, last touches and open nudges", async () => {
    const text = await keepwarm("customer acme");
    expect(text).toContain("*Acme Corp* (C-1)");
    expect(text).toContain("Owner: <@U0REP>");
    expect(text).toContain("NPS: 5 (2026-11-21) ← 9");
    // The default rules' health block: the score, its breakdown, and why it moved (NPS 9 → 5 in the last 30 days).
    expect(text).toMatch(
      /\nHealth \d+\/100 \([A-F]\): touch recency \d+ × 44 %, NPS 10 × 31 %, buying trend left out \(no value\), met in person \d+ × 25 %\n/,
    );
    expect(text).toMatch(/\n30 days ago \d+ \(−\d+\): NPS promoter → detractor \(−28\.1 points\)/);
    expect(text).toMatch(/Open nudges:\n• .*Never touched/);
    expect(await keepwarm("customer globex")).toContain("call today by <@U0REP>: kickoff");
    expect(await keepwarm("customer nosuchthing")).toContain('No customer matches "nosuchthing"');
  });

  it("stats shows quiet customers, touches this week and open nudges", async () => {
    const text = await keepwarm("stats");
    expect(text).toContain("Quiet customers (30+ days): *1*");
    expect(text).toContain("Touches this week (since 2026-11-23): *1*");
    expect(text).toContain("Open nudges: *1*");
  });

  it("rules summarises the active version", async () => {
    const text = await keepwarm("rules");
    expect(text).toMatch(/\*Rules v1\* by keepwarm on \d{4}-\d{2}-\d{2}: 4 of 4 enabled/);
    expect(text).toContain("`no-contact-enterprise`");
  });

  it("rules edit is refused politely to non-admins", async () => {
    expect(await keepwarm("rules edit")).toContain("only keepwarm admins");
    expect(h.fake.callsOf("views.open").filter((c) => (c.args.view as { callback_id: string }).callback_id === "rules_edit_modal")).toHaveLength(0);
  });

  it("rules edit opens the JSON for admins; errors show in the modal; a valid file becomes a new version and is announced", async () => {
    await h.command("/keepwarm", "rules edit", "U0ADMIN");
    const open = await h.fake.waitFor(() =>
      h.fake.callsOf("views.open").find((c) => (c.args.view as { callback_id: string }).callback_id === "rules_edit_modal"),
    );
    const view = open.args.view as { private_metadata: string; blocks: Array<{ block_id?: string; element?: { initial_value: string } }> };
    const parts = view.blocks.filter((b) => b.block_id?.startsWith("rules_part_"));
    const original = parts.map((b) => b.element?.initial_value ?? "").join("\n");
    expect(JSON.parse(original)).toEqual(JSON.parse(defaultRulesText()));
    // As Slack returns it: one value per input box, each at most 3000 characters.
    let meta = view.private_metadata;
    const values = (text: string) => {
      const split = splitRuleText(text) ?? [];
      meta = JSON.stringify({ parts: split.length });
      return Object.fromEntries(split.map((part, i) => [`rules_part_${i}`, { json: { type: "plain_text_input", value: part } }]));
    };
    expect(parts.length).toBe(JSON.parse(meta).parts);

    const typo = original.replace('"daysSinceLastTouch"', '"daysSinceLastTuch"');
    const bad = await h.interact(viewSubmission("rules_edit_modal", values(typo), meta, "U0ADMIN"));
    expect((bad.json as { response_action: string }).response_action).toBe("errors");
    expect(JSON.stringify(bad.json)).toContain('unknown fact \\"daysSinceLastTuch\\" (did you mean \\"daysSinceLastTouch\\"?)');
    const notJson = await h.interact(viewSubmission("rules_edit_modal", values("{ nope"), meta, "U0ADMIN"));
    expect((notJson.json as { response_action: string }).response_action).toBe("errors");
    const intruder = await h.interact(viewSubmission("rules_edit_modal", values(original), meta, REP));
    expect(JSON.stringify(intruder.json)).toContain("Only KEEPWARM_ADMINS");
    expect(await countRows(h.store, "rule_sets")).toBe(1);

    const edited = JSON.stringify({ ...JSON.parse(original), description: "edited in Slack" }, null, 2);
    const ok = await h.interact(viewSubmission("rules_edit_modal", values(edited), meta, "U0ADMIN"));
    expect(ok.status).toBe(200);
    // The preview comes first (packages/bot/test/rules-edit.test.ts covers it); saving is the confirmation.
    const review = ok.json as { response_action: string; view: { callback_id: string; private_metadata: string } };
    expect(review.response_action).toBe("update");
    expect(await countRows(h.store, "rule_sets")).toBe(1);
    await h.interact(viewSubmission(review.view.callback_id, {}, review.view.private_metadata, "U0ADMIN"));
    const row = await h.store.db.selectFrom("rule_sets").select(["id", "author", "source"]).where("active", "=", 1).executeTakeFirst();
    expect(row).toEqual({ id: 2, author: "U0ADMIN", source: "slack" });
    const announce = await h.fake.waitFor(() => h.fake.callsOf("chat.postMessage").find((c) => String(c.args.text).includes("saved rules *v2*")));
    expect(announce.args.channel).toBe("U0ADMIN");
    expect(String(announce.args.text)).toContain("from Slack: no rule changes.");
  });

  it("rules and stats flag a rule whose nudges are mostly dismissed, with the evidence, escaped", async () => {
    const day = 86_400_000;
    await h.store.db
      .insertInto("nudges")
      .values(
        Array.from({ length: 20 }, (_, i) => ({
          rule_id: "no-contact",
          rule_set_version: 1,
          customer_id: 3,
          status: "dismissed" as const,
          priority: 2,
          explanation: "why",
          message: "message",
          facts: "{}",
          held_out: 0,
          resolve_on_touch: 1,
          cooldown_days: 14,
          destination: "owner",
          created_at: NOW - (30 + i) * day,
          updated_at: NOW - (30 + i) * day,
          delivered_at: NOW - (30 + i) * day,
          closed_at: NOW - (29 + i) * day,
          close_reason: "dismissed",
          close_note: i < 12 ? "<!channel> seasonal" : null,
        })),
      )
      .execute();
    const text = await keepwarm("rules");
    expect(text).toContain("*Noise, last 90 days*");
    expect(text).toContain(":warning: `no-contact` looks like noise (a tuning proposal: `keepwarm rules suggest no-contact`)");
    expect(text).toContain('100% of 20 settled nudges were noise: 100% dismissed ("&lt;!channel&gt; seasonal" 12, "no reason" 8)');
    expect(text).not.toContain("<!channel>");
    expect(await keepwarm("stats")).toContain(":warning: `no-contact` looks like noise");
  });
});
