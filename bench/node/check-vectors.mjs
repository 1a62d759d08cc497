#!/usr/bin/env node
// Self-check of the comparison tools against the W3C test vectors:
//
//   node check-vectors.mjs
//
// 1. runs `node verify.mjs VECTOR --checks proof` (as separate processes)
//    on every signed vector we expect @digitalbazaar/vc 7 to verify, plus a
//    few negative cases;
// 2. re-signs the deterministic (Ed25519) vectors with sign.mjs and compares
//    proofValues with the W3C files (incl. the proof set / chain vectors);
// 3. round-trips fresh keys through sign.mjs -> verify.mjs --checks full for
//    each cryptosuite and curve.
// Scratch files go to bench/out/check/ (git-ignored). Ends with a
// "N passed, N failed" line; exit status 1 if anything failed.
import {execFileSync, spawnSync} from 'node:child_process';
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const V = path.join(ROOT, 'tests', 'vectors');
const ED = path.join(V, 'vc-di-eddsa', 'TestVectors');
const EC = path.join(V, 'vc-di-ecdsa', 'TestVectors');
const PSC = path.join(ED, 'proof-set-chain');
const OUT = path.join(ROOT, 'bench', 'out', 'check');
const CIT = ['--context', 'https://w3id.org/citizenship/v4rc1=' +
  path.join(V, 'contexts', 'citizenship-v4rc1.jsonld')];

