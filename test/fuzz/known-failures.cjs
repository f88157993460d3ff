// Fuzz cases that fail on today's code and are being fixed elsewhere (issue 9): each entry is a
// pattern over case names and why. The suite reports them but does not fail on them; an entry
// that no longer matches any failure is reported as stale. Remove entries as the fixes land:
// never weaken or delete a case instead.
'use strict';
const KNOWN_FAILURES = [];
module.exports = { KNOWN_FAILURES };
