/**
 * The one spelling of a column or attribute name, used by the CSV import (for its
 * headers and the attributes it stores) and by the rule validator (which suggests it):
 * lower case, every run of characters other than a–z, 0–9, '_' and '-' becomes one '_'
 * (so "Annual Revenue" is `annual_revenue`, "Région" is `r_gion`), no '_' at either end,
 * a leading digit or '-' gets a '_' before it, at most 64 characters. Empty when
 * nothing is left.
 */
export function normaliseName(raw: string): string {
  let name = raw
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "_")
    .replace(/^_+|_+$/g, "");
  if (/^[0-9-]/.test(name)) name = `_${name}`;
  return name.slice(0, 64);
}
