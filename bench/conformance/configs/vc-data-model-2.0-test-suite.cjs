/*
 * w3c/vc-data-model-2.0-test-suite: every test filters on the tag `vc2.0` (tests/*.js,
 * `filterByTag({tags: ['vc2.0']})`) and uses the first issuer, verifier and vpVerifier carrying it.
 * `EnvelopingProof` (4.13.2-envelopes.js) is on a second issuer, which answers VC-JOSE-COSE
 * EnvelopedVerifiableCredentials (`options.envelope`), and on the same verifier and vpVerifier.
 * The suite signs its own VPs/VCs with eddsa-rdfc-2022 (did:key), so the verifier endpoints need
 * that suite whatever our issuer uses; we issue with eddsa-rdfc-2022 too, as its README asks.
 */
'use strict';
const {issuer, jwtIssuer, perseus, verifier, vpVerifier} = require('./common.cjs');

const tags = ['vc2.0', 'EnvelopingProof'];
module.exports = perseus({
  issuers: [
    issuer({profile: 'eddsa', cryptosuite: 'eddsa-rdfc-2022', tags: ['vc2.0']}),
    jwtIssuer({profile: 'eddsa', tags: ['EnvelopingProof']}),
  ],
  verifiers: [verifier({tags})],
  vpVerifiers: [vpVerifier({tags})],
});
