// Fuzz cases that fail on today's code and are being fixed. Each entry: a pattern over case
// names, the outcomes it excuses (never 'crash'; 'hang' only where listed), and why. The suite
// prints these but does not fail on them, and reports an entry that no longer matches any
// failure as stale: delete entries as fixes land (FUZZ_STRICT=1 ignores this list). Never weaken
// or delete a case instead. Empty: every case passes.
'use strict';
const KNOWN_FAILURES = [];
module.exports = { KNOWN_FAILURES };
