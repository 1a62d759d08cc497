#!/usr/bin/env node
// Independent verifier (comparison tool, not part of the product):
//
//   node verify.mjs FILE [--contexts DIR_OR_MANIFEST] [--context URL=FILE]...
//                        [--checks full|proof] [--now ISO_DATETIME]
//
// Verifies a W3C Verifiable Credential with @digitalbazaar/vc 7 fully
// offline and prints ONE JSON line:
//   {"verified": bool, "errors": [...], "ms": {"startup", "load", "verify"},
//    "checks": "...", "proofs": [{"id", "cryptosuite", "verified"}], ...}
// Exit status: 0 verified, 1 not verified, 2 bad input / usage.
//
// --checks full  (default) vc.verifyCredential with its default
//                CredentialIssuancePurpose: every proof must verify, and the
//                issuer must be the controller of the verification method.
// --checks proof same, but with a plain AssertionProofPurpose: signatures,
//                proof purpose and "VM is an assertionMethod of its did:key
//                controller" are checked; the issuer <-> controller binding
//                and credentialStatus are not. Needed for the W3C vectors,
//                whose issuer is not the did:key that signed them.
// In both modes vc's structural/temporal credential checks (types, issuer
// URL, validFrom/validUntil against --now or the clock) still run.
import {performance} from 'node:perf_hooks';

import * as vc from '@digitalbazaar/vc';
import jsigs from 'jsonld-signatures';

import {
  InputError, alignJcsProofContexts, createDocumentLoader, loadContexts, parseArgs, readJsonFile,
  verifySuitesFor
} from './lib.mjs';

const USAGE = 'usage: node verify.mjs FILE [--contexts DIR_OR_MANIFEST] ' +
  '[--context URL=FILE]... [--checks full|proof] [--now ISO_DATETIME]';

function errorMessages(err, out = []) {
  if(!err) {
    return out;
  }
  if(Array.isArray(err)) {
    err.forEach(e => errorMessages(e, out));
    return out;
  }
  // jsonld-signatures wraps per-proof errors in a VerificationError whose
  // own message says nothing; report the wrapped errors instead
  if(Array.isArray(err.errors) && err.errors.length > 0) {
    return errorMessages(err.errors, out);
  }
  let msg = err.message || String(err);
  // jsonld.js replaces documentLoader errors with a generic message; the
  // loader's own message (e.g. "not an offline context") is the cause
  const cause = err.details && err.details.cause;
  if(cause && cause.message) {
    msg = cause.message;
  }
  // safe-mode errors carry the offending event (e.g. a dropped property)
  const event = err.details && err.details.event;
  if(event && event.code) {
    const d = event.details || {};
    const what = d.property || d.type || d.value || d.iri || d.term;
    msg += ` (${event.code}${what ? ': ' + JSON.stringify(what) : ''})`;
  }
  const text = err.name && err.name !== 'Error' && !msg.startsWith(err.name) ?
    `${err.name}: ${msg}` : msg;
  out.push(text);
  return out;
}

function emit(obj, code) {
  process.stdout.write(JSON.stringify(obj) + '\n');
  process.exitCode = code;
}

