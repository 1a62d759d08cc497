// Shared helpers for the Node.js comparison tools (verify.mjs, sign.mjs,
// keygen.mjs). This is a benchmarking / interoperability harness built on
// @digitalbazaar/vc 7; it is not part of the Perseus product.
import {existsSync, readFileSync, statSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import * as DidKey from '@digitalbazaar/did-method-key';
import * as EcdsaMultikey from '@digitalbazaar/ecdsa-multikey';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as ecdsaRdfc2019} from
  '@digitalbazaar/ecdsa-rdfc-2019-cryptosuite';
import {cryptosuite as eddsaRdfc2022} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as ecdsaJcs2019 from '@digitalbazaar/ecdsa-jcs-2019-cryptosuite';
import * as eddsaJcs2022 from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';

const HERE = path.dirname(fileURLToPath(import.meta.url));
// bench/node -> repository root
export const REPO_ROOT = path.resolve(HERE, '..', '..');
export const DEFAULT_CONTEXTS_DIR = path.join(REPO_ROOT, 'contexts');

// URL -> file name, used when no manifest.json maps a URL. Files are looked
// up in DIR/w3c/ and then DIR/.
export const DEFAULT_CONTEXT_FILES = {
  'https://www.w3.org/ns/credentials/v2': 'credentials-v2.jsonld',
  'https://www.w3.org/2018/credentials/v1': 'credentials-v1.jsonld',
  'https://www.w3.org/ns/credentials/examples/v2':
    'credentials-examples-v2.jsonld',
  'https://w3id.org/security/data-integrity/v1': 'data-integrity-v1.jsonld',
  'https://w3id.org/security/data-integrity/v2': 'data-integrity-v2.jsonld',
  'https://w3id.org/security/multikey/v1': 'multikey-v1.jsonld',
  'https://www.w3.org/ns/credentials/status/v1':
    'bitstring-status-list-v1.jsonld'
};

export const SUITE_NAMES = [
  'eddsa-rdfc-2022', 'ecdsa-rdfc-2019', 'eddsa-jcs-2022', 'ecdsa-jcs-2019'
];

// A usage / input error: the CLIs exit with status 2 on these.
export class InputError extends Error {
  constructor(message) {
    super(message);
    this.name = 'InputError';
  }
}

export function readJsonFile(file, what = 'file') {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch(e) {
    throw new InputError(`cannot read ${what} ${file}: ${e.message}`);
  }
  try {
    return JSON.parse(text);
  } catch(e) {
    throw new InputError(`${what} ${file} is not valid JSON: ${e.message}`);
  }
}

function _resolveContextFile(dirs, name) {
  if(path.isAbsolute(name)) {
    return existsSync(name) ? name : null;
  }
  for(const dir of dirs) {
    const candidate = path.join(dir, name);
    if(existsSync(candidate)) {
      return candidate;
    }
  }
  return null;
}

// Accepts the manifest shapes we might plausibly adopt:
//   {"URL": "file", ...}
//   {"contexts": {"URL": "file" | {"file"|"path": ...}}}
//   {"contexts": [{"url": ..., "file"|"path": ...}]}  or a bare such array.
function _manifestEntries(manifest, manifestPath) {
  let body = manifest;
  if(body && !Array.isArray(body) && typeof body === 'object' &&
    body.contexts !== undefined) {
    body = body.contexts;
  }
  const entries = [];
  const fileOf = v => typeof v === 'string' ? v :
    (v && (v.file || v.path || v.filename || v.local));
  if(Array.isArray(body)) {
    for(const item of body) {
      const url = item && (item.url || item.id || item['@id'] || item.iri);
      const file = fileOf(item);
      if(typeof url !== 'string' || typeof file !== 'string') {
        throw new InputError(
          `unrecognised entry in context manifest ${manifestPath}: ` +
          JSON.stringify(item));
      }
      entries.push([url, file]);
    }
  } else if(body && typeof body === 'object') {
    for(const [url, v] of Object.entries(body)) {
      if(!/^[a-z][a-z0-9+.-]*:/i.test(url)) {
        continue; // metadata keys such as "version", "comment"
      }
      const file = fileOf(v);
      if(typeof file !== 'string') {
        throw new InputError(
          `unrecognised entry for ${url} in context manifest ${manifestPath}`);
      }
      entries.push([url, file]);
    }
  } else {
    throw new InputError(`context manifest ${manifestPath} is not an object`);
  }
  return entries;
}

