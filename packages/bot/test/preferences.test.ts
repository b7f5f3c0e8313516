import { applyRuleSet } from "@keepwarm/core";
import { defaultRulesText } from "@keepwarm/rules";
import { postSigned } from "@keepwarm/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { blockAction, type Harness, outboxRows, REP, SECRET, seedCustomers, startHarness, sweep, TEAM, viewSubmission } from "./harness";

let h: Harness;
afterEach(async () => h?.close());

const HOUR = 3_600_000;
const BERLIN_REP = "U0BERLIN";
const LEAD = "U0LEAD";

let eventCounter = 0;
async function openHome(user = REP): Promise<string> {
  const before = h.fake.callsOf("views.publish").length;
  const event = {
    type: "event_callback",
    team_id: TEAM,
    api_app_id: "A0KEEPWARM",
    event_id: `EvPrefs${++eventCounter}`,
    event_time: 1,
    event: { type: "app_home_opened", user, channel: "D0X", tab: "home", event_ts: `1.${eventCounter}` },
  };
  const sent = await postSigned(`${h.url}/slack/events`, JSON.stringify(event), { secret: SECRET, contentType: "application/json" });
  expect(sent.status).toBe(200);
  const publish = await h.fake.waitFor(() =>
    h.fake
      .callsOf("views.publish")
      .slice(before)
      .find((c) => c.args.user_id === user),
  );
  return JSON.stringify(publish.args.view);
}

interface FormBlock {
  block_id?: string;
  element?: { options?: Array<{ value: string }> };
}

/** Click "Edit preferences" on the App Home; the form Slack was asked to open. */
async function openForm(user = REP): Promise<{ blocks: FormBlock[]; callback_id: string }> {
  const before = h.fake.callsOf("views.open").length;
  const res = await h.interact(blockAction({ type: "button", action_id: "preferences_open" }, { user, home: true }));
  expect(res.status).toBe(200);
  const open = await h.fake.waitFor(() => h.fake.callsOf("views.open")[before]);
  return open.args.view as { blocks: FormBlock[]; callback_id: string };
}

interface FormChoice {
  modes?: Record<string, string>;
  quiet?: [number | string, number | string];
  days?: Array<number | string>;
  cap?: string;
  digestHour?: number | string;
}

/** The view_submission state Slack sends for the preferences form. */
function formValues(choice: FormChoice): Record<string, unknown> {
  const select = (value: number | string | undefined) => ({
    type: "static_select",
    selected_option: value === undefined ? null : { text: { type: "plain_text", text: "x" }, value: String(value) },
  });
  const values: Record<string, unknown> = {
    quiet_start: { hour: select(choice.quiet?.[0]) },
    quiet_end: { hour: select(choice.quiet?.[1]) },
    quiet_days: {
      days: { type: "checkboxes", selected_options: (choice.days ?? []).map((d) => ({ text: { type: "plain_text", text: "x" }, value: String(d) })) },
    },
    daily_cap: { cap: { type: "number_input", value: choice.cap ?? null } },
    digest_hour: { hour: select(choice.digestHour ?? 9) },
  };
  for (const [rule, mode] of Object.entries(choice.modes ?? {})) values[`rule:${rule}`] = { mode: select(mode) };
  return values;
}

async function submit(choice: FormChoice, user = REP): Promise<{ status: number; json: unknown }> {
  return h.interact(viewSubmission("preferences_modal", formValues(choice), "", user));
}

/** Open the Home (Slack's users.info gives the zone), then save the form, as a rep does. */
async function setPreferences(user: string, tz: string | undefined, choice: FormChoice): Promise<void> {
  h.fake.users.push({ id: user, email: `${user.toLowerCase()}@example.com`, realName: user, ...(tz === undefined ? {} : { tz }) });
  await openHome(user);
  const before = h.fake.callsOf("views.publish").length;
  const res = await submit(choice, user);
  expect(res.status).toBe(200);
  expect(res.json).toBeUndefined();
  // The Home is published again after the save: wait for it, so it is not taken for a later open's.
  await h.fake.waitFor(() => h.fake.callsOf("views.publish")[before]);
}

const storedPrefs = (user = REP) => h.store.db.selectFrom("rep_preferences").selectAll().where("slack_id", "=", user).executeTakeFirst();

/** Messages Slack holds in a rep's DM (the fake keeps DMs under D<id without U>). */
const dmsOf = (user: string) => h.fake.messagesIn(`D${user.slice(1)}`) ?? [];

