import { describeAggregate } from "./aggregates";
import { FACTS, type FactCatalog } from "./catalog";
import { type FactDefinition, usesOf } from "./definition";

/** The markers in docs/rules.md between which the fact table is generated. */
export const FACT_TABLE_BEGIN = "<!-- fact table: generated from the fact definitions (packages/rules/src/facts); do not edit by hand -->";
export const FACT_TABLE_END = "<!-- end of fact table -->";

const typeOf = (definition: FactDefinition) => `${definition.type}${definition.nullable ? " or null" : ""}`;

function source(definition: FactDefinition): string {
  const aggregates = Object.values(definition.aggregates ?? {}).map(describeAggregate);
  if (aggregates.length > 0) return aggregates.join("; ");
  const uses = usesOf(definition, undefined);
  if (uses.length > 0) return `from ${uses.map((use) => (typeof use === "string" ? `\`${use}\`` : `\`${use.fact}\` ${use.daysAgo} days ago`)).join(", ")}`;
  if (definition.requires === "health") return "the health block's components";
  return "the customer record";
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** The fact table of docs/rules.md, one row per definition. */
export function factTableMarkdown(catalog: FactCatalog = FACTS): string {
  const rows = catalog.definitions.map(
    (d) => `| \`${d.name}\` | ${typeOf(d)} | ${d.unit ?? ""} | ${cell(d.description)} | ${cell(source(d))} | \`${cell(d.example)}\` |`,
  );
  return [
    "| fact | type | unit | meaning | computed from | example |",
    "|---|---|---|---|---|---|",
    ...rows,
    '| `attributes.<name>` | any |  | an extra column of the customers CSV, under the name the import stores: lower case, other signs `_` ("Annual Revenue" is `attributes.annual_revenue`); `null` when absent | the customer record | `"emea"` |',
  ].join("\n");
}

/** `text` with the part between the fact-table markers replaced by the generated table. */
export function withFactTable(text: string, catalog: FactCatalog = FACTS): string {
  const begin = text.indexOf(FACT_TABLE_BEGIN);
  const end = text.indexOf(FACT_TABLE_END);
  if (begin < 0 || end < begin) throw new Error("the fact table markers are missing");
  return `${text.slice(0, begin + FACT_TABLE_BEGIN.length)}\n${factTableMarkdown(catalog)}\n${text.slice(end)}`;
}
