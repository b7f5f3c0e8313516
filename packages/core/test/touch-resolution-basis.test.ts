import { buildFactProgram, Calendar, type FactInput } from "@keepwarm/rules";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { logTouch } from "../src/index";
import { addCustomer, daysBefore, freshIngestStore, type IngestFixture, NOW } from "./ingest-fixtures";
import { sweepAt } from "./sweep-fixtures";

let fixture: IngestFixture;
beforeEach(async () => {
  fixture = await freshIngestStore();
});
afterEach(() => fixture.close());

const status = async (store: IngestFixture["store"], customerId: number) =>
  (await store.db.selectFrom("nudges").select("status").where("customer_id", "=", customerId).where("rule_id", "=", "no-contact").executeTakeFirst())?.status;

describe("which touch answers a nudge about a never-touched customer", () => {
  it("a touch from before the customer's start date resolves nothing; a later one resolves it", async () => {
    const { store } = fixture;
    const id = await addCustomer(store, { id: "C-NEW", segment: "smb", since: daysBefore(40) });
    await sweepAt(store, NOW);
    expect(await status(store, id)).toBe("open");
    await logTouch(store, { customerId: id, kind: "call", occurredAt: daysBefore(60), source: "import", now: NOW });
    expect(await status(store, id)).toBe("open");
    await logTouch(store, { customerId: id, kind: "call", occurredAt: daysBefore(1), source: "cli", now: NOW });
    expect(await status(store, id)).toBe("resolved");
  });
});

describe("attribute facts", () => {
  it("an attribute named like an Object prototype member is null when absent, never a function", () => {
    const row = {
      id: 1,
      externalId: "C-1",
      name: "A",
      segment: null,
      lifecycleStage: null,
      tier: null,
      ownerSlackId: null,
      loyaltyMember: 0,
      sinceAt: null,
      renewalAt: null,
      churnedAt: null,
      createdAt: NOW,
      attributes: "{}",
      values: [],
    } satisfies FactInput;
    // Attribute names are lower case (normaliseName): these are the prototype's members a rule can name.
    const facts = buildFactProgram(["attributes.constructor", "attributes.__proto__"]).evaluate(row, NOW, new Calendar("UTC"));
    expect(facts["attributes.constructor"]).toBeNull();
    expect(facts["attributes.__proto__"]).toBeNull();
  });
});
