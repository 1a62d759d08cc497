#!/usr/bin/env node
// Where does @digitalbazaar/vc's time go on an RDFC-secured credential?
//
//   node phases.mjs FILE [--contexts DIR_OR_MANIFEST] [--context URL=FILE]...
//                        [--repeat N]
//
// Runs, on the credential with its proof removed, the same two steps the
// eddsa-rdfc-2022 / ecdsa-rdfc-2019 cryptosuites run (jsonld.toRDF in safe
// mode, then rdf-canonize RDFC-1.0 with its default limits) and prints one
// JSON line per repetition with quad / blank-node counts and milliseconds
// for each step. Comparison tooling only; not part of the product.
import {createHash} from 'node:crypto';
import {performance} from 'node:perf_hooks';

import jsonld from 'jsonld';
import * as rdfCanonize from 'rdf-canonize';

import {
  InputError, createDocumentLoader, loadContexts, parseArgs, readJsonFile
} from './lib.mjs';

async function main() {
  const {positional, values} = parseArgs(process.argv.slice(2), {
    options: ['contexts', 'repeat'], multi: ['context']
  });
  if(positional.length !== 1) {
    throw new InputError('usage: node phases.mjs FILE [--contexts DIR] ' +
      '[--context URL=FILE]... [--repeat N]');
  }
  const repeat = Number(values.repeat ?? 1);
  const documentLoader = createDocumentLoader(loadContexts({
    contexts: values.contexts, extra: values.context
  }));
  const t0 = performance.now();
  const credential = readJsonFile(positional[0], 'credential');
  const tParse = performance.now() - t0;
  const document = {...credential};
  delete document.proof;
  for(let i = 0; i < repeat; i++) {
    const a = performance.now();
    const dataset = await jsonld.toRDF(document, {
      documentLoader, safe: true, base: null,
      rdfDirection: 'i18n-datatype', produceGeneralizedRdf: false
    });
    const b = performance.now();
    const nquads = await rdfCanonize.canonize(dataset, {
      algorithm: 'RDFC-1.0', format: 'application/n-quads'
    });
    const c = performance.now();
    const digest = createHash('sha256').update(nquads).digest('hex');
    const d = performance.now();
    const blank = new Set();
    for(const q of dataset) {
      for(const t of [q.subject, q.object, q.graph]) {
        if(t.termType === 'BlankNode') {
          blank.add(t.value);
        }
      }
    }
    process.stdout.write(JSON.stringify({
      run: i + 1, quads: dataset.length, blankNodes: blank.size,
      nquadsBytes: Buffer.byteLength(nquads), sha256: digest,
      ms: {
        parse: +tParse.toFixed(1), toRDF: +(b - a).toFixed(1),
        canonize: +(c - b).toFixed(1), hash: +(d - c).toFixed(1)
      }
    }) + '\n');
  }
}

main().catch(e => {
  process.stderr.write(`phases.mjs: ${e.message}\n`);
  process.exitCode = e instanceof InputError ? 2 : 1;
});
