import { applyRuleSet, ensureActiveRuleSet } from "@keepwarm/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { splitRuleText } from "../src/blocks/modals";
import { countRows, type Harness, NOW, REP, startHarness, TEAM, viewSubmission } from "./harness";

const ADMIN = "U0ADMIN";
const ADMIN2 = "U0ADMIN2";
const FALLBACK = "C0FALLBACK";

interface View {
  callback_id: string;
  private_metadata: string;
  blocks: Array<{ type: string; block_id?: string; text?: { text: string }; element?: { initial_value: string }; elements?: Array<{ value?: string }> }>;
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    env: { KEEPWARM_ADMINS: `${ADMIN},${ADMIN2}`, KEEPWARM_FALLBACK_CHANNEL: FALLBACK },
    customers: [
      { id: "C-1", name: "Acme Corp", quietDays: 45 },
      { id: "C-2", name: "Globex", quietDays: 20 },
      { id: "C-3", name: "Initech", quietDays: 10 },
      { id: "C-4", name: "Umbrella", segment: "enterprise", quietDays: 20 },
    ],
  });
  await ensureActiveRuleSet(h.store);
});
afterAll(async () => h.close());

const versions = () => countRows(h.store, "rule_sets");
const activeRow = () => h.store.db.selectFrom("rule_sets").select(["id", "author", "source"]).where("active", "=", 1).executeTakeFirstOrThrow();
const activeJson = async () => (await h.store.db.selectFrom("rule_sets").select("json").where("active", "=", 1).executeTakeFirstOrThrow()).json;
const viewText = (view: View) => view.blocks.map((b) => [b.text?.text ?? "", ...(b.element ? [b.element.initial_value] : [])].join("\n")).join("\n");
const editorJson = (view: View) =>
  view.blocks
    .filter((b) => b.block_id?.startsWith("rules_part_"))
    .map((b) => b.element?.initial_value ?? "")
    .join("\n");

/** The rule file with no-contact's threshold lowered from 30 to 15 days. */
function tighterNoContact(json: string, days = 15): string {
  const file = JSON.parse(json) as { rules: Array<{ id: string; conditions: { all: Array<{ fact: string; value: unknown }> } }> };
  const rule = file.rules.find((r) => r.id === "no-contact");
  const condition = rule?.conditions.all.find((c) => c.fact === "daysSinceLastTouch");
  if (condition === undefined) throw new Error("default rules changed: no-contact has no daysSinceLastTouch condition");
  condition.value = days;
  return JSON.stringify(file, null, 2);
}

/** The editor's input boxes as Slack returns them on submit. */
function editorSubmission(text: string, user = ADMIN) {
  const parts = splitRuleText(text) ?? [];
  const values = Object.fromEntries(parts.map((part, i) => [`rules_part_${i}`, { json: { type: "plain_text_input", value: part } }]));
  return viewSubmission("rules_edit_modal", values, JSON.stringify({ parts: parts.length }), user);
}

async function submitEditor(text: string, user = ADMIN) {
  const res = await h.interact(editorSubmission(text, user));
  expect(res.status).toBe(200);
  return res.json as { response_action: string; view?: View; errors?: Record<string, string> };
}

async function confirm(metadata: string, user = ADMIN) {
  const res = await h.interact(viewSubmission("rules_edit_confirm", {}, metadata, user));
  expect(res.status).toBe(200);
  return res.json as { response_action: string; view: View };
}

function backClick(draftId: string, user = ADMIN): Record<string, unknown> {
  return {
    type: "block_actions",
    team: { id: TEAM, domain: "test" },
    user: { id: user, team_id: TEAM },
    api_app_id: "A0KEEPWARM",
    trigger_id: "trigger-back",
    container: { type: "view", view_id: "V1" },
    view: { id: "V1", team_id: TEAM, type: "modal", callback_id: "rules_edit_confirm", private_metadata: "", state: { values: {} }, hash: "h1" },
    actions: [{ type: "button", action_id: "rules_edit_back", block_id: "rules_edit_back", value: draftId, action_ts: "1.2" }],
  };
}

async function openEditor(user = ADMIN): Promise<View> {
  const before = h.fake.callsOf("views.open").length;
  await h.command("/keepwarm", "rules edit", user);
  const call = await h.fake.waitFor(() => h.fake.callsOf("views.open")[before]);
  return call.args.view as View;
}

const draftOf = (view: View) => (JSON.parse(view.private_metadata) as { d: string }).d;

beforeEach(() => {
  h.fake.calls.length = 0;
});

