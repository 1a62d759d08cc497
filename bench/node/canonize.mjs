// Cross-implementation fixtures: canonical N-Quads of JSON-LD documents as jsonld.js 9 (rdf-canonize 5)
// computes them. Reads a JSON array of {name, document} and writes the same array with `nquads` (or
// `error`, the jsonld.js error name, when jsonld.js refuses the document in safe mode).
// Usage: node canonize.mjs IN.json > OUT.json   (the Python tests compare our output to OUT.json)
import {readFileSync} from 'node:fs';
import jsonld from 'jsonld';

const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const documentLoader = async url => {
  throw new Error(`no remote contexts in these fixtures (${url})`);
};
const out = [];
for(const c of cases) {
  const entry = {name: c.name, document: c.document, ...(c.rdfDirection ? {rdfDirection: c.rdfDirection} : {})};
  try {
    entry.nquads = await jsonld.canonize(c.document, {
      algorithm: 'RDFC-1.0', format: 'application/n-quads', safe: c.safe ?? true,
      ...(c.rdfDirection ? {rdfDirection: c.rdfDirection} : {}),
      documentLoader
    });
  } catch(e) {
    entry.error = e.name + (e.details?.event?.code ? `: ${e.details.event.code}` : `: ${e.message}`);
  }
  out.push(entry);
}
process.stdout.write(JSON.stringify(out, null, 1) + '\n');
