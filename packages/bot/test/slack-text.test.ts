import { computeStats, type EscalationDetails, type NudgeView, type RuleDiff, type RulePreview } from "@keepwarm/core";
import { Calendar } from "@keepwarm/rules";
import { type Customer, DAY_MS, openStore } from "@keepwarm/store";
import { migratedDatabase } from "@keepwarm/store/testing";
import { tempDir } from "@keepwarm/testkit";
import { describe, expect, it } from "vitest";
import { escalationMessage } from "../src/blocks/escalation-message";
import { homeView } from "../src/blocks/home-view";
import { customerOption, dismissModal, rulesEditModal, touchModal } from "../src/blocks/modals";
import { compactNudgeBlocks, contextLine, nudgeBlocks, renderMessage } from "../src/blocks/nudge-message";
import { ruleChangeAnnouncement, rulesConfirmView, rulesNoticeView } from "../src/blocks/rules-review";
import { statsMessage } from "../src/blocks/stats-view";
import { clip, days, escapeKeepingMentions, escapeMrkdwn, mention, plainCommandText, touchWithArticle } from "../src/slack-text";
import { NOW } from "./harness";
import { expectNoInjection, HOSTILE, HOSTILE_SHOWN } from "./slack-safety";

const OWNER = "U0OWNER";
const H = HOSTILE;

/** A nudge with the hostile string in every field that comes from data or people. */
const nudge = (over: Partial<NudgeView> = {}): NudgeView => ({
  nudgeId: 7,
  ruleId: H,
  status: "open",
  priority: 3,
  explanation: H,
  // As the planner stores it: {{owner}} rendered as a mention, {{customer.name}} as the raw name.
  message: `Call <@${OWNER}> about ${H}`,
  action: H,
  facts: JSON.stringify({ daysSinceLastTouch: 1, npsLatest: 3 }),
  destination: "owner",
  closeReason: null,
  closedBy: null,
  closeNote: null,
  snoozedUntil: null,
  snoozedBy: null,
  slackChannel: null,
  slackTs: null,
  createdAt: NOW,
  customerId: 1,
  customerExternalId: H,
  customerName: H,
  segment: H,
  tier: H,
  ownerSlackId: OWNER,
  touchKind: null,
  claimedBy: null,
  ...over,
});

/** Every state a nudge message can show, with people and notes that are hostile or valid ids. */
const STATES: NudgeView[] = [
  nudge(),
  nudge({ status: "resolved", closedBy: H, touchKind: "email" }),
  nudge({ status: "resolved", closedBy: "U0CLOSER", touchKind: H }),
  nudge({ status: "dismissed", closedBy: H, closeNote: H }),
  nudge({ status: "dismissed", closedBy: "U0CLOSER", closeNote: H }),
  nudge({ status: "snoozed", snoozedBy: H, snoozedUntil: NOW + 3 * DAY_MS }),
  nudge({ status: "expired", closeReason: "rule-removed" }),
  nudge({ ownerSlackId: H, message: `Call <@${H}>` }),
  nudge({ ownerSlackId: null }),
];
const ALLOWED = [OWNER, "U0CLOSER", "U0BOSS"];

const customer: Customer = {
  id: 1,
  external_id: H,
  name: H,
  segment: H,
  lifecycle_stage: H,
  owner_slack_id: OWNER,
  tier: H,
  since_at: NOW,
  renewal_at: null,
  loyalty_member: 0,
  churned_at: null,
  attributes: "{}",
  created_at: NOW,
  updated_at: NOW,
} as Customer;

