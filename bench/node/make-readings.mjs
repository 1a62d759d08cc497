#!/usr/bin/env node
// Generates a large, unsigned VC 2.0 credential for timing verifiers:
//
//   node make-readings.mjs [--count 17520] [--issuer DID | --key KEYFILE]
//                          [--start 2023-01-01T00:00:00Z] [--seed 1]
//                          [--out ../out/readings-17520.json]
//
// credentialSubject.readings holds COUNT half-hourly readings as unordered
// nodes (a plain JSON array under a term with no @container, so an RDF set
// of blank nodes, never an @list); each is {start, end, value, quality}.
// The terms are defined by an inline, @protected context with absolute IRIs
// under https://w3id.org/perseus/vocab# and xsd:dateTime / xsd:decimal
// types. Output is deterministic for a given --seed. Sign it with
//   node sign.mjs OUT --key KEYFILE --suite eddsa-rdfc-2022
// Comparison tooling only; generated files belong in bench/out/ (ignored).
import {mkdirSync, writeFileSync} from 'node:fs';
import path from 'node:path';

import {InputError, parseArgs, readJsonFile} from './lib.mjs';

const VOCAB = 'https://w3id.org/perseus/vocab#';
const XSD = 'http://www.w3.org/2001/XMLSchema#';
const HALF_HOUR_MS = 30 * 60 * 1000;

// small deterministic PRNG (mulberry32)
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function isoSeconds(ms) {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function makeReadingsCredential({
  count = 17520, issuer, start = '2023-01-01T00:00:00Z', seed = 1
} = {}) {
  const t0 = Date.parse(start);
  if(isNaN(t0)) {
    throw new InputError(`--start ${start} is not a date`);
  }
  const rand = prng(seed);
  const readings = [];
  for(let i = 0; i < count; i++) {
    const s = t0 + i * HALF_HOUR_MS;
    // a daily load curve plus noise, kWh per half hour, 3 decimal places
    const hour = (i % 48) / 2;
    const base = 0.15 + 0.35 * Math.max(0, Math.sin((hour - 6) / 24 * 2 *
      Math.PI)) + 0.25 * Math.max(0, Math.sin((hour - 15) / 12 * Math.PI));
    const value = (base + rand() * 0.2).toFixed(3);
    const r = rand();
    const quality = r < 0.97 ? 'measured' : (r < 0.995 ? 'estimated' :
      'substituted');
    readings.push({start: isoSeconds(s), end: isoSeconds(s + HALF_HOUR_MS),
      value, quality});
  }
  const end = isoSeconds(t0 + count * HALF_HOUR_MS);
  return {
    '@context': [
      'https://www.w3.org/ns/credentials/v2',
      {
        '@protected': true,
        MeterReadingsCredential: `${VOCAB}MeterReadingsCredential`,
        MeterReadings: `${VOCAB}MeterReadings`,
        meter: {'@id': `${VOCAB}meter`},
        unit: {'@id': `${VOCAB}unit`},
        readings: {'@id': `${VOCAB}readings`},
        start: {'@id': `${VOCAB}start`, '@type': `${XSD}dateTime`},
        end: {'@id': `${VOCAB}end`, '@type': `${XSD}dateTime`},
        value: {'@id': `${VOCAB}value`, '@type': `${XSD}decimal`},
        quality: {'@id': `${VOCAB}quality`}
      }
    ],
    id: `urn:uuid:5e2b4c1a-0000-4000-8000-${String(count).padStart(12, '0')}`,
    type: ['VerifiableCredential', 'MeterReadingsCredential'],
    issuer,
    validFrom: start,
    credentialSubject: {
      id: 'urn:example:meter:0001',
      type: 'MeterReadings',
      meter: 'urn:example:meter:0001',
      unit: 'kWh',
      readings
    },
    // validUntil left out so that the file stays verifiable; `end` is
    // informative only
    description: `${count} half-hourly readings, ${start} to ${end}`
  };
}

function main() {
  const {positional, values} = parseArgs(process.argv.slice(2), {
    options: ['count', 'issuer', 'key', 'start', 'seed', 'out']
  });
  if(positional.length) {
    throw new InputError(`unexpected argument ${positional[0]}`);
  }
  const count = Number(values.count ?? 17520);
  const seed = Number(values.seed ?? 1);
  if(!Number.isInteger(count) || count < 0 || !Number.isInteger(seed)) {
    throw new InputError('--count and --seed must be integers');
  }
  let issuer = values.issuer;
  if(!issuer && values.key) {
    const key = readJsonFile(values.key, 'key file');
    issuer = key.controller || `did:key:${key.publicKeyMultibase}`;
  }
  if(!issuer) {
    issuer = 'did:example:perseus-bench-issuer';
  }
  const credential = makeReadingsCredential({
    count, issuer, start: values.start, seed
  });
  const text = JSON.stringify(credential, null, 2) + '\n';
  if(values.out) {
    mkdirSync(path.dirname(values.out), {recursive: true});
    writeFileSync(values.out, text);
  } else {
    process.stdout.write(text);
  }
}

try {
  main();
} catch(e) {
  process.stderr.write(`make-readings.mjs: ${e.message}\n`);
  process.exitCode = e instanceof InputError ? 2 : 1;
}
