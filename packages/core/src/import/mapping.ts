import { existsSync, readFileSync } from "node:fs";
import { normaliseName } from "@keepwarm/rules";
import { UserError } from "../errors";
import type { ImportKind } from "./kinds";

/** Which file column fills which keepwarm column (or attribute), by the header's normalised name. */
export interface ColumnMapping {
  /** Normalised header → target as written (a column, an attribute name), or null: ignore the column. */
  readonly columns: ReadonlyMap<string, { header: string; target: string | null; from: string }>;
}

/** The mappings keepwarm ships, by the name `--mapping` takes (see packages/core/src/import/mappings/). */
export const SHIPPED_MAPPINGS = ["hubspot-companies", "salesforce-accounts"] as const;

/** Parse `--map "Company ID=id,Company name=name,Last Activity="` (an empty target ignores the column). */
export function parseMapOption(text: string): Array<{ header: string; target: string | null }> {
  const entries: Array<{ header: string; target: string | null }> = [];
  for (const part of text.split(",")) {
    if (part.trim() === "") continue;
    const at = part.lastIndexOf("=");
    if (at <= 0) throw new UserError(`--map: "${part.trim()}" is not HEADER=COLUMN (e.g. --map "Company ID=id,Company name=name")`);
    const target = part.slice(at + 1).trim();
    entries.push({ header: part.slice(0, at).trim(), target: target === "" ? null : target });
  }
  return entries;
}

/** A mapping file (or a shipped mapping's name): `{"kind": "customers", "columns": {"Record ID": "id", "Industry": null}}`. */
export function readMappingFile(nameOrPath: string, kind: ImportKind): Array<{ header: string; target: string | null }> {
  const shipped = (SHIPPED_MAPPINGS as readonly string[]).includes(nameOrPath) && !existsSync(nameOrPath);
  const path = shipped ? new URL(`./mappings/${nameOrPath}.json`, import.meta.url) : nameOrPath;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === "ENOENT" ? `no such file (shipped mappings: ${SHIPPED_MAPPINGS.join(", ")})` : (error as Error).message;
    throw new UserError(`--mapping ${nameOrPath}: ${reason}`);
  }
  const record = value as { kind?: unknown; columns?: unknown };
  if (value === null || typeof value !== "object" || record.columns === null || typeof record.columns !== "object" || Array.isArray(record.columns)) {
    throw new UserError(`--mapping ${nameOrPath}: expected {"kind": "${kind}", "columns": {"File header": "keepwarm column", …}}`);
  }
  if (record.kind !== undefined && record.kind !== kind) throw new UserError(`--mapping ${nameOrPath} maps ${String(record.kind)} files, not ${kind}`);
  return Object.entries(record.columns as Record<string, unknown>).map(([header, target]) => {
    if (target !== null && typeof target !== "string") throw new UserError(`--mapping ${nameOrPath}: the target of "${header}" must be a column name or null`);
    return { header, target: target === null || target.trim() === "" ? null : target.trim() };
  });
}

/**
 * One mapping from a mapping file and `--map` entries (which win). Entries of a mapping
 * file whose header a file lacks are fine (one file serves several export variants);
 * a `--map` header the file lacks is refused (see planColumns).
 */
export function buildMapping(
  fromFile: ReadonlyArray<{ header: string; target: string | null }>,
  fromOption: ReadonlyArray<{ header: string; target: string | null }>,
): ColumnMapping {
  const columns = new Map<string, { header: string; target: string | null; from: string }>();
  for (const [entries, from] of [
    [fromFile, "mapping"],
    [fromOption, "--map"],
  ] as const) {
    for (const entry of entries) columns.set(normaliseName(entry.header), { ...entry, from });
  }
  return { columns };
}

/** The mapping `--mapping` and `--map` ask for; undefined when neither is given. */
export function columnMapping(kind: ImportKind, options: { map?: string | undefined; mapping?: string | undefined }): ColumnMapping | undefined {
  if (options.map === undefined && options.mapping === undefined) return undefined;
  return buildMapping(
    options.mapping === undefined ? [] : readMappingFile(options.mapping, kind),
    options.map === undefined ? [] : parseMapOption(options.map),
  );
}