async function main() {
  const startup = performance.now();
  const ms = {startup: +startup.toFixed(1), load: 0, verify: 0};
  let args;
  try {
    args = parseArgs(process.argv.slice(2), {
      options: ['contexts', 'checks', 'now'], multi: ['context'],
      flags: ['help']
    });
  } catch(e) {
    return emit({verified: false, errors: [e.message, USAGE], ms}, 2);
  }
  const {positional, values} = args;
  if(values.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  const checks = values.checks || 'full';
  if(positional.length !== 1 || !['full', 'proof'].includes(checks)) {
    return emit({verified: false, errors: [USAGE], ms}, 2);
  }
  let now;
  if(values.now !== undefined) {
    now = new Date(values.now);
    if(isNaN(now)) {
      return emit({verified: false,
        errors: [`--now ${values.now} is not a date`], ms}, 2);
    }
  }
  const file = positional[0];

  // load: read + parse the credential and the offline contexts
  let credential;
  let documentLoader;
  const t0 = performance.now();
  try {
    credential = readJsonFile(file, 'credential');
    if(!credential || typeof credential !== 'object' ||
      Array.isArray(credential)) {
      throw new InputError(`${file} is not a JSON object`);
    }
    const contexts = loadContexts({
      contexts: values.contexts, extra: values.context
    });
    documentLoader = createDocumentLoader(contexts);
  } catch(e) {
    ms.load = +(performance.now() - t0).toFixed(1);
    return emit({verified: false, errors: [e.message], ms},
      e instanceof InputError ? 2 : 1);
  }
  const t1 = performance.now();
  ms.load = +(t1 - t0).toFixed(1);

  // verify
  const errors = [];
  const warnings = [];
  const aligned = alignJcsProofContexts(credential);
  if(aligned.applied) {
    credential = aligned.credential;
    warnings.push('jcs-inline-context workaround applied (the JCS ' +
      'cryptosuites compare inline @context objects by reference)');
  }
  const {proofs, suites, unsupported} = verifySuitesFor(credential);
  let result;
  if(proofs.length === 0) {
    errors.push('credential has no proof');
  } else if(suites.length === 0) {
    errors.push(`no supported proof (found: ${unsupported.join(', ')})`);
  } else {
    const options = {credential, suite: suites, documentLoader};
    if(now) {
      options.now = now;
    }
    if(checks === 'proof') {
      options.purpose = new jsigs.purposes.AssertionProofPurpose();
      if(credential.credentialStatus) {
        warnings.push('credentialStatus not checked (--checks proof)');
        options.checkStatus = async () => ({verified: true});
      }
    } else if(credential.credentialStatus) {
      options.checkStatus = async () => ({
        verified: false,
        error: new Error('credentialStatus present: status checking is ' +
          'not available offline in this tool (use --checks proof)')
      });
    }
    result = await vc.verifyCredential(options);
  }
  const t2 = performance.now();
  ms.verify = +(t2 - t1).toFixed(1);

  // jsonld-signatures reports verified=true if *any* proof verifies; we
  // require every proof to be a supported DataIntegrityProof that verifies.
  const perProof = [];
  let allVerified = proofs.length > 0 && unsupported.length === 0;
  if(unsupported.length > 0 && proofs.length > 0) {
    errors.push(`unsupported proof(s): ${unsupported.join(', ')}`);
  }
  if(result) {
    const results = result.results || [];
    for(const p of proofs) {
      const r = results.find(r => r.proof && r.proof.proofValue ===
        p.proofValue && r.proof.verificationMethod === p.verificationMethod);
      const entry = {
        id: p.id, cryptosuite: p.cryptosuite,
        verificationMethod: p.verificationMethod,
        verified: !!(r && r.verified)
      };
      if(!entry.verified) {
        allVerified = false;
        if(r) {
          entry.errors = errorMessages(r.error);
        } else if(result.verified) {
          // jsonld-signatures silently ignores proofs that match no
          // purpose/suite (e.g. proofPurpose "authentication")
          entry.errors = [`not checked: proofPurpose "${p.proofPurpose}" ` +
            'is not assertionMethod or no suite matched'];
        } else {
          entry.errors = ['not checked: credential failed before proofs ' +
            'were verified'];
        }
        if(r || result.verified) {
          errors.push(...entry.errors.map(
            m => `proof ${p.id || p.cryptosuite}: ${m}`));
        }
      }
      perProof.push(entry);
    }
    if(!result.verified) {
      allVerified = false;
      // top-level errors (credential checks, no matching proofs, status)
      for(const m of errorMessages(result.error)) {
        if(!errors.some(e => e.endsWith(m))) {
          errors.push(m);
        }
      }
      if(result.statusResult && !result.statusResult.verified) {
        errors.push(...errorMessages(result.statusResult.error));
      }
    }
  }
  const verified = allVerified && errors.length === 0;
  const out = {verified, errors, ms, checks, file, proofs: perProof};
  if(warnings.length) {
    out.warnings = warnings;
  }
  emit(out, verified ? 0 : 1);
}

main().catch(e => {
  emit({verified: false, errors: [`internal error: ${e.stack || e}`]}, 2);
});