let passed = 0;
let failed = 0;
function report(ok, name, detail = '') {
  if(ok) {
    passed++;
  } else {
    failed++;
  }
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? '  ' + detail : ''}`);
}

function verify(file, extra = []) {
  const r = spawnSync(process.execPath,
    [path.join(HERE, 'verify.mjs'), file, ...extra], {encoding: 'utf8'});
  let out;
  try {
    out = JSON.parse(r.stdout);
  } catch(e) {
    out = {verified: false, errors: [r.stdout + r.stderr]};
  }
  return {code: r.status, out};
}

function sign(args) {
  execFileSync(process.execPath, [path.join(HERE, 'sign.mjs'), ...args],
    {stdio: ['ignore', 'ignore', 'inherit']});
}

const readJson = f => JSON.parse(readFileSync(f, 'utf8'));
const rel = f => path.relative(ROOT, f);

mkdirSync(path.join(OUT, 'keys'), {recursive: true});

// 1. W3C vectors
const positive = [
  [path.join(ED, 'eddsa-rdfc-2022', 'signedDataInt.json')],
  [path.join(ED, 'eddsa-rdfc-2022', 'employ', 'signedDataInt.json'), CIT],
  [path.join(ED, 'eddsa-jcs-2022', 'signedJCS.json')],
  [path.join(EC, 'ecdsa-rdfc-2019-p256', 'signedECDSAP256.json')],
  [path.join(EC, 'ecdsa-rdfc-2019-p384', 'signedECDSAP384.json')],
  [path.join(EC, 'ecdsa-rdfc-2019-p256', 'employ', 'signedECDSAP256.json'),
    CIT],
  [path.join(EC, 'ecdsa-rdfc-2019-p384', 'employ', 'signedECDSAP384.json'),
    CIT],
  [path.join(EC, 'ecdsa-jcs-2019-p256', 'signedJCSECDSAP256.json')],
  [path.join(EC, 'ecdsa-jcs-2019-p384', 'signedJCSECDSAP384.json')],
  [path.join(PSC, 'signedProofSet1.json')],
  [path.join(PSC, 'signedProofSet2.json')],
  [path.join(PSC, 'signedProofChain1.json')],
  [path.join(PSC, 'signedProofChain2.json')]
];
for(const [file, extra = []] of positive) {
  const {code, out} = verify(file, ['--checks', 'proof', ...extra]);
  report(code === 0 && out.verified, `verify ${rel(file)}`,
    code === 0 ? `(${out.proofs.length} proof(s), verify ${out.ms.verify} ms)` :
      JSON.stringify(out.errors));
}

// negative cases
{
  const file = path.join(ED, 'eddsa-rdfc-2022', 'signedDataInt.json');
  const {code, out} = verify(file);
  report(code === 1 && out.errors.some(e => /issuer must match/.test(e)),
    'full checks reject W3C vector (issuer is not the signing did:key)');

  const tampered = readJson(file);
  tampered.credentialSubject.alumniOf = 'Another School';
  const tf = path.join(OUT, 'tampered.json');
  writeFileSync(tf, JSON.stringify(tampered));
  const t = verify(tf, ['--checks', 'proof']);
  report(t.code === 1 && /Invalid signature/.test(t.out.errors.join()),
    'tampered credential is rejected');

  const employ = path.join(ED, 'eddsa-rdfc-2022', 'employ',
    'signedDataInt.json');
  const m = verify(employ, ['--checks', 'proof']);
  report(m.code === 1 && /not an offline context/.test(m.out.errors.join()),
    'unknown context URL is refused (offline loader)');

  const chain = readJson(path.join(PSC, 'signedProofChain2.json'));
  chain.proof.splice(1, 1);
  const cf = path.join(OUT, 'chain-missing-previous.json');
  writeFileSync(cf, JSON.stringify(chain));
  const c = verify(cf, ['--checks', 'proof']);
  report(c.code === 1 && /previousProof/.test(c.out.errors.join()),
    'proof chain with a missing previousProof is rejected');

  const unsafe = readJson(file);
  unsafe['@context'] = ['https://www.w3.org/2018/credentials/v1',
    'https://w3id.org/security/data-integrity/v2'];
  unsafe.issuanceDate = unsafe.validFrom;
  delete unsafe.validFrom;
  delete unsafe.name;
  delete unsafe.description;
  const uf = path.join(OUT, 'undefined-term.json');
  writeFileSync(uf, JSON.stringify(unsafe));
  const u = verify(uf, ['--checks', 'proof']);
  report(u.code === 1 && /Safe mode/.test(u.out.errors.join()),
    'undefined term is rejected by jsonld safe mode');

  const bad = verify(path.join(OUT, 'does-not-exist.json'));
  report(bad.code === 2, 'missing input file exits 2');
}

// 2. deterministic re-signing reproduces W3C proofValues
function proofValues(f) {
  const p = readJson(f).proof;
  return [].concat(p).map(x => x.proofValue).join(',');
}
for(const [suite, vector] of [
  ['eddsa-rdfc-2022', path.join(ED, 'eddsa-rdfc-2022', 'signedDataInt.json')],
  ['eddsa-jcs-2022', path.join(ED, 'eddsa-jcs-2022', 'signedJCS.json')]
]) {
  const out = path.join(OUT, `resign-${suite}.json`);
  sign([path.join(ED, 'unsigned.json'), '--key', path.join(ED, 'keyPair.json'),
    '--suite', suite, '--created', '2023-02-24T23:36:38Z', '--out', out]);
  report(proofValues(out) === proofValues(vector),
    `sign.mjs ${suite} reproduces ${rel(vector)}`);
}
{
  const pairs = readJson(path.join(PSC, 'multiKeyPairs.json'));
  const key = i => {
    const f = path.join(OUT, 'keys', `w3c-chain-${i}.json`);
    writeFileSync(f, JSON.stringify(pairs[`keyPair${i}`]));
    return f;
  };
  const ids = {
    p1: 'urn:uuid:26329423-bec9-4b2e-88cb-a7c7d9dc4544',
    p2: 'urn:uuid:8cc9022b-6b14-4cf3-8571-74972c5feb54',
    p3: 'urn:uuid:d94f792a-c546-4d06-b38a-da070ab56c23'
  };
  const s = '--suite';
  const steps = [
    ['signedProofSet1.json', path.join(PSC, 'unsigned.json'),
      [key(1), '2023-02-24T23:36:38Z', '--proof-id', ids.p1]],
    ['signedProofSet2.json', 'signedProofSet1.json',
      [key(2), '2023-02-24T23:36:38Z', '--proof-id', ids.p2]],
    ['signedProofChain1.json', 'signedProofSet2.json',
      [key(3), '2023-02-26T22:06:38Z', '--proof-id', ids.p3,
        '--previous-proof', ids.p1, '--previous-proof', ids.p2]],
    ['signedProofChain2.json', 'signedProofChain1.json',
      [key(4), '2023-02-26T22:16:38Z', '--previous-proof', ids.p3]]
  ];
  for(const [name, input, [k, created, ...rest]] of steps) {
    const inFile = path.isAbsolute(input) ? input : path.join(OUT, input);
    const out = path.join(OUT, name);
    sign([inFile, '--key', k, s, 'eddsa-rdfc-2022', '--created', created,
      ...rest, '--out', out]);
    report(proofValues(out) === proofValues(path.join(PSC, name)),
      `sign.mjs reproduces proof-set-chain/${name}`);
  }
}

// 3. round trips with fresh keys, full checks (issuer = signing did:key)
for(const [suite, curve] of [
  ['eddsa-rdfc-2022', 'Ed25519'], ['eddsa-jcs-2022', 'Ed25519'],
  ['ecdsa-rdfc-2019', 'P-256'], ['ecdsa-rdfc-2019', 'P-384'],
  ['ecdsa-jcs-2019', 'P-256'], ['ecdsa-jcs-2019', 'P-384']
]) {
  const keyFile = path.join(OUT, 'keys', `${curve}.json`);
  execFileSync(process.execPath,
    [path.join(HERE, 'keygen.mjs'), curve, '--out', keyFile]);
  const unsigned = readJson(path.join(ED, 'unsigned.json'));
  unsigned.issuer = readJson(keyFile).controller;
  const uf = path.join(OUT, `roundtrip-${curve}.unsigned.json`);
  writeFileSync(uf, JSON.stringify(unsigned));
  const sf = path.join(OUT, `roundtrip-${suite}-${curve}.json`);
  sign([uf, '--key', keyFile, '--suite', suite, '--out', sf]);
  const {code, out} = verify(sf);
  report(code === 0 && out.verified, `round trip ${suite} ${curve}`,
    code === 0 ? '' : JSON.stringify(out.errors));
}

// inline @context object (make-readings.mjs output): RDFC and JCS suites;
// for JCS this exercises the inline-context workaround in verify.mjs
for(const [suite, curve] of [
  ['eddsa-rdfc-2022', 'Ed25519'], ['eddsa-jcs-2022', 'Ed25519'],
  ['ecdsa-jcs-2019', 'P-256']
]) {
  const keyFile = path.join(OUT, 'keys', `${curve}.json`);
  const uf = path.join(OUT, `readings-48-${curve}.unsigned.json`);
  execFileSync(process.execPath, [path.join(HERE, 'make-readings.mjs'),
    '--count', '48', '--key', keyFile, '--out', uf]);
  const sf = path.join(OUT, `readings-48-${suite}.json`);
  sign([uf, '--key', keyFile, '--suite', suite, '--out', sf]);
  const {code, out} = verify(sf);
  report(code === 0 && out.verified,
    `48 readings (inline context) ${suite} ${curve}`,
    code === 0 ? (out.warnings || []).join('; ') : JSON.stringify(out.errors));
}

console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