describe("slack-text: the one way to put text into Slack", () => {
  it("escapes &, < and > and nothing else", () => {
    expect(escapeMrkdwn("a & b <!channel> *c* > d")).toBe("a &amp; b &lt;!channel&gt; *c* &gt; d");
  });

  it("builds mentions only from valid Slack user ids; anything else is escaped text", () => {
    expect(mention("U0123ABCD")).toBe("<@U0123ABCD>");
    expect(mention("W0123ABCD")).toBe("<@W0123ABCD>");
    expect(mention("alice")).toBe("alice");
    expect(mention("<!channel>")).toBe("&lt;!channel&gt;");
    expect(mention("U0123|x><!here")).toBe("U0123|x&gt;&lt;!here");
  });

  it("keeps the mentions of the given valid ids only, and only those keepwarm wrote", () => {
    const text = `Call <@${OWNER}> and <@UEVIL0001> about &lt;@${OWNER}&gt;`;
    expect(escapeKeepingMentions(text, [OWNER, null, "<!channel>"])).toBe(`Call <@${OWNER}> and &lt;@UEVIL0001&gt; about &amp;lt;@${OWNER}&amp;gt;`);
    expect(escapeKeepingMentions(text, [])).not.toContain("<");
  });

  it("clips without cutting an entity, a mention or a surrogate pair", () => {
    const escaped = escapeMrkdwn(`${"a".repeat(10)}>>`);
    for (let max = 2; max < escaped.length; max++) {
      const cut = clip(escaped, max);
      expect(cut.length).toBeLessThanOrEqual(max);
      expect(cut.endsWith("…")).toBe(true);
      expect(cut.slice(0, -1)).toMatch(/^a*(&gt;)*$/);
    }
    expect(clip(`${"a".repeat(10)}<@U0123ABCD> b`, 15)).toBe(`${"a".repeat(10)}…`);
    expect(clip("ab😀cd", 4)).toBe("ab…");
    expect(clip("short", 10)).toBe("short");
  });

  it("says 1 day, an email, a touch", () => {
    expect(days(1)).toBe("1 day");
    expect(days(0)).toBe("0 days");
    expect(days(12)).toBe("12 days");
    expect(touchWithArticle("email")).toBe("an email");
    expect(touchWithArticle("call")).toBe("a call");
    expect(touchWithArticle("other")).toBe("a touch");
  });

  it("reads slash-command text back to plain words", () => {
    expect(plainCommandText("Acme &amp; Co <@U0123ABCD|bob> <!here> <https://x.example|site>")).toBe("Acme & Co @bob @here site");
  });
});