async function applyRules(change: (rules: Array<{ id: string; nudge: Record<string, unknown> }>) => void): Promise<void> {
  const file = JSON.parse(defaultRulesText()) as { rules: Array<{ id: string; nudge: Record<string, unknown> }> };
  change(file.rules);
  await applyRuleSet(h.store, JSON.stringify(file), { author: "U0ADMIN", source: "test" });
}

describe("preferences from the App Home", () => {
  it("saves what a rep chooses in the form, in their Slack time zone, and shows it on their Home", async () => {
    h = await startHarness({ customers: [{ id: "C-1", name: "Acme" }] });
    h.fake.users.push({ id: REP, email: "rep@example.com", realName: "Rep", tz: "America/Los_Angeles" });
    const home = await openHome();
    expect(home).toContain("Your preferences");
    expect(home).toContain("preferences_open");
    // users.info was asked once and its zone kept; a second open within the day does not ask again.
    expect((await storedPrefs())?.time_zone).toBe("America/Los_Angeles");
    await openHome();
    expect(h.fake.callsOf("users.info")).toHaveLength(1);

    const form = await openForm();
    expect(form.callback_id).toBe("preferences_modal");
    expect(JSON.stringify(form)).toContain("America/Los_Angeles");
    expect(form.blocks.map((b) => b.block_id)).toEqual(
      expect.arrayContaining(["rule:no-contact", "rule:nps-drop", "quiet_start", "quiet_end", "quiet_days", "daily_cap", "digest_hour"]),
    );

    const res = await submit({ modes: { "no-contact": "digest", "nps-drop": "dm" }, quiet: [22, 7], days: [6, 7], cap: "5", digestHour: 8 });
    expect(res.status).toBe(200);
    expect(res.json).toBeUndefined();
    expect(await storedPrefs()).toMatchObject({
      rule_modes: JSON.stringify({ "no-contact": "digest" }),
      quiet_start: 22,
      quiet_end: 7,
      quiet_days: "6,7",
      daily_cap: 5,
      digest_hour: 8,
      time_zone: "America/Los_Angeles",
      updated_by: REP,
    });
    const after = JSON.stringify((await h.fake.waitFor(() => h.fake.callsOf("views.publish")[2])).args.view);
    expect(after).toContain("quiet 22:00–07:00");
    expect(after).toContain("quiet on Sat, Sun");
    expect(after).toContain("cap 5/day");
  });

  it("shows each wrong field's error in the form and saves nothing: equal hours, half a range, hour 24, a cap above the team's or below 0, every day quiet", async () => {
    h = await startHarness({ env: { KEEPWARM_MAX_NUDGES_PER_DAY: "10" } });
    const errorsOf = async (choice: FormChoice) => {
      const res = await submit(choice);
      expect(res.status).toBe(200);
      const json = res.json as { response_action: string; errors: Record<string, string> };
      expect(json.response_action).toBe("errors");
      return json.errors;
    };
    expect(Object.keys(await errorsOf({ quiet: [22, 22] }))).toEqual(["quiet_end"]);
    expect(Object.keys(await errorsOf({ quiet: [22, undefined as unknown as number] }))).toEqual(["quiet_end"]);
    expect(await errorsOf({ quiet: [24, 7] })).toMatchObject({ quiet_start: "must be a whole hour 0–23" });
    expect((await errorsOf({ cap: "11" })).daily_cap).toContain("0 to the team's 10");
    expect(Object.keys(await errorsOf({ cap: "-1" }))).toEqual(["daily_cap"]);
    expect(Object.keys(await errorsOf({ cap: "2.5" }))).toEqual(["daily_cap"]);
    expect(Object.keys(await errorsOf({ days: [1, 2, 3, 4, 5, 6, 7] }))).toEqual(["quiet_days"]);
    expect(Object.keys(await errorsOf({ digestHour: "nine" }))).toEqual(["digest_hour"]);
    expect(Object.keys(await errorsOf({ modes: { "no-such-rule": "dm" } }))).toEqual(["rule:no-such-rule"]);
    expect(await storedPrefs()).toBeUndefined();
    // Overnight and a cap of exactly the team's are fine.
    expect((await submit({ quiet: [22, 7], cap: "10" })).json).toBeUndefined();
    expect(await storedPrefs()).toMatchObject({ quiet_start: 22, quiet_end: 7, daily_cap: 10 });
  });

  it("a rule without allowMute cannot be muted: the form offers no 'Not at all' for it, and a forged submission is refused", async () => {
    h = await startHarness();
    const form = await openForm();
    const options = (rule: string) => form.blocks.find((b) => b.block_id === `rule:${rule}`)?.element?.options?.map((o) => o.value);
    expect(options("no-contact")).toEqual(["dm", "digest"]);
    // The default file lets reps turn off the loyalty invitation.
    expect(options("frequent-buyer-no-loyalty")).toEqual(["dm", "digest", "off"]);
    const res = await submit({ modes: { "no-contact": "off" } });
    expect(res.json).toMatchObject({ response_action: "errors", errors: { "rule:no-contact": expect.stringContaining("cannot be turned off") } });
    expect(await storedPrefs()).toBeUndefined();
    expect((await submit({ modes: { "frequent-buyer-no-loyalty": "off" } })).json).toBeUndefined();
  });
});

