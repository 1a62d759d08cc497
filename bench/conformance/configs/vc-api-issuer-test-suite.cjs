/*
 * w3c-ccg/vc-api-issuer-test-suite: tag `vc-api` on issuers (tests/10-issuer.js), and `vc-api` + `JWT`
 * (tests/11-issuer-jwt.js) on an issuer that answers VC-JOSE-COSE enveloped credentials.
 */
'use strict';
const {issuer, jwtIssuer, perseus} = require('./common.cjs');

// The Data Integrity issuer must come first: tests/10-issuer.js takes the first `vc-api` issuer.
// tests/11-issuer-jwt.js takes the one tagged both `vc-api` and `JWT` (EXPECTATIONS.md §10).
module.exports = perseus({
  issuers: [
    issuer({profile: 'eddsa', cryptosuite: 'eddsa-rdfc-2022', tags: ['vc-api']}),
    jwtIssuer({profile: 'eddsa', tags: ['vc-api', 'JWT']}),
  ],
});
