/*
 * w3c-ccg/vc-api-verifier-test-suite: tag `vc-api` on verifiers (tests/10-vc-di.js), `JWT` on the same
 * verifier and on a VC-JOSE-COSE issuer (tests/11-vc-jwt.js). 12-vp-di.js and 13-vp-jwt.js define no tests.
 */
'use strict';
const {jwtIssuer, perseus, verifier} = require('./common.cjs');

// tests/11-vc-jwt.js makes its one valid credential with the `JWT` issuer of the implementation named
// by ISSUER_NAME_JWT (run.sh sets it to ours, 'Perseus'; the suite's default is another vendor's
// service) and sends it, and broken copies of it, to every `JWT` verifier (EXPECTATIONS.md §10).
module.exports = perseus({
  issuers: [jwtIssuer({profile: 'eddsa', tags: ['JWT']})],
  verifiers: [verifier({tags: ['vc-api', 'JWT']})],
});