describe("delivery honours each rep's preferences", () => {
  it("a muted rule yields no DM for that rep: the nudge stays open and recorded, the outbox says why; another rep still gets theirs", async () => {
    h = await startHarness({
      customers: [
        { id: "C-1", name: "Acme" },
        { id: "C-2", name: "Bravo", owner: BERLIN_REP },
      ],
    });
    await applyRules((rules) => {
      const rule = rules.find((r) => r.id === "no-contact");
      if (rule) rule.nudge.allowMute = true;
    });
    await setPreferences(REP, undefined, { modes: { "no-contact": "off" } });
    await sweep(h.store);
    const pass = await h.bot.delivery.runOnce();
    expect(pass).toMatchObject({ delivered: 1, skipped: 1 });
    expect(dmsOf(REP)).toHaveLength(0);
    expect(dmsOf(BERLIN_REP)).toHaveLength(1);
    const nudges = await h.store.db.selectFrom("nudges").select(["customer_id", "status", "delivered_at"]).orderBy("id").execute();
    expect(nudges.map((n) => [n.status, n.delivered_at === null])).toEqual([
      ["open", true],
      ["open", false],
    ]);
    const outbox = await outboxRows(h.store);
    expect(outbox[0]).toMatchObject({ status: "skipped", lastError: `muted: <@${REP}> turned rule no-contact off in their preferences` });
    // Nothing waits to be sent later either.
    h.clock.advance(48 * HOUR);
    await h.bot.delivery.runOnce();
    expect(dmsOf(REP)).toHaveLength(0);
  });

  it("nothing is DMed in a rep's quiet hours in their own time zone: Los Angeles waits until 07:00 there, Berlin at the same instant gets it at once", async () => {
    h = await startHarness({
      customers: [
        { id: "C-1", name: "Acme" },
        { id: "C-2", name: "Bravo", owner: BERLIN_REP },
      ],
    });
    await setPreferences(REP, "America/Los_Angeles", { quiet: [22, 7] });
    await setPreferences(BERLIN_REP, "Europe/Berlin", { quiet: [22, 7] });
    // NOW is Monday 10:00 UTC: 02:00 in Los Angeles (quiet), 11:00 in Berlin (not).
    await sweep(h.store);
    expect(await h.bot.delivery.runOnce()).toMatchObject({ delivered: 1, held: 1 });
    expect(dmsOf(BERLIN_REP)).toHaveLength(1);
    expect(dmsOf(REP)).toHaveLength(0);
    const held = (await outboxRows(h.store)).find((o) => o.status === "pending");
    // 07:00 PST is 15:00 UTC.
    expect(held).toMatchObject({ nextAttemptAt: Date.UTC(2026, 10, 23, 15, 0) });
    expect(held?.lastError).toContain("held until 2026-11-23 07:00 America/Los_Angeles");

    h.clock.t = Date.UTC(2026, 10, 23, 14, 59);
    await h.bot.delivery.runOnce();
    expect(dmsOf(REP)).toHaveLength(0);
    h.clock.t = Date.UTC(2026, 10, 23, 15, 0);
    expect(await h.bot.delivery.runOnce()).toMatchObject({ delivered: 1 });
    expect(dmsOf(REP)).toHaveLength(1);
    expect((await outboxRows(h.store)).every((o) => o.status === "done")).toBe(true);
  });

  it("quiet hours that span a DST change end at the local hour the new offset gives (Berlin 25 Oct, Los Angeles 1 Nov 2026)", async () => {
    const cases = [
      // Saturday 23:00 CEST (UTC+2); the clocks go back that night: 07:00 CET is 06:00 UTC.
      { rep: BERLIN_REP, tz: "Europe/Berlin", at: Date.UTC(2026, 9, 24, 21, 0), ends: Date.UTC(2026, 9, 25, 6, 0) },
      // Saturday 22:30 PDT (UTC−7); the clocks go back that night: 07:00 PST is 15:00 UTC.
      { rep: REP, tz: "America/Los_Angeles", at: Date.UTC(2026, 10, 1, 5, 30), ends: Date.UTC(2026, 10, 1, 15, 0) },
    ];
    h = await startHarness();
    for (const c of cases) await setPreferences(c.rep, c.tz, { quiet: [22, 7] });
    for (const [i, c] of cases.entries()) {
      await seedCustomers(h.store, [{ id: `C-${i}`, name: `Customer ${i}`, owner: c.rep, quietDays: 90 }], c.at);
      h.clock.t = c.at;
      await sweep(h.store, c.at);
      expect(await h.bot.delivery.runOnce()).toMatchObject({ delivered: 0, held: 1 });
      const held = (await outboxRows(h.store)).filter((o) => o.status === "pending");
      expect(held.map((o) => o.nextAttemptAt)).toEqual([c.ends]);
      h.clock.t = c.ends - 60_000;
      await h.bot.delivery.runOnce();
      expect(dmsOf(c.rep)).toHaveLength(0);
      h.clock.t = c.ends;
      expect(await h.bot.delivery.runOnce()).toMatchObject({ delivered: 1 });
      expect(dmsOf(c.rep)).toHaveLength(1);
    }
  });

  it("quiet days hold a whole day: a rep quiet on Saturday and Sunday gets Saturday's nudge on Monday after their quiet hours", async () => {
    h = await startHarness();
    await setPreferences(BERLIN_REP, "Europe/Berlin", { quiet: [20, 8], days: [6, 7] });
    const saturdayNoon = Date.UTC(2026, 10, 28, 11, 0);
    await seedCustomers(h.store, [{ id: "C-1", name: "Acme", owner: BERLIN_REP, quietDays: 90 }], saturdayNoon);
    h.clock.t = saturdayNoon;
    await sweep(h.store, saturdayNoon);
    expect(await h.bot.delivery.runOnce()).toMatchObject({ held: 1 });
    // Monday 08:00 in Berlin (CET, UTC+1).
    expect((await outboxRows(h.store))[0]?.nextAttemptAt).toBe(Date.UTC(2026, 10, 30, 7, 0));
  });

  it("the personal cap holds below the team's: 2 a day for this rep while the team allows 5; the rest arrive on their next days", async () => {
    h = await startHarness({
      env: { KEEPWARM_MAX_NUDGES_PER_DAY: "5", KEEPWARM_DIGEST_THRESHOLD: "10" },
      customers: ["A", "B", "C", "D", "E"].map((n, i) => ({ id: `C-${i}`, name: n })),
    });
    await setPreferences(REP, "UTC", { cap: "2" });
    await sweep(h.store);
    expect(await h.bot.delivery.runOnce()).toMatchObject({ delivered: 2, held: 3 });
    expect(dmsOf(REP)).toHaveLength(2);
    const waiting = (await outboxRows(h.store)).filter((o) => o.status === "pending");
    expect(waiting.every((o) => o.nextAttemptAt === Date.UTC(2026, 10, 24) && o.lastError?.includes("personal cap"))).toBe(true);
    h.clock.advance(6 * HOUR);
    await h.bot.delivery.runOnce();
    expect(dmsOf(REP)).toHaveLength(2);
    h.clock.t = Date.UTC(2026, 10, 24, 9, 0);
    expect(await h.bot.delivery.runOnce()).toMatchObject({ delivered: 2, held: 1 });
    h.clock.t = Date.UTC(2026, 10, 25, 9, 0);
    expect(await h.bot.delivery.runOnce()).toMatchObject({ delivered: 1 });
    expect(dmsOf(REP)).toHaveLength(5);
  });

  it("digest rules wait for the rep's digest hour and arrive together as one digest, however few", async () => {
    h = await startHarness({
      env: { KEEPWARM_DIGEST_THRESHOLD: "10" },
      customers: [
        { id: "C-1", name: "Acme", owner: BERLIN_REP },
        { id: "C-2", name: "Bravo", owner: BERLIN_REP },
      ],
    });
    await setPreferences(BERLIN_REP, "Europe/Berlin", { modes: { "no-contact": "digest" }, digestHour: 12 });
    // 11:00 in Berlin: today's digest (12:00 there, 11:00 UTC) is still to come.
    await sweep(h.store);
    expect(await h.bot.delivery.runOnce()).toMatchObject({ delivered: 0, held: 2 });
    expect((await outboxRows(h.store)).map((o) => o.nextAttemptAt)).toEqual([Date.UTC(2026, 10, 23, 11, 0), Date.UTC(2026, 10, 23, 11, 0)]);
    h.clock.t = Date.UTC(2026, 10, 23, 11, 0);
    expect(await h.bot.delivery.runOnce()).toMatchObject({ delivered: 2 });
    expect(dmsOf(BERLIN_REP)).toHaveLength(1);
    expect(dmsOf(BERLIN_REP)[0]?.text).toContain("digest: 2 customers");
  });

  it("a rule's channel posts are not held by the owner's quiet hours; the owner's DMs are", async () => {
    h = await startHarness({ customers: [{ id: "C-1", name: "Acme" }] });
    await applyRules((rules) => {
      const rule = rules.find((r) => r.id === "no-contact");
      if (rule) rule.nudge.destination = "#cs";
    });
    await setPreferences(REP, "America/Los_Angeles", { quiet: [0, 23] });
    await seedCustomers(h.store, [{ id: "C-2", name: "Bravo", segment: "enterprise", quietDays: 90 }]);
    await sweep(h.store);
    // Acme's rule posts to #cs at once; Bravo's enterprise rule DMs the rep, who is in quiet hours.
    expect(await h.bot.delivery.runOnce()).toMatchObject({ delivered: 1, held: 1 });
    expect(h.fake.messagesIn("#cs")).toHaveLength(1);
    expect(dmsOf(REP)).toHaveLength(0);
  });
});