/**
 * Builds the offline context table: Map(URL -> parsed JSON-LD document).
 *
 * @param {object} options - Options.
 * @param {string} [options.contexts] - A directory (uses DIR/manifest.json if
 *   present, else the built-in URL -> file-name table) or a manifest file.
 * @param {Array<string>} [options.extra] - "URL=FILE" pairs.
 * @returns {Map<string, object>} The context table.
 */
export function loadContexts({contexts = DEFAULT_CONTEXTS_DIR, extra = []} = {}) {
  let dir;
  let manifestPath = null;
  let st;
  try {
    st = statSync(contexts);
  } catch(e) {
    throw new InputError(`--contexts ${contexts}: ${e.message}`);
  }
  if(st.isDirectory()) {
    dir = contexts;
    const m = path.join(dir, 'manifest.json');
    if(existsSync(m)) {
      manifestPath = m;
    }
  } else {
    manifestPath = contexts;
    dir = path.dirname(contexts);
  }
  const dirs = [dir, path.join(dir, 'w3c')];

  const table = new Map();
  // built-in defaults first (missing files are skipped silently when a
  // manifest is in charge; reported when there is no manifest)
  for(const [url, name] of Object.entries(DEFAULT_CONTEXT_FILES)) {
    const file = _resolveContextFile(dirs, name);
    if(file) {
      table.set(url, file);
    } else if(!manifestPath) {
      throw new InputError(
        `context file ${name} for ${url} not found under ${dir}`);
    }
  }
  if(manifestPath) {
    const manifest = readJsonFile(manifestPath, 'context manifest');
    for(const [url, name] of _manifestEntries(manifest, manifestPath)) {
      const file = _resolveContextFile(dirs, name);
      if(!file) {
        throw new InputError(
          `context file ${name} for ${url} (from ${manifestPath}) not found`);
      }
      table.set(url, file);
    }
  }
  for(const pair of extra) {
    const i = pair.indexOf('=', pair.indexOf(':') + 1);
    if(i < 0) {
      throw new InputError(`--context expects URL=FILE, got ${pair}`);
    }
    const url = pair.slice(0, i);
    const file = path.resolve(pair.slice(i + 1));
    if(!existsSync(file)) {
      throw new InputError(`--context ${url}: file ${file} not found`);
    }
    table.set(url, file);
  }

  const docs = new Map();
  for(const [url, file] of table) {
    const doc = readJsonFile(file, `context file for ${url}`);
    if(!doc || typeof doc !== 'object' || !('@context' in doc)) {
      throw new InputError(`context file ${file} (${url}) has no @context`);
    }
    docs.set(url, doc);
  }
  return docs;
}

// did:key driver that resolves Ed25519 (z6Mk), P-256 (zDna) and P-384 (z82L)
// Multikeys locally (did:key is purely derived from the key bytes).
export function createDidKeyDriver() {
  const driver = DidKey.driver();
  driver.use({
    multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from
  });
  driver.use({
    multibaseMultikeyHeader: 'zDna', fromMultibase: EcdsaMultikey.from
  });
  driver.use({
    multibaseMultikeyHeader: 'z82L', fromMultibase: EcdsaMultikey.from
  });
  return driver;
}

/**
 * An offline documentLoader: serves the given contexts and resolves did:key
 * locally; any other URL throws.
 *
 * @param {Map<string, object>} contexts - URL -> JSON-LD document.
 * @returns {Function} The document loader.
 */
export function createDocumentLoader(contexts) {
  const didKey = createDidKeyDriver();
  return async function documentLoader(url) {
    const doc = contexts.get(url);
    if(doc) {
      return {contextUrl: null, documentUrl: url, document: doc};
    }
    if(typeof url === 'string' && url.startsWith('did:key:')) {
      let document;
      try {
        document = await didKey.get({url});
      } catch(e) {
        throw new Error(`cannot resolve ${url} locally: ${e.message}`);
      }
      return {contextUrl: null, documentUrl: url, document};
    }
    const error = new Error(
      `documentLoader: ${url} is not an offline context or did:key ` +
      '(network access is disabled; add it with --context URL=FILE)');
    error.name = 'NotFoundError';
    throw error;
  };
}

