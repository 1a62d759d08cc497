#!/usr/bin/env node
// node keygen.mjs {Ed25519|P-256|P-384} [--out FILE]
// Prints a fresh key in our key-file format: {id, controller,
// type, publicKeyMultibase, secretKeyMultibase} (as issuer/keyfile.py),
// controller = the key's did:key.
// Comparison tooling only; not part of the product.
import {writeFileSync} from 'node:fs';

import * as EcdsaMultikey from '@digitalbazaar/ecdsa-multikey';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';

const [curve, flag, out] = process.argv.slice(2);
let key;
if(curve === 'Ed25519' || curve === 'ed25519') {
  key = await Ed25519Multikey.generate();
} else if(curve === 'P-256' || curve === 'P-384') {
  key = await EcdsaMultikey.generate({curve});
} else {
  process.stderr.write(
    'usage: node keygen.mjs {Ed25519|P-256|P-384} [--out FILE]\n');
  process.exit(2);
}
const {publicKeyMultibase, secretKeyMultibase} =
  await key.export({publicKey: true, secretKey: true});
const controller = `did:key:${publicKeyMultibase}`;
const text = JSON.stringify({
  id: `${controller}#${publicKeyMultibase}`, controller, type: 'Multikey',
  publicKeyMultibase, secretKeyMultibase
}, null, 2) + '\n';
if(flag === '--out' && out) {
  writeFileSync(out, text, {mode: 0o600});
} else {
  process.stdout.write(text);
}