describe("escalations and quiet hours", () => {
  it("an escalation DMed to a manager in their quiet hours waits until those end; the rep's DM went out at once", async () => {
    h = await startHarness({ customers: [{ id: "C-1", name: "Acme Corp", segment: "enterprise" }], env: { KEEPWARM_MANAGERS: `${REP}:${LEAD}` } });
    await setPreferences(LEAD, "America/Los_Angeles", { quiet: [22, 7] });
    await sweep(h.store);
    expect(await h.bot.delivery.runOnce()).toMatchObject({ delivered: 1 });
    // The default enterprise rule escalates after 5 days: Saturday 10:00 UTC, 02:00 in Los Angeles.
    const fiveDaysLater = Date.UTC(2026, 10, 28, 10, 0);
    h.clock.t = fiveDaysLater;
    await sweep(h.store, fiveDaysLater);
    expect(await h.bot.delivery.runOnce()).toMatchObject({ escalated: 0, held: 1 });
    expect(dmsOf(LEAD)).toHaveLength(0);
    expect((await outboxRows(h.store)).find((o) => o.kind === "escalate")).toMatchObject({ status: "pending", nextAttemptAt: Date.UTC(2026, 10, 28, 15, 0) });
    h.clock.t = Date.UTC(2026, 10, 28, 15, 0);
    expect(await h.bot.delivery.runOnce()).toMatchObject({ escalated: 1 });
    expect(dmsOf(LEAD)).toHaveLength(1);
  });
});

