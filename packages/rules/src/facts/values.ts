/** What a fact is: the values a rule compares. */
export type FactValue = string | number | boolean | null;
export type Facts = Record<string, FactValue>;
