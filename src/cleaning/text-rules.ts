import { defineStep } from '../mapping/steps.js';
import { changed, textRule } from './rule-helpers.js';

defineStep({
  name: 'trim',
  kind: 'clean',
  takes: 'one',
  create: () => textRule((s) => changed(s, s.trim(), 'trimmed')),
});

defineStep({
  name: 'collapse_spaces',
  kind: 'clean',
  takes: 'one',
  create: () => textRule((s) => changed(s, s.replace(/\s+/g, ' ').trim(), 'spaces_collapsed')),
});

defineStep({
  name: 'lower',
  kind: 'clean',
  takes: 'one',
  create: () => textRule((s) => changed(s, s.toLowerCase(), 'case_changed')),
});
defineStep({
  name: 'upper',
  kind: 'clean',
  takes: 'one',
  create: () => textRule((s) => changed(s, s.toUpperCase(), 'case_changed')),
});

/** Unicode NFC: "é" typed as e + combining accent becomes the one character most systems compare against. */
defineStep({
  name: 'nfc',
  kind: 'clean',
  takes: 'one',
  create: () => textRule((s) => changed(s, s.normalize('NFC'), 'normalized')),
});
