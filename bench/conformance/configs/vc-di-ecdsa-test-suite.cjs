/*
 * w3c/vc-di-ecdsa-test-suite: tags `ecdsa-rdfc-2019` and `ecdsa-jcs-2019` (config/runner.json,
 * tests/90-algorithms-*.js); `ecdsa-sd-2023` is not claimed (we do not implement it). Every
 * endpoint needs `supportedEcdsaKeyTypes` (the suite throws without it) and, to be offered both
 * VC versions, `supports.vc` (tests/helpers.js filterVerifiers defaults to ['1.1'] otherwise).
 *
 * One issuer endpoint per (key type, cryptosuite). Note the suite's habit of taking the FIRST
 * matching endpoint (`const [issuer] = endpoints`): the "P-384" columns of 05-rdfc-di-create.js
 * and the 70/90 files in fact exercise the P-256 issuer; only the interop file reaches P-384.
 * PERSEUS_CONFORMANCE_ECDSA_FIRST=p384 puts the P-384 issuers first, to run those tests on it.
 *
 * settings.enableInteropTests turns on 30-rdfc-interop.js (our issuers x our verifier, VC 1.1).
 */
'use strict';
const {issuer, perseus, verifier} = require('./common.cjs');

const supports = {vc: ['1.1', '2.0']};
const ecdsaIssuer = (profile, keyType, cryptosuite) => issuer({
  profile, cryptosuite, tags: [cryptosuite], supportedEcdsaKeyTypes: [keyType], supports
});
const keys = [['p256', 'P-256'], ['p384', 'P-384']];
if(process.env.PERSEUS_CONFORMANCE_ECDSA_FIRST === 'p384') {
  keys.reverse();
}
module.exports = perseus({
  settings: {enableInteropTests: true},
  issuers: ['ecdsa-rdfc-2019', 'ecdsa-jcs-2019'].flatMap(
    cryptosuite => keys.map(([profile, keyType]) => ecdsaIssuer(profile, keyType, cryptosuite))),
  verifiers: [verifier({
    tags: ['ecdsa-rdfc-2019', 'ecdsa-jcs-2019'],
    supportedEcdsaKeyTypes: ['P-256', 'P-384'],
    supports,
  })],
});
