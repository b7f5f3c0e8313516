import type { FactType } from "../operators";
import { CUSTOMER_FACTS } from "./builtin/customer";
import { HEALTH_FACTS } from "./builtin/health";
import { NPS_FACTS } from "./builtin/nps";
import { PURCHASE_FACTS } from "./builtin/purchases";
import { TOUCH_FACTS } from "./builtin/touches";
import type { FactDefinition } from "./definition";

/** attributes.<name>, the name as the import stores it (see normaliseName): lower case, so a rule cannot name one that matches nobody. */
export const ATTRIBUTE_FACT = /^attributes\.[a-z_][a-z0-9_-]{0,63}$/;

/**
 * Every fact a rule may use (plus attributes.<name>), in the order docs list them.
 * One catalog serves the whole process; `add` is how a test proves that one
 * definition is all a new fact needs (it returns the function that takes it out again).
 */
export class FactCatalog {
  readonly #definitions = new Map<string, FactDefinition>();

  constructor(definitions: readonly FactDefinition[]) {
    for (const definition of definitions) this.#put(definition);
  }

  #put(definition: FactDefinition): void {
    if (this.#definitions.has(definition.name)) throw new Error(`fact "${definition.name}" is defined twice`);
    if (ATTRIBUTE_FACT.test(definition.name)) throw new Error(`fact "${definition.name}" would shadow an attribute`);
    this.#definitions.set(definition.name, definition);
  }

  get definitions(): FactDefinition[] {
    return [...this.#definitions.values()];
  }

  get names(): string[] {
    return [...this.#definitions.keys()];
  }

  get(name: string): FactDefinition | undefined {
    return this.#definitions.get(name);
  }

  /** The type a rule compares the fact as; "any" for an attribute; undefined for an unknown name. */
  type(name: string): FactType | undefined {
    if (ATTRIBUTE_FACT.test(name)) return "any";
    return this.#definitions.get(name)?.type;
  }

  add(definition: FactDefinition): () => void {
    this.#put(definition);
    return () => {
      this.#definitions.delete(definition.name);
    };
  }
}

export const FACTS = new FactCatalog([...TOUCH_FACTS, ...NPS_FACTS, ...PURCHASE_FACTS, ...CUSTOMER_FACTS, ...HEALTH_FACTS]);

export const factType = (name: string): FactType | undefined => FACTS.type(name);