describe("every message, view and answer builder, with hostile strings in every field", () => {
  it("nudge messages (single, digest, every state, notification text) carry no ping, foreign mention or link", () => {
    for (const view of STATES) {
      expectNoInjection(renderMessage([view]), ALLOWED);
      expectNoInjection(nudgeBlocks(view), ALLOWED);
      expectNoInjection(compactNudgeBlocks(view), ALLOWED);
      expectNoInjection(contextLine(view), ALLOWED);
    }
    expectNoInjection(renderMessage(STATES), ALLOWED);
    const single = renderMessage([nudge()]);
    expect(single.text).toContain(HOSTILE_SHOWN);
    expect(JSON.stringify(single.blocks)).toContain(HOSTILE_SHOWN);
  });

  it("{{owner}} in a rule message is a real mention of the owner, not &lt;@…&gt;", () => {
    const text = JSON.stringify(nudgeBlocks(nudge())[0]);
    expect(text).toContain(`Call <@${OWNER}> about ${HOSTILE_SHOWN}`);
    expect(text).not.toContain(`&lt;@${OWNER}&gt;`);
    // Someone else's id in the message stays text, and an invalid owner is never a mention.
    expect(JSON.stringify(nudgeBlocks(nudge({ message: "Call <@U0OTHER>" }))[0])).toContain("Call &lt;@U0OTHER&gt;");
    expectNoInjection(nudgeBlocks(nudge({ ownerSlackId: H, message: `<@${H}>` })), []);
  });

  it("says 'Last touch: 1 day ago'", () => {
    expect(contextLine(nudge())).toContain("Last touch: 1 day ago");
  });

  it("the escalation message", () => {
    const details: EscalationDetails = {
      nudgeId: 7,
      route: { kind: "dm", user: "U0BOSS", why: `manager of <@${OWNER}> (KEEPWARM_MANAGERS)` },
      ruleId: H,
      ruleName: H,
      customerExternalId: H,
      customerName: H,
      ownerSlackId: OWNER,
      explanation: H,
      createdAt: NOW,
      deliveredAt: NOW,
      escalatedAt: NOW,
      lastSnooze: { by: H, until: NOW },
      status: "open",
      // The history as core writes it, with the data in it.
      history: [`created 2026-11-20 09:00 UTC by rule "${H}" (${H}, rules v1): ${H}`, `delivered to <@${OWNER}> 2026-11-20 09:00 UTC`, `snoozed by ${H}`],
    };
    const message = escalationMessage(details);
    expectNoInjection(message, ALLOWED);
    expect(message.text).toContain(`delivered to <@${OWNER}>`);
    expect(message.text).toContain(HOSTILE_SHOWN);
    expect(JSON.stringify(message.blocks)).toContain(`manager of <@${OWNER}>`);
  });

  it("the App Home, the modals and the customer picker", async () => {
    const tmp = tempDir("keepwarm-escape-");
    const store = await openStore(await migratedDatabase(tmp));
    try {
      const calendar = new Calendar("UTC");
      const stats = await computeStats(store, { since: NOW - 90 * DAY_MS, until: NOW, calendar });
      const home = homeView(
        STATES.filter((v) => v.status === "open"),
        { rows: [{ id: 1, externalId: H, name: H, segment: H, lastTouchAt: NOW - DAY_MS, daysQuiet: 1 }], total: 1 },
        3,
        {
          waiting: 1,
          maxPerDay: 20,
          kpis: { mine: { quiet: 1, touchesThisWeek: 0, openNudges: 1, weekStart: NOW }, nps: stats.nps, retention: stats.retention.total, days: 90 },
        },
      );
      expectNoInjection(home, ALLOWED);
      expect(JSON.stringify(home)).toContain("1 day since last touch");
    } finally {
      await store.close();
      tmp.cleanup();
    }
    expectNoInjection(touchModal({ customer, today: "2026-11-23", metadata: "{}" }), ALLOWED);
    expectNoInjection(dismissModal({ customerName: H, metadata: "{}" }), ALLOWED);
    expectNoInjection(customerOption(customer), ALLOWED);
    expect(customerOption({ id: 1, name: "A".repeat(80), external_id: "&&&" }).text.text.length).toBeLessThanOrEqual(75);
    // The rule editor holds the JSON as typed (an input's value, never rendered as mrkdwn).
    const editor = rulesEditModal({ version: 1, parts: [JSON.stringify({ rules: [{ name: H }] })] });
    expectNoInjection({ ...editor, blocks: editor.blocks.slice(0, 1) }, ALLOWED);
  });

  it("the rules review, its notices and the change announcement", () => {
    const diff: RuleDiff = {
      rules: [{ ruleId: H, name: H, status: "changed", fields: [H], changes: [{ path: H, before: H, after: { x: H } }] }],
      added: 0,
      removed: 0,
      changed: 1,
      unchanged: 0,
    };
    const preview: RulePreview = {
      activeVersion: 1,
      evaluated: 3,
      asOf: NOW,
      rules: [
        {
          ruleId: H,
          status: "changed",
          before: 1,
          after: 2,
          added: [{ customerId: H, name: H, explanation: H }],
          removed: [{ customerId: H, name: H }],
          addedCount: 4,
          removedCount: 1,
        },
      ],
    };
    expectNoInjection(rulesConfirmView({ draftId: "d", baseVersion: 1, summary: H, diff, preview }), ALLOWED);
    expectNoInjection(rulesNoticeView({ title: "Rules saved", text: `Saved: ${escapeMrkdwn(H)}`, backDraftId: "d" }), ALLOWED);
    for (const author of [H, "alice", "U0CLOSER"]) {
      expectNoInjection(ruleChangeAnnouncement({ author, version: 2, previousVersion: 1, via: "from Slack", summary: H, preview: preview.rules }), ALLOWED);
    }
  });

  it("the stats answer", async () => {
    const tmp = tempDir("keepwarm-escape-");
    const store = await openStore(await migratedDatabase(tmp));
    try {
      const stats = await computeStats(store, { since: NOW - 90 * DAY_MS, until: NOW, calendar: new Calendar("UTC"), segment: H });
      const comparison = { verdict: H } as never;
      const hostile = {
        ...stats,
        funnel: [
          {
            ruleId: H,
            created: 2,
            heldOut: 1,
            nudged: 1,
            delivered: 1,
            resolvedByTouch: 1,
            snoozed: 0,
            dismissed: 0,
            expired: 0,
            stillOpen: 0,
            escalated: 0,
            settled: 1,
            snoozedRepeatedly: 0,
            expiredUntouched: 0,
            resolvedByRoutineTouch: 0,
            alreadyTouched: 0,
            noisy: 0,
            medianDaysToTouch: 1,
          },
        ],
        holdouts: [{ ruleId: H, nudges: { nudged: 1, heldOut: 1 }, touched7: comparison, touched14: comparison, churned: comparison, npsChange: comparison }],
        noise: { ...stats.noise, rules: [{ ruleId: H, flagged: true, evidence: [H] } as never] },
      };
      const message = statsMessage(hostile, { stats: { quiet: 1, touchesThisWeek: 1, openNudges: 1, weekStart: NOW }, mine: true }, (ms) =>
        new Date(ms).toISOString(),
      );
      expectNoInjection(message, ALLOWED);
      expect(message.text).toContain("median 1 day to a touch");
    } finally {
      await store.close();
      tmp.cleanup();
    }
  });
});