describe("/keepwarm rules edit: preview before saving", () => {
  it("an invalid file shows its errors in the editor and saves nothing", async () => {
    const editor = await openEditor();
    const typo = editorJson(editor).replace('"daysSinceLastTouch"', '"daysSinceLastTuch"');
    const bad = await submitEditor(typo);
    expect(bad.response_action).toBe("errors");
    expect(bad.errors?.rules_part_0).toContain('unknown fact "daysSinceLastTuch" (did you mean "daysSinceLastTouch"?)');
    const notJson = await submitEditor("{ nope");
    expect(notJson.response_action).toBe("errors");
    expect(await versions()).toBe(1);
  });

  it("the active file unchanged is refused in the editor as nothing to save", async () => {
    const editor = await openEditor();
    const same = await submitEditor(editorJson(editor));
    expect(same.response_action).toBe("errors");
    expect(same.errors?.rules_part_0).toBe("Nothing to save: this is exactly the active version v1.");
    expect(await versions()).toBe(1);
  });

  it("a valid file shows the diff summary and per-rule preview counts, and saves nothing yet", async () => {
    const editor = await openEditor();
    const ok = await submitEditor(tighterNoContact(editorJson(editor)));
    expect(ok.response_action).toBe("update");
    const view = ok.view as View;
    expect(view.callback_id).toBe("rules_edit_confirm");
    const text = viewText(view);
    // Hand count: smb customers quiet 45/20/10 days; no-contact at ≥30 matches Acme, at ≥15 also Globex.
    expect(text).toContain("Against the active *v1*: *1 changed (no-contact: conditions)*");
    expect(text).toContain("no-contact (changed): 1 → 2 customers (+1, −0)");
    expect(text).toContain("conditions.all[1].value: 30 → 15");
    expect(text).toContain("added: Globex");
    expect(text).toContain("no-contact-enterprise (unchanged): 1 → 1 customers");
    expect(text).not.toContain("Initech");
    expect(view.blocks.some((b) => b.elements?.some((e) => e.value === draftOf(view)))).toBe(true);
    expect(await versions()).toBe(1);
    expect(h.fake.callsOf("chat.postMessage")).toHaveLength(0);
  });

  it("confirming saves the previewed file as a new version and announces it with the diff summary to every admin and the fallback channel", async () => {
    const editor = await openEditor();
    const candidate = tighterNoContact(editorJson(editor));
    const preview = await submitEditor(candidate);
    const saved = await confirm((preview.view as View).private_metadata);
    expect(saved.response_action).toBe("update");
    expect(viewText(saved.view)).toContain("Saved as *v2* (was v1): 1 changed (no-contact: conditions)");
    expect(await activeRow()).toEqual({ id: 2, author: ADMIN, source: "slack" });
    expect(await activeJson()).toBe(candidate);

    const posts = await h.fake.waitFor(() => {
      const calls = h.fake.callsOf("chat.postMessage");
      return calls.length >= 3 ? calls : undefined;
    });
    expect(posts.map((c) => c.args.channel).sort()).toEqual([ADMIN, ADMIN2, FALLBACK].sort());
    for (const post of posts) {
      expect(post.args.text).toContain(`<@${ADMIN}> saved rules *v2* (was v1) from Slack: 1 changed (no-contact: conditions).`);
      expect(post.args.text).toContain("• no-contact (changed): 1 → 2 customers (+1, −0)");
    }

    // The draft is spent: a replayed confirmation saves nothing more.
    const replay = await confirm((preview.view as View).private_metadata);
    expect(viewText(replay.view)).toContain("This preview is no longer available");
    expect(await versions()).toBe(2);
  });

  it("a change saved elsewhere between preview and confirm is not overwritten; the admin is told and can go back to the JSON", async () => {
    const editor = await openEditor();
    const mine = tighterNoContact(editorJson(editor), 10);
    const preview = await submitEditor(mine);
    const base = (await activeRow()).id;
    const other = await applyRuleSet(h.store, tighterNoContact(editorJson(editor), 25), { author: "carol", source: "rules.json", now: NOW });
    expect(other.changed).toBe(true);

    const refused = await confirm((preview.view as View).private_metadata);
    const text = viewText(refused.view);
    expect(text).toContain(`you previewed against v${base}, now v${other.ruleSet.version} is active (by carol via rules.json`);
    expect(text).toContain("Nothing was saved");
    expect(await activeRow()).toEqual({ id: other.ruleSet.version, author: "carol", source: "rules.json" });

    // Back re-opens the editor with the admin's JSON, against the version now active.
    await h.interact(backClick(draftOf(preview.view as View)));
    const update = await h.fake.waitFor(() => h.fake.callsOf("views.update")[0]);
    const reopened = update.args.view as View;
    expect(update.args.view_id).toBe("V1");
    expect(reopened.callback_id).toBe("rules_edit_modal");
    expect(editorJson(reopened)).toBe(mine);
    expect(viewText(reopened)).toContain(`Active: *v${other.ruleSet.version}*`);
  });

  it("Back from the confirmation re-opens the editor holding the same JSON, and nothing is saved", async () => {
    const editor = await openEditor();
    const candidate = tighterNoContact(editorJson(editor), 12);
    const preview = await submitEditor(candidate);
    const count = await versions();
    await h.interact(backClick(draftOf(preview.view as View)));
    const update = await h.fake.waitFor(() => h.fake.callsOf("views.update")[0]);
    expect(update.args.hash).toBe("h1");
    expect(editorJson(update.args.view as View)).toBe(candidate);
    expect(await versions()).toBe(count);
  });

  it("an unknown, malformed or foreign draft (as after a bot restart) gets a clear message and saves nothing", async () => {
    const count = await versions();
    const unknown = await confirm(JSON.stringify({ d: "3f1c2b4e-1111-4222-8333-444455556666" }));
    expect(unknown.response_action).toBe("update");
    expect(viewText(unknown.view)).toContain("lost when the bot restarts. Nothing was saved. Run `/keepwarm rules edit` again.");
    const garbage = await confirm("not json");
    expect(viewText(garbage.view)).toContain("This preview is no longer available");

    // A draft belongs to the admin who previewed it.
    const editor = await openEditor();
    const preview = await submitEditor(tighterNoContact(editorJson(editor), 11));
    expect(viewText((await confirm((preview.view as View).private_metadata, ADMIN2)).view)).toContain("This preview is no longer available");

    await h.interact(backClick("3f1c2b4e-1111-4222-8333-444455556666"));
    const update = await h.fake.waitFor(() => h.fake.callsOf("views.update")[0]);
    expect(viewText(update.args.view as View)).toContain("This preview is no longer available");
    expect(await versions()).toBe(count);
  });
});

