// Registers every built-in cleaning rule. Each file defines its rules with defineStep.
import './text-rules.js';
import './email.js';
import './phone.js';
import './person-name-rule.js';
import './date.js';
import './picklist.js';
import './country.js';
import './constraints.js';
