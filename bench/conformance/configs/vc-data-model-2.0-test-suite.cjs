/*
 * w3c/vc-data-model-2.0-test-suite: every test filters on the tag `vc2.0` (tests/*.js,
 * `filterByTag({tags: ['vc2.0']})`) and uses the first issuer, verifier and vpVerifier carrying it.
 * Not tagged: `EnvelopingProof` (4.13.2-envelopes.js, VC-JOSE-COSE envelopes we do not issue).
 * The suite signs its own VPs/VCs with eddsa-rdfc-2022 (did:key), so the verifier endpoints need
 * that suite whatever our issuer uses; we issue with eddsa-rdfc-2022 too, as its README asks.
 */
'use strict';
const {issuer, perseus, verifier, vpVerifier} = require('./common.cjs');

const tags = ['vc2.0'];
module.exports = perseus({
  issuers: [issuer({profile: 'eddsa', cryptosuite: 'eddsa-rdfc-2022', tags})],
  verifiers: [verifier({tags})],
  vpVerifiers: [vpVerifier({tags})],
});
