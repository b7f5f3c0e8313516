import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STRANGER_TEXT } from "../src/security/access";
import { asUser } from "./as-user";
import { blockAction, type Harness, startHarness, sweep, viewSubmission } from "./harness";

/**
 * Who may see what, per role. Rep A and rep B report to the lead; rep C to nobody.
 * Every customer has a nudge (all quiet for 45 days).
 */
const REP_A = "U0REPA";
const REP_B = "U0REPB";
const REP_C = "U0REPC";
const LEAD = "U0LEAD";
const ADMIN = "U0ADMIN";
const STRANGER = "U0STRANGER";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    env: { KEEPWARM_MANAGERS: `${REP_A}:${LEAD},${REP_B}:${LEAD}`, KEEPWARM_ADMINS: ADMIN },
    customers: [
      { id: "C-A1", name: "Alpha One", owner: REP_A },
      { id: "C-A2", name: "Acme A", owner: REP_A },
      { id: "C-B1", name: "Bravo One", owner: REP_B },
      { id: "C-B2", name: "Acme B", owner: REP_B },
      { id: "C-C1", name: "Charlie One", owner: REP_C },
      { id: "C-N", name: "Nobody Inc", owner: null },
    ],
  });
  await sweep(h.store);
});
afterAll(async () => h.close());

const { answer, customerOf, nudgeOf, touchesOf, snooze, picker } = asUser(() => h);

const customerId = async (externalId: string) => String((await customerOf(externalId)).id);

const touchModalValues = (id: string) => ({
  customer: { customer_search: { type: "external_select", selected_option: { text: { type: "plain_text", text: "x" }, value: id } } },
  kind: { kind: { type: "static_select", selected_option: { text: { type: "plain_text", text: "call" }, value: "call" } } },
  date: { date: { type: "datepicker", selected_date: "2026-11-22" } },
  note: { note: { type: "plain_text_input", value: null } },
});

describe("a rep sees and acts on their own customers only", () => {
  it("looks up, lists and picks their own; another rep's customer answers like none at all", async () => {
    expect(await answer("/keepwarm", "customer C-A1", REP_A)).toContain("*Alpha One* (C-A1)");
    const other = await answer("/keepwarm", "customer C-B1", REP_A);
    expect(other).toContain('No customer matches \\"C-B1\\"');
    expect(other).not.toContain("Bravo");
    expect(await answer("/keepwarm", "customer Bravo", REP_A)).not.toContain("Bravo One");
    const quiet = await answer("/keepwarm", "quiet", REP_A);
    expect(quiet).toContain("Your quiet customers* (2");
    expect(quiet).toContain("Alpha One");
    for (const hidden of ["Bravo", "Acme B", "Charlie", "Nobody"]) expect(quiet).not.toContain(hidden);
    expect(await picker("Acme", REP_A)).toEqual(["Acme A (C-A2)"]);
  });

  it("cannot touch, snooze or dismiss another rep's customer, even with a forged submission", async () => {
    expect(await answer("/touch", "C-B1 call", REP_A)).toContain("None of the customers you can log touches for");
    expect(await touchesOf("C-B1")).toBe(0);
    // "Acme" names two customers; only one is theirs: that is the one.
    expect(await answer("/touch", "Acme call", REP_A)).toContain("Logged a call with *Acme A*");
    expect(await touchesOf("C-A2")).toBe(1);
    expect(await touchesOf("C-B2")).toBe(0);

    expect(await snooze("C-B1", REP_A)).toContain("customer of another rep");
    expect((await nudgeOf("C-B1")).status).toBe("open");
    const { id } = await nudgeOf("C-B1");
    const forgedDismiss = await h.interact(viewSubmission("dismiss_modal", {}, JSON.stringify({ nudgeId: id }), REP_A));
    expect(JSON.stringify(forgedDismiss.json)).toContain("customer of another rep");
    expect((await nudgeOf("C-B1")).status).toBe("open");
    const forgedTouch = await h.interact(viewSubmission("touch_modal", touchModalValues(await customerId("C-B1")), '{"nudgeId":null,"channel":null}', REP_A));
    expect(forgedTouch.json).toMatchObject({ response_action: "errors", errors: { customer: "Choose one of your customers from the list." } });
    expect(await touchesOf("C-B1")).toBe(0);
    const logButton = await h.interact(
      blockAction(
        { type: "button", action_id: "nudge_log_touch", value: JSON.stringify({ n: id }) },
        { user: REP_A, responseUrl: h.fake.responseUrl("log-b") },
      ),
    );
    expect(logButton.status).toBe(200);
    expect(JSON.stringify(await h.response("log-b"))).toContain("customer of another rep");
    expect(h.fake.callsOf("views.open")).toHaveLength(0);
  });
});

