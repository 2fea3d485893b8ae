import { builtinStep, type StepDefinition } from '../mapping/steps.js';
import { collapseSpaces } from '../values.js';
import { changed, textRule } from './rule-helpers.js';

/** The steps this module defines, registered with the rest in mapping/builtin-steps.ts. */
export const STEPS: StepDefinition<unknown>[] = [];

STEPS.push(
  builtinStep({
    name: 'trim',
    kind: 'clean',
    takes: 'one',
    create: () => textRule((s) => changed(s, s.trim(), 'trimmed')),
  }),
);

STEPS.push(
  builtinStep({
    name: 'collapse_spaces',
    kind: 'clean',
    takes: 'one',
    create: () => textRule((s) => changed(s, collapseSpaces(s), 'spaces_collapsed')),
  }),
);

STEPS.push(
  builtinStep({
    name: 'lower',
    kind: 'clean',
    takes: 'one',
    create: () => textRule((s) => changed(s, s.toLowerCase(), 'case_changed')),
  }),
);
STEPS.push(
  builtinStep({
    name: 'upper',
    kind: 'clean',
    takes: 'one',
    create: () => textRule((s) => changed(s, s.toUpperCase(), 'case_changed')),
  }),
);

/** Unicode NFC: "é" typed as e + combining accent becomes the one character most systems compare against. */
STEPS.push(
  builtinStep({
    name: 'nfc',
    kind: 'clean',
    takes: 'one',
    create: () => textRule((s) => changed(s, s.normalize('NFC'), 'normalized')),
  }),
);
