/*
 * w3c-ccg/vc-api-verifier-test-suite: tag `vc-api` on verifiers (tests/10-vc-di.js). Not tagged:
 * `JWT` (11-vc-jwt.js). 12-vp-di.js and 13-vp-jwt.js define no tests.
 */
'use strict';
const {perseus, verifier} = require('./common.cjs');

module.exports = perseus({
  verifiers: [verifier({tags: ['vc-api']})],
});
