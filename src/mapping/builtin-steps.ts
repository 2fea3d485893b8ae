import { STEPS as constraints } from '../cleaning/constraints.js';
import { STEPS as country } from '../cleaning/country.js';
import { STEPS as date } from '../cleaning/date.js';
import { STEPS as email } from '../cleaning/email.js';
import { STEPS as personName } from '../cleaning/person-name-rule.js';
import { STEPS as phone } from '../cleaning/phone.js';
import { STEPS as picklist } from '../cleaning/picklist.js';
import { STEPS as text } from '../cleaning/text-rules.js';
import { STEPS as protect } from '../protect/steps.js';
import { STEPS as expressions } from './expressions.js';
import { STEPS as identity } from './identity.js';
import { STEPS as json } from './json-build.js';
import { defineStep, sealBuiltinSteps } from './steps.js';
import { STEPS as transforms } from './transforms.js';

/**
 * Every step the library defines, in one list: transforms and casts, identity (refs, lookups, new ids), the
 * expression and JSON steps, the cleaning rules, the protections. A plan may name any of them; a step defined
 * from TypeScript with defineStep comes after them and is not built in (a worker thread does not know it).
 */
export const BUILTIN_STEPS = [
  ...transforms,
  ...identity,
  ...expressions,
  ...json,
  ...text,
  ...email,
  ...phone,
  ...personName,
  ...date,
  ...picklist,
  ...country,
  ...constraints,
  ...protect,
];

let registered = false;

/** Registers the built-in steps once, then marks them built in. */
export function registerBuiltinSteps(): void {
  if (registered) return;
  registered = true;
  for (const step of BUILTIN_STEPS) defineStep(step);
  sealBuiltinSteps();
}