describe("who sees whose preferences", () => {
  it("a lead sees their team's preferences on their App Home, read-only; another rep sees only their own; an admin sees every rep's", async () => {
    h = await startHarness({ env: { KEEPWARM_MANAGERS: `${REP}:${LEAD}` } });
    await setPreferences(REP, "America/Los_Angeles", { quiet: [22, 7], cap: "3" });
    await setPreferences(BERLIN_REP, "Europe/Berlin", { quiet: [21, 6] });

    const lead = await openHome(LEAD);
    expect(lead).toContain("Your team's preferences");
    expect(lead).toContain(`<@${REP}>: quiet 22:00–07:00`);
    expect(lead).toContain("cap 3/day");
    expect(lead).toContain("America/Los_Angeles");
    // Not the lead of the Berlin rep.
    expect(lead).not.toContain(BERLIN_REP);

    const other = await openHome(BERLIN_REP);
    expect(other).toContain("quiet 21:00–06:00");
    expect(other).not.toContain("team's preferences");
    expect(other).not.toContain("22:00–07:00");
    expect(other).not.toContain(REP);

    const admin = await openHome("U0ADMIN");
    expect(admin).toContain("Reps' preferences");
    expect(admin).toContain(`<@${REP}>: quiet 22:00–07:00`);
    expect(admin).toContain(`<@${BERLIN_REP}>: quiet 21:00–06:00`);
  });
});
