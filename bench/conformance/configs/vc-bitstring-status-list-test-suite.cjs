/*
 * w3c/vc-bitstring-status-list-test-suite: tag `BitstringStatusList` on the issuer and the
 * verifier (tests/*.js). `Revocation` is what the README asks status-list implementers to add;
 * no test reads it. The suite never asks for a status entry: it issues a plain VC 2.0 credential
 * and expects `credentialStatus` in the result. Our service adds status entries to every
 * credential it issues, so no option is needed (it refuses options it does not know, such as the
 * VC API's `credentialStatus`).
 */
'use strict';
const {issuer, perseus, verifier} = require('./common.cjs');

const tags = ['BitstringStatusList', 'Revocation'];
module.exports = perseus({
  issuers: [issuer({profile: 'eddsa', cryptosuite: 'eddsa-rdfc-2022', tags})],
  verifiers: [verifier({tags})],
});