describe("a lead also sees and acts on the customers of the reps they manage", () => {
  it("sees the team, not other teams nor unowned customers; acts on the team's nudges", async () => {
    expect(await answer("/keepwarm", "customer C-B1", LEAD)).toContain("*Bravo One* (C-B1)");
    expect(await answer("/keepwarm", "customer C-C1", LEAD)).not.toContain("Charlie One");
    const quiet = await answer("/keepwarm", "quiet", LEAD);
    expect(quiet).toContain("Your team's quiet customers*");
    for (const shown of ["Alpha One", "Bravo One", "Acme B"]) expect(quiet).toContain(shown);
    for (const hidden of ["Charlie", "Nobody"]) expect(quiet).not.toContain(hidden);
    expect(await picker("Acme", LEAD)).toEqual(["Acme A (C-A2)", "Acme B (C-B2)"]);
    expect(await snooze("C-B1", LEAD)).toContain("Snoozed for 3 days");
    expect((await nudgeOf("C-B1")).status).toBe("snoozed");
    expect(await snooze("C-C1", LEAD)).toContain("customer of another rep");
    expect(await answer("/touch", "C-C1 call", LEAD)).toContain("None of the customers you can log touches for");
    expect(await touchesOf("C-C1")).toBe(0);
  });
});

describe("an admin sees everything", () => {
  it("looks up any customer, lists every quiet one (unowned included), acts on any nudge", async () => {
    expect(await answer("/keepwarm", "customer C-C1", ADMIN)).toContain("*Charlie One* (C-C1)");
    expect(await answer("/keepwarm", "customer Nobody", ADMIN)).toContain("Owner: none");
    const quiet = await answer("/keepwarm", "quiet", ADMIN);
    expect(quiet).toContain("All quiet customers*");
    for (const shown of ["Charlie One", "Nobody Inc"]) expect(quiet).toContain(shown);
    expect(await snooze("C-C1", ADMIN)).toContain("Snoozed for 3 days");
    expect(await answer("/touch", "C-N call", ADMIN)).toContain("Logged a call with *Nobody Inc*");
  });
});

describe("anyone else gets a polite refusal and nothing else", () => {
  it("no customer, list, number or action", async () => {
    for (const text of ["customer C-A1", "customer Alpha", "quiet", "stats"]) {
      const reply = await answer("/keepwarm", text, STRANGER);
      expect(reply).toContain(STRANGER_TEXT);
      for (const name of ["Alpha", "Acme", "Bravo", "Charlie", "Nobody"]) expect(reply).not.toContain(name);
    }
    expect(await answer("/touch", "C-A1 call", STRANGER)).toContain(STRANGER_TEXT);
    expect(await touchesOf("C-A1")).toBe(0);
    expect(await snooze("C-A1", STRANGER)).toContain("customer of another rep");
    expect((await nudgeOf("C-A1")).status).toBe("open");
    expect(await picker("A", STRANGER)).toEqual([]);
    // Help stays open to everyone.
    expect(await answer("/keepwarm", "help", STRANGER)).toContain("/keepwarm quiet");
  });
});
