import type { z } from 'zod';
import type { LogicalType, Value } from '../values.js';

/**
 * What a rule found about a value, as data (like a Zod issue), never an exception:
 * `invalid` — the value is bad and the field's `invalid:` policy decides; `fixed` — the rule corrected it;
 * `flag` — worth counting, the value stands.
 */
export interface StepIssue {
  readonly code: string;
  readonly kind: 'invalid' | 'fixed' | 'flag';
  /**
   * A category value safe to report (a picklist code nobody mapped). Never a customer's field value:
   * reports show it.
   */
  readonly detail?: string;
}

export interface StepResult {
  readonly value: Value;
  readonly issues?: readonly StepIssue[] | undefined;
}

/** The row a step runs in, for steps that read other columns (a phone's country from the row's country). */
export interface StepContext {
  /** A source column of the current row; only columns the step declared in `reads`. */
  get(column: string): Value;
}

/** A compiled step: one input value (or several, for steps that combine fields) to a result. */
export type StepFunction = (input: Value | readonly Value[], context?: StepContext) => StepResult;

/**
 * A named step usable from a plan. `transform` steps reshape (name parts, join, cast, value maps);
 * `clean` steps check and normalise (trim, email). Options are validated by `options` when the plan loads.
 */
export interface StepDefinition<Options = unknown> {
  readonly name: string;
  /** `protect` steps come from a field's `protect:` key only (hash, mask, encrypt, drop), never from transform or clean. */
  readonly kind: 'transform' | 'clean' | 'protect' | 'identity';
  /** `many`: takes the list of values of a multi-column `from` (join, coalesce). */
  readonly takes: 'one' | 'many';
  /** The type of what it produces; absent when it keeps its input's type. */
  readonly output?: LogicalType | ((options: Options) => LogicalType);
  /** Validates the options; a step without options accepts only the bare name. */
  readonly options?: z.ZodType<Options>;
  /** Source columns the step reads besides its input; they are read and checked like any `from`. */
  readonly reads?: (options: Options) => readonly string[];
  create(options: Options): StepFunction;
}

// Stored with their options type erased: `create` is only ever called with what `options` parsed.
const registry = new Map<string, StepDefinition<unknown>>();
/** The steps the library defines itself; filled when its modules load (see sealBuiltinSteps). */
const builtins = new Set<string>();
let sealed = false;

/** Adds a step to the registry, so plans can name it. Names are unique. */
/**
 * A step of the library's own, typed as defineStep types it, for its module's `STEPS` list; the list of lists
 * is registered in one place (builtin-steps.ts), as connectors are listed in connectors/index.ts.
 */
export function builtinStep<Options>(definition: StepDefinition<Options>): StepDefinition<unknown> {
  return definition as unknown as StepDefinition<unknown>;
}

export function defineStep<Options>(definition: StepDefinition<Options>): StepDefinition<Options> {
  if (registry.has(definition.name)) throw new Error(`a step named "${definition.name}" is already defined`);
  registry.set(definition.name, definition as unknown as StepDefinition<unknown>);
  return definition;
}

/** Marks every step defined so far as built in: called once, after the library's own steps are registered. */
export function sealBuiltinSteps(): void {
  if (sealed) return;
  for (const name of registry.keys()) builtins.add(name);
  sealed = true;
}

/**
 * Whether the library defines this step itself. A worker thread loads the library afresh, so it knows
 * only these: entities using a step defined from TypeScript with defineStep are mapped on the main thread.
 */
export function isBuiltinStep(name: string): boolean {
  return builtins.has(name);
}

export function findStep(name: string): StepDefinition<unknown> | undefined {
  return registry.get(name);
}

export function stepNames(kind?: StepDefinition['kind']): string[] {
  return [...registry.values()].filter((d) => kind === undefined || d.kind === kind).map((d) => d.name);
}

export const ok = (value: Value): StepResult => ({ value });
export const invalid = (value: Value, code: string): StepResult => ({ value, issues: [{ code, kind: 'invalid' }] });