/**
 * Returns the cryptosuite object for a suite name. JCS suites differ between
 * signing and verifying (they expose factories), RDFC suites do not.
 *
 * @param {string} name - Cryptosuite name.
 * @param {'sign'|'verify'} mode - What the suite will be used for.
 * @returns {object} The cryptosuite.
 */
export function cryptosuiteFor(name, mode) {
  switch(name) {
    case 'eddsa-rdfc-2022':
      return eddsaRdfc2022;
    case 'ecdsa-rdfc-2019':
      return ecdsaRdfc2019;
    case 'eddsa-jcs-2022':
      return mode === 'sign' ? eddsaJcs2022.createSignCryptosuite() :
        eddsaJcs2022.createVerifyCryptosuite();
    case 'ecdsa-jcs-2019':
      return mode === 'sign' ? ecdsaJcs2019.createSignCryptosuite() :
        ecdsaJcs2019.createVerifyCryptosuite();
    default:
      return null;
  }
}

function _isDataIntegrity(proof) {
  return proof && proof.type === 'DataIntegrityProof';
}

/**
 * A DataIntegrityProof that understands proof chains (`previousProof`).
 * jsonld-signatures 11 verifies each proof against the document with *all*
 * proofs removed ("TODO: support ProofChain"), which is right for proof sets
 * but wrong for chains: per VC Data Integrity 1.0 "Verify Proof Sets and
 * Chains", a proof with previousProof is verified over the document whose
 * `proof` is the list of the proofs it references. The original proofs are
 * looked up by id in the credential as it was given.
 */
export class ChainAwareDataIntegrityProof extends DataIntegrityProof {
  constructor({originalProofs = [], ...options} = {}) {
    super(options);
    this._originalProofs = originalProofs;
  }

  async verifyProof(options) {
    const {proof, document} = options;
    if(proof.previousProof === undefined) {
      return super.verifyProof(options);
    }
    const ids = Array.isArray(proof.previousProof) ? proof.previousProof :
      [proof.previousProof];
    const matching = [];
    for(const id of ids) {
      const found = this._originalProofs.find(p => p && p.id === id);
      if(!found) {
        const error = new Error(
          `previousProof "${id}" not found in the proof set.`);
        return {verified: false, error};
      }
      matching.push(found);
    }
    return super.verifyProof({...options, document: {...document,
      proof: matching}});
  }
}

export function verifySuitesFor(credential) {
  const proofs = credential.proof === undefined ? [] :
    (Array.isArray(credential.proof) ? credential.proof : [credential.proof]);
  const names = new Set();
  const unsupported = [];
  for(const p of proofs) {
    if(_isDataIntegrity(p) && cryptosuiteFor(p.cryptosuite, 'verify')) {
      names.add(p.cryptosuite);
    } else {
      unsupported.push(p && typeof p === 'object' ?
        `${p.type}${p.cryptosuite ? '/' + p.cryptosuite : ''}` : String(p));
    }
  }
  const suites = [...names].map(name => new ChainAwareDataIntegrityProof({
    cryptosuite: cryptosuiteFor(name, 'verify'), originalProofs: proofs
  }));
  return {proofs, suites, unsupported};
}

/**
 * Loads a key file in our format ({id, controller, publicKeyMultibase,
 * secretKeyMultibase}) or the W3C vectors' ({publicKeyMultibase,
 * privateKeyMultibase}). Missing id/controller default to the did:key.
 *
 * @param {string} file - Key file path.
 * @returns {Promise<object>} A multikey key pair (with .signer()).
 */
