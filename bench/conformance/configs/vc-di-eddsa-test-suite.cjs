/*
 * w3c/vc-di-eddsa-test-suite: config/runner.json maps the cryptosuites to the tags
 * `eddsa-rdfc-2022` and `eddsa-jcs-2022`; tests use the FIRST issuer endpoint with a tag, so the
 * two issuers (same Ed25519 profile, different cryptosuite) must carry one tag each. The verifier
 * carries both (15-di-rdfc-verify.js and the interop files pick verifiers by tag).
 * `supports.vc` is informational here (the ECDSA suite filters on it); the Data Integrity
 * assertion tests issue and verify VC 1.1 documents regardless.
 */
'use strict';
const {issuer, perseus, verifier} = require('./common.cjs');

const supports = {vc: ['1.1', '2.0']};
module.exports = perseus({
  issuers: [
    issuer({profile: 'eddsa', cryptosuite: 'eddsa-rdfc-2022', tags: ['eddsa-rdfc-2022'], supports}),
    issuer({profile: 'eddsa', cryptosuite: 'eddsa-jcs-2022', tags: ['eddsa-jcs-2022'], supports}),
  ],
  verifiers: [verifier({tags: ['eddsa-rdfc-2022', 'eddsa-jcs-2022'], supports})],
});