describe("/keepwarm rules edit: non-admins", () => {
  it("the command is refused politely and no editor opens", async () => {
    const res = await h.command("/keepwarm", "rules edit", REP);
    expect(String((await h.response(res.responseId)).text)).toContain("Sorry, only keepwarm admins (KEEPWARM_ADMINS) can edit rules.");
    expect(h.fake.callsOf("views.open")).toHaveLength(0);
  });

  it("forged editor, confirmation and Back submissions are refused and save nothing", async () => {
    const editor = await openEditor();
    const candidate = tighterNoContact(editorJson(editor), 9);
    const count = await versions();
    const forgedEdit = await submitEditor(candidate, REP);
    expect(forgedEdit.response_action).toBe("errors");
    expect(forgedEdit.errors?.rules_part_0).toBe("Only KEEPWARM_ADMINS can change rules, sorry. Nothing was saved.");

    const preview = await submitEditor(candidate);
    const forgedConfirm = await confirm((preview.view as View).private_metadata, REP);
    expect(viewText(forgedConfirm.view)).toContain("Sorry, only keepwarm admins (KEEPWARM_ADMINS) can change rules. Nothing was saved.");
    await h.interact(backClick(draftOf(preview.view as View), REP));
    const update = await h.fake.waitFor(() => h.fake.callsOf("views.update")[0]);
    expect(viewText(update.args.view as View)).toContain("only keepwarm admins");
    expect(await versions()).toBe(count);
    expect(h.fake.callsOf("chat.postMessage")).toHaveLength(0);
  });
});

describe("/keepwarm rules edit: draft lifetime", () => {
  it("a preview confirmed after 30 minutes has expired and saves nothing", async () => {
    let now = NOW;
    const timed = await startHarness({ env: { KEEPWARM_ADMINS: ADMIN }, clockNow: () => now });
    try {
      await ensureActiveRuleSet(timed.store);
      await timed.command("/keepwarm", "rules edit", ADMIN);
      const open = await timed.fake.waitFor(() => timed.fake.callsOf("views.open")[0]);
      const sent = await timed.interact(editorSubmission(tighterNoContact(editorJson(open.args.view as View))));
      const preview = (sent.json as { view: View }).view;
      now += 31 * 60_000;
      const late = await timed.interact(viewSubmission("rules_edit_confirm", {}, preview.private_metadata, ADMIN));
      expect(viewText((late.json as { view: View }).view)).toContain("previews are kept for 30 minutes");
      expect(await countRows(timed.store, "rule_sets")).toBe(1);
    } finally {
      await timed.close();
    }
  });
});