export async function loadKeyPair(file) {
  const raw = readJsonFile(file, 'key file');
  const publicKeyMultibase = raw.publicKeyMultibase;
  const secretKeyMultibase = raw.secretKeyMultibase || raw.privateKeyMultibase;
  if(typeof publicKeyMultibase !== 'string' ||
    typeof secretKeyMultibase !== 'string') {
    throw new InputError(
      `key file ${file} needs publicKeyMultibase and secretKeyMultibase ` +
      '(or privateKeyMultibase)');
  }
  const controller = raw.controller || `did:key:${publicKeyMultibase}`;
  const id = raw.id || `${controller}#${publicKeyMultibase}`;
  const key = {
    '@context': 'https://w3id.org/security/multikey/v1',
    type: 'Multikey', id, controller, publicKeyMultibase, secretKeyMultibase
  };
  const prefix = publicKeyMultibase.slice(0, 4);
  try {
    if(prefix === 'z6Mk') {
      return {keyPair: await Ed25519Multikey.from(key), curve: 'Ed25519'};
    }
    if(prefix === 'zDna' || prefix === 'z82L') {
      return {keyPair: await EcdsaMultikey.from(key),
        curve: prefix === 'zDna' ? 'P-256' : 'P-384'};
    }
  } catch(e) {
    throw new InputError(`key file ${file}: ${e.message}`);
  }
  throw new InputError(
    `key file ${file}: unsupported key type (publicKeyMultibase prefix ` +
    `${prefix}; expected z6Mk, zDna or z82L)`);
}

export function parseArgs(argv, {flags = [], options = [], multi = []} = {}) {
  const positional = [];
  const values = {};
  for(const m of multi) {
    values[m] = [];
  }
  for(let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if(arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if(arg.startsWith('--')) {
      let [name, value] = arg.slice(2).split(/=(.*)/s, 2);
      if(flags.includes(name)) {
        values[name] = true;
        continue;
      }
      if(!options.includes(name) && !multi.includes(name)) {
        throw new InputError(`unknown option --${name}`);
      }
      if(value === undefined) {
        if(i + 1 >= argv.length) {
          throw new InputError(`--${name} needs a value`);
        }
        value = argv[++i];
      }
      if(multi.includes(name)) {
        values[name].push(value);
      } else {
        values[name] = value;
      }
    } else {
      positional.push(arg);
    }
  }
  return {positional, values};
}

function _stableJson(v) {
  if(Array.isArray(v)) {
    return `[${v.map(_stableJson).join(',')}]`;
  }
  if(v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map(
      k => `${JSON.stringify(k)}:${_stableJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * Works around a bug in @digitalbazaar/{eddsa-jcs-2022,ecdsa-jcs-2019}-
 * cryptosuite 1.0.0: their verify step "securedDocument.@context starts with
 * proof.@context" compares entries with `!==`, so an inline (object) context
 * never matches after JSON parsing and every such credential fails with
 * "document.@context does not start with proof.@context". The spec means
 * value equality; where a JCS proof's @context entries are deep-equal to the
 * document's, this points them at the document's objects (same values, so
 * the JCS bytes that get hashed are unchanged). Returns the (shallow-copied)
 * credential and whether anything was changed.
 *
 * @param {object} credential - The secured credential.
 * @returns {{credential: object, applied: boolean}} Result.
 */
export function alignJcsProofContexts(credential) {
  if(credential.proof === undefined) {
    return {credential, applied: false};
  }
  let docCtx = credential['@context'];
  docCtx = Array.isArray(docCtx) ? docCtx : [docCtx];
  let applied = false;
  const fix = proof => {
    if(!(proof && typeof proof === 'object' &&
      typeof proof.cryptosuite === 'string' &&
      proof.cryptosuite.includes('-jcs-') && proof['@context'] !== undefined)) {
      return proof;
    }
    const isArray = Array.isArray(proof['@context']);
    const ctx = isArray ? proof['@context'] : [proof['@context']];
    let changed = false;
    const aligned = ctx.map((entry, i) => {
      if(entry && typeof entry === 'object' && i < docCtx.length &&
        entry !== docCtx[i] && _stableJson(entry) === _stableJson(docCtx[i])) {
        changed = true;
        return docCtx[i];
      }
      return entry;
    });
    if(!changed) {
      return proof;
    }
    applied = true;
    return {...proof, '@context': isArray ? aligned : aligned[0]};
  };
  const proof = Array.isArray(credential.proof) ?
    credential.proof.map(fix) : fix(credential.proof);
  return {credential: applied ? {...credential, proof} : credential, applied};
}
