import { DAY_MS } from "@keepwarm/store";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { blockAction, countRows, type Harness, NOW, REP, startHarness } from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    customers: [
      { id: "C-1", name: "Acme Corp" },
      { id: "C-2", name: "Acme Logistics" },
      { id: "C-3", name: "Call Center Inc" },
      { id: "C-4", name: "Søren & Co" },
      { id: "C-5", name: "Globex Industries" },
      { id: "C-6", name: "Meeting" },
      { id: "C-7", name: 'O\'Brien "Bakery"' },
    ],
  });
});
afterAll(async () => h.close());

const lastTouch = () =>
  h.store.db
    .selectFrom("touchpoints as t")
    .innerJoin("customers as c", "c.id", "t.customer_id")
    .select(["t.kind", "t.occurred_at as occurredAt", "t.note", "t.source", "t.logged_by as loggedBy", "c.external_id as customer"])
    .orderBy("t.id", "desc")
    .limit(1)
    .executeTakeFirst();
const touchCount = () => countRows(h.store, "touchpoints");

async function touch(text: string) {
  const res = await h.command("/touch", text);
  expect(res.status).toBe(200);
  const answer = await h.response(res.responseId);
  expect(answer.response_type).toBe("ephemeral");
  return answer;
}

describe("/touch", () => {
  it.each([
    ["Acme Corp call yesterday renewal looks safe", { customer: "C-1", kind: "call", note: "renewal looks safe", day: -1 }],
    ["acme corp email", { customer: "C-1", kind: "email", note: null, day: 0 }],
    ["C-5 meeting 2026-11-20 quarterly review", { customer: "C-5", kind: "meeting", note: "quarterly review", day: -3 }],
    ["Globex visit", { customer: "C-5", kind: "visit", note: null, day: 0 }],
    ["Call Center Inc call", { customer: "C-3", kind: "call", note: null, day: 0 }],
    ["Søren &amp; Co chat today", { customer: "C-4", kind: "chat", note: null, day: 0 }],
    ["Meeting meeting", { customer: "C-6", kind: "meeting", note: null, day: 0 }],
    ["\"Acme Logistics\" other TODAY said 'hi' 🎉", { customer: "C-2", kind: "other", note: "said 'hi' 🎉", day: 0 }],
    [
      "c-1 call talked to <@U0BOSS|boss> about <https://acme.example|the site>",
      { customer: "C-1", kind: "call", note: "talked to @boss about the site", day: 0 },
    ],
    ["Acme Corp call Robert'); DROP TABLE customers;--", { customer: "C-1", kind: "call", note: "Robert'); DROP TABLE customers;--", day: 0 }],
  ])("logs %j", async (text, expected) => {
    const answer = await touch(text);
    expect(String(answer.text)).toContain(":white_check_mark: Logged");
    const t = await lastTouch();
    expect(t).toMatchObject({ customer: expected.customer, kind: expected.kind, note: expected.note, source: "slack", loggedBy: REP });
    const expectedDay = Math.floor(NOW / DAY_MS) + expected.day;
    expect(Math.floor((t?.occurredAt ?? 0) / DAY_MS)).toBe(expectedDay);
  });

  it("offers buttons when the name is ambiguous, and the choice logs with the rest of the text", async () => {
    const before = await touchCount();
    const answer = await touch("Acme call yesterday from the button");
    expect(await touchCount()).toBe(before);
    expect(String(answer.text)).toContain("matches 2 customers");
    const actions = (answer.blocks as Array<{ type: string; elements?: Array<{ action_id: string; value: string; text: { text: string } }> }>).find(
      (b) => b.type === "actions",
    );
    const logistics = actions?.elements?.find((e) => e.text.text.startsWith("Acme Logistics"));
    expect(logistics).toBeDefined();
    const res = await h.interact(
      blockAction({ type: "button", action_id: logistics?.action_id, value: logistics?.value }, { responseUrl: h.fake.responseUrl("choose") }),
    );
    expect(res.status).toBe(200);
    const chosen = await h.response("choose");
    expect(String(chosen.text)).toContain("Logged a call with *Acme Logistics*");
    expect(await lastTouch()).toMatchObject({ customer: "C-2", kind: "call", note: "from the button" });
  });

  it("suggests near names when nothing matches", async () => {
    const answer = await touch("Globx Industries call");
    expect(String(answer.text)).toContain('No customer matches "Globx Industries"');
  });

  it("opens the form for /touch alone and explains usage for /touch help", async () => {
    const opened = h.fake.callsOf("views.open").length;
    const res = await h.command("/touch", "");
    expect(res.status).toBe(200);
    const call = await h.fake.waitFor(() => h.fake.callsOf("views.open")[opened]);
    const view = call.args.view as { callback_id: string; blocks: Array<{ block_id: string; element: { type: string } }> };
    expect(view.callback_id).toBe("touch_modal");
    expect(view.blocks.map((b) => b.element.type)).toEqual(["external_select", "static_select", "datepicker", "plain_text_input"]);
    const help = await h.command("/touch", "help");
    expect(JSON.stringify(help.json)).toContain("/touch &lt;customer&gt; [kind] [date]");
  });

  it.each([
    ["x".repeat(10_000), /too long/],
    ["Acme Corp call 2099-01-01", /in the future/],
    ["Acme Corp call 2026-02-31", /not a date/],
    ["<@U0123>", /No customer matches "@U0123"/],
    ['"', /No customer matches|Log a touch/],
    ["'; DELETE FROM touchpoints; --", /No customer matches/],
    ["🙂🙂🙂", /No customer matches/],
    ["%", /No customer matches/],
    ["   ", /Log a touch/],
  ])("answers bad input %# with a clear ephemeral message and logs nothing", async (text, pattern) => {
    const before = await touchCount();
    const res = await h.command("/touch", text);
    expect(res.status).toBe(200);
    if (text.trim() === "") {
      // Blank text opens the form instead.
      await h.fake.waitFor(() => h.fake.callsOf("views.open").length > 0);
      return;
    }
    const answer = await h.response(res.responseId);
    expect(String(answer.text)).toMatch(pattern);
    expect(await touchCount()).toBe(before);
    expect(await countRows(h.store, "customers")).toBe(7);
  });

  it("acknowledges within Slack's 3 seconds", async () => {
    const started = Date.now();
    const res = await h.command("/touch", "Acme Corp call quick");
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
