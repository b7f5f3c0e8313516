import { attributesNamed, type RuleFile, unmatchedValueWarnings, type ValueWarning } from "@keepwarm/rules";
import { type Store, storedCustomerValues } from "@keepwarm/store";

/** The rule file's comparisons to values no stored customer has (see unmatchedValueWarnings). */
export async function ruleValueWarnings(store: Store, ruleFile: RuleFile): Promise<ValueWarning[]> {
  return unmatchedValueWarnings(ruleFile, await storedCustomerValues(store.db, attributesNamed(ruleFile)));
}
