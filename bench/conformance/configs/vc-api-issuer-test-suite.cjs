/*
 * w3c-ccg/vc-api-issuer-test-suite: tag `vc-api` on issuers (tests/10-issuer.js). Not tagged:
 * `JWT` (11-issuer-jwt.js; we do not issue VC-JWTs).
 */
'use strict';
const {issuer, perseus} = require('./common.cjs');

module.exports = perseus({
  issuers: [issuer({profile: 'eddsa', cryptosuite: 'eddsa-rdfc-2022', tags: ['vc-api']})],
});
