#!/usr/bin/env node
// Independent signer (comparison tool, not part of the product):
//
//   node sign.mjs FILE --key KEYFILE --suite NAME [--created ISO_DATETIME]
//                 [--proof-id URI] [--previous-proof ID]...
//                 [--contexts DIR_OR_MANIFEST] [--context URL=FILE]...
//                 [--out FILE]
//
// Adds a DataIntegrityProof made by @digitalbazaar/vc 7 and prints the
// signed credential (or writes it to --out). NAME is one of eddsa-rdfc-2022,
// ecdsa-rdfc-2019, eddsa-jcs-2022, ecdsa-jcs-2019 (ECDSA: the curve comes
// from the key, P-256 or P-384). KEYFILE is {id, controller,
// publicKeyMultibase, secretKeyMultibase} or {publicKeyMultibase,
// privateKeyMultibase}; id/controller default to the key's did:key.
// An existing proof is kept (the new one joins the proof set); with
// --previous-proof the new proof is chained to the named proof(s).
// Exit status: 0 signed, 1 signing failed, 2 bad input / usage.
import {writeFileSync} from 'node:fs';

import * as vc from '@digitalbazaar/vc';
import jsigs from 'jsonld-signatures';

import {
  ChainAwareDataIntegrityProof, InputError, SUITE_NAMES, createDocumentLoader,
  cryptosuiteFor, loadContexts, loadKeyPair, parseArgs, readJsonFile
} from './lib.mjs';

const USAGE = 'usage: node sign.mjs FILE --key KEYFILE --suite ' +
  `{${SUITE_NAMES.join('|')}} [--created ISO] [--proof-id URI] ` +
  '[--previous-proof ID]... [--contexts DIR_OR_MANIFEST] ' +
  '[--context URL=FILE]... [--out FILE]';

class SignChainProof extends ChainAwareDataIntegrityProof {
  constructor({proofId, previousProof, ...options}) {
    super(options);
    this._proofId = proofId;
    this._previousProof = previousProof;
  }

  // jsonld-signatures builds the proof options, then calls updateProof
  // before creating the verify data; add id / previousProof there.
  async updateProof({proof}) {
    if(this._proofId) {
      proof.id = this._proofId;
    }
    if(this._previousProof) {
      proof.previousProof = this._previousProof;
    }
    return proof;
  }

  // for a chained proof, sign the document with `proof` set to the proofs it
  // references (VC Data Integrity "Add Proof Set/Chain"); jsonld-signatures
  // itself always signs the document with every proof removed
  async createProof(options) {
    return super.createProof(this._chainDoc(options));
  }

  _chainDoc(options) {
    if(!this._previousProof) {
      return options;
    }
    const ids = Array.isArray(this._previousProof) ? this._previousProof :
      [this._previousProof];
    const matching = ids.map(id => {
      const found = this._originalProofs.find(p => p && p.id === id);
      if(!found) {
        throw new InputError(`--previous-proof ${id}: no such proof id`);
      }
      return found;
    });
    return {...options, document: {...options.document, proof: matching}};
  }
}

async function main() {
  const {positional, values} = parseArgs(process.argv.slice(2), {
    options: ['key', 'suite', 'created', 'proof-id', 'contexts', 'out'],
    multi: ['context', 'previous-proof'], flags: ['help']
  });
  if(values.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if(positional.length !== 1 || !values.key || !values.suite) {
    throw new InputError(USAGE);
  }
  if(!SUITE_NAMES.includes(values.suite)) {
    throw new InputError(`unknown --suite ${values.suite}; ${USAGE}`);
  }
  const credential = readJsonFile(positional[0], 'credential');
  const {keyPair, curve} = await loadKeyPair(values.key);
  const wantCurve = values.suite.startsWith('eddsa') ? 'Ed25519' : 'ECDSA';
  if((wantCurve === 'Ed25519') !== (curve === 'Ed25519')) {
    throw new InputError(
      `--suite ${values.suite} needs a ${wantCurve} key, key is ${curve}`);
  }
  const documentLoader = createDocumentLoader(loadContexts({
    contexts: values.contexts, extra: values.context
  }));
  let date;
  if(values.created) {
    date = new Date(values.created);
    if(isNaN(date)) {
      throw new InputError(`--created ${values.created} is not a date`);
    }
  }
  const existing = credential.proof === undefined ? [] :
    (Array.isArray(credential.proof) ? credential.proof : [credential.proof]);
  const prev = values['previous-proof'];
  const previousProof = prev.length === 0 ? undefined :
    (prev.length === 1 ? prev[0] : prev);

  const signer = keyPair.signer();
  const Suite = (previousProof || values['proof-id']) ? SignChainProof :
    ChainAwareDataIntegrityProof;
  const suite = new Suite({
    signer, date, cryptosuite: cryptosuiteFor(values.suite, 'sign'),
    originalProofs: existing, proofId: values['proof-id'], previousProof
  });

  let signed;
  if(existing.length > 0) {
    // adding to a proof set / chain: sign with jsonld-signatures directly
    // (ProofSet.add keeps the existing proofs as they are)
    signed = await jsigs.sign(structuredClone(credential), {
      suite, documentLoader,
      purpose: new jsigs.purposes.AssertionProofPurpose()
    });
  } else {
    signed = await vc.issue({
      credential: structuredClone(credential), suite, documentLoader
    });
  }
  const text = JSON.stringify(signed, null, 2) + '\n';
  if(values.out) {
    writeFileSync(values.out, text);
  } else {
    process.stdout.write(text);
  }
  return 0;
}

main().then(code => {
  process.exitCode = code;
}).catch(e => {
  process.stderr.write(`sign.mjs: ${e.message}\n`);
  if(!(e instanceof InputError) && process.env.DEBUG) {
    process.stderr.write(`${e.stack}\n`);
  }
  process.exitCode = e instanceof InputError ? 2 : 1;
});
