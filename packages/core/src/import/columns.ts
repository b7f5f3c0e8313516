import { closest, didYouMean, normaliseName } from "@keepwarm/rules";
import { UserError } from "../errors";
import { COLUMN_ALIASES, COLUMNS, type ImportKind } from "./kinds";
import type { ColumnMapping } from "./mapping";

/** What each column of a file fills. */
export interface ColumnPlan {
  /** Per file column: the keepwarm column, (customers) the attribute name, or null: ignored. */
  names: Array<string | null>;
  /** Which of `names` are keepwarm columns (the rest of the non-null ones are attributes). */
  known: ReadonlySet<string>;
  notes: string[];
}

/**
 * Match a header to the kind's columns: through the mapping first, then by name,
 * case- and space-insensitively ("Customer ID", "customer id" and "CUSTOMER_ID" are
 * `customer_id`; see normaliseName). A customers column that is no keepwarm column is
 * an attribute under its normalised name ("Annual Revenue" → attributes.annual_revenue).
 * Touches, NPS and purchases have no attributes: their other columns are ignored, with
 * a note. Problems are thrown as one line naming the file.
 */
export function planColumns(kind: ImportKind, file: string, header: readonly string[], mapping: ColumnMapping | undefined): ColumnPlan {
  const fail = (message: string): never => {
    throw new UserError(`${file}: line 1: ${message}`);
  };
  const { required, optional } = COLUMNS[kind];
  const all = [...required, ...optional];
  const known = new Set(all);
  const aliases = COLUMN_ALIASES[kind];
  const canonical = (name: string) => aliases[name] ?? name;
  const notes: string[] = [];
  const names: Array<string | null> = [];
  const filledBy = new Map<string, string>();
  const used = new Set<string>();
  header.forEach((raw, index) => {
    const normalised = normaliseName(raw);
    const mapped = mapping?.columns.get(normalised);
    if (mapped !== undefined) used.add(normalised);
    let name: string | null;
    if (mapped !== undefined) {
      if (mapped.target === null) {
        names.push(null);
        return;
      }
      name = canonical(normaliseName(mapped.target));
      if (!known.has(name) && kind !== "customers") {
        fail(
          `${mapped.from} maps "${raw}" to "${mapped.target}", which is not a ${kind} column${didYouMean(name, all)}; ${kind} columns are ${all.join(", ")}`,
        );
      }
    } else if (raw.trim() === "") {
      notes.push(`column ${index + 1} has no header; it is ignored`);
      names.push(null);
      return;
    } else {
      name = canonical(normalised);
      if (name === "") fail(`column ${index + 1} ("${raw}") has no letter or digit in its header`);
      if (!known.has(name)) {
        const guess = closest(name, all);
        if (kind === "customers") {
          notes.push(
            `column "${raw}" is imported as attributes.${name}${guess === undefined ? "" : `; did you mean "${guess}"? (map it with --map "${raw}=${guess}")`}`,
          );
        } else {
          notes.push(`column "${raw}" is not a ${kind} column and is ignored${guess === undefined ? "" : ` (did you mean "${guess}"?)`}`);
          names.push(null);
          return;
        }
      }
    }
    const first = filledBy.get(name);
    if (first !== undefined) fail(`columns "${first}" and "${raw}" both fill ${known.has(name) ? "" : "attribute "}"${name}"`);
    filledBy.set(name, raw);
    names.push(name);
  });
  for (const [normalised, entry] of mapping?.columns ?? []) {
    if (entry.from === "--map" && !used.has(normalised)) {
      fail(`--map names column "${entry.header}", which the file does not have${didYouMean(entry.header, header)}; its columns are ${header.join(", ")}`);
    }
  }
  const missing = required.filter((name) => !filledBy.has(name));
  if (missing.length > 0) {
    const list = missing.map((m) => `"${m}"`).join(", ");
    const unused = header.filter((_, i) => names[i] === null || !known.has(names[i] as string));
    const guess = closest(missing[0] as string, unused.map(normaliseName));
    const hint =
      guess === undefined
        ? `map one with --map "HEADER=${missing[0]}"`
        : `did you mean "${unused[unused.map(normaliseName).indexOf(guess)]}"? map it with --map "${unused[unused.map(normaliseName).indexOf(guess)]}=${missing[0]}"`;
    fail(`missing required column${missing.length > 1 ? "s" : ""} ${list} (${hint}); the file's columns are ${header.map((h) => `"${h}"`).join(", ")}`);
  }
  return { names, known, notes };
}
