/*
 * Shared pieces of the localConfig.cjs files the W3C suites load (through the stub setup.sh writes).
 *
 * The suites find endpoints by tag (see EXPECTATIONS.md for which tags each suite reads) and call
 * them through vc-test-suite-implementations, whose Endpoint merges each endpoint's `headers`
 * setting into every request it makes (POST/PUT/GET). That is how our bearer token travels: a
 * static `Authorization: Bearer …` header — no oauth2 client-credentials flow or zcap needed.
 *
 * Everything that changes per run comes from the environment run.sh sets:
 *   PERSEUS_CONFORMANCE_BASE_URL   https://127.0.0.1:PORT (must be loopback; checked here)
 *   PERSEUS_CONFORMANCE_TOKEN      a token listed in the server's PERSEUS_API_TOKENS (optional)
 *   PERSEUS_CONFORMANCE_DID_EDDSA  the `issuer` (DID) of profile `eddsa`; likewise _P256, _P384
 *   PERSEUS_CONFORMANCE_CRYPTOSUITE_OPTION  "1" (default): select the cryptosuite per issuer
 *                                  endpoint with `options.cryptosuite`; "0": with profile names
 *                                  `<profile>-jcs` instead (see cryptosuiteProfile below).
 */
'use strict';

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

function baseUrl() {
  const value = process.env.PERSEUS_CONFORMANCE_BASE_URL;
  if(!value) {
    throw new Error('PERSEUS_CONFORMANCE_BASE_URL is not set; run the suites through ' +
      'bench/conformance/run.sh (or set it to https://127.0.0.1:PORT).');
  }
  const url = new URL(value);
  if(url.protocol !== 'https:' || !LOOPBACK.has(url.hostname)) {
    throw new Error(`PERSEUS_CONFORMANCE_BASE_URL must be https on loopback, not ${value}`);
  }
  return url.origin;
}

const PROFILES = {
  eddsa: {env: 'PERSEUS_CONFORMANCE_DID_EDDSA', keyType: 'Ed25519'},
  p256: {env: 'PERSEUS_CONFORMANCE_DID_P256', keyType: 'P-256'},
  p384: {env: 'PERSEUS_CONFORMANCE_DID_P384', keyType: 'P-384'},
};

// Used only when a DID was not given: the suites then put this in `credential.issuer`, and an
// issuer that insists on issuing as its own DID will answer 400 — visible, not silent.
const UNKNOWN_DID = 'did:example:perseus-profile-did-not-configured';

function profileDid(profile) {
  const spec = PROFILES[profile];
  if(!spec) {
    throw new Error(`unknown profile ${profile}`);
  }
  return process.env[spec.env] || UNKNOWN_DID;
}

function headers() {
  const token = process.env.PERSEUS_CONFORMANCE_TOKEN;
  return token ? {Authorization: `Bearer ${token}`} : {};
}

const useCryptosuiteOption = () =>
  (process.env.PERSEUS_CONFORMANCE_CRYPTOSUITE_OPTION ?? '1') !== '0';

// With the option switched off, a JCS issuer is a separate profile named `<profile>-jcs`.
function cryptosuiteProfile(profile, cryptosuite) {
  if(useCryptosuiteOption() || !cryptosuite.includes('-jcs-')) {
    return profile;
  }
  return `${profile}-jcs`;
}

/**
 * An issuer endpoint: POST {base}/issuers/{profile}/credentials/issue.
 *
 * `id` is the profile's DID: every suite copies it into `credential.issuer` before asking us to
 * issue, so it must be the DID the profile signs as. `options` is sent as the request's `options`.
 */
function issuer({profile, cryptosuite, tags, options = {}, ...extra}) {
  const name = cryptosuiteProfile(profile, cryptosuite);
  const _options = {...options};
  if(useCryptosuiteOption()) {
    _options.cryptosuite = cryptosuite;
  }
  return {
    id: profileDid(profile),
    endpoint: `${baseUrl()}/issuers/${name}/credentials/issue`,
    headers: headers(),
    options: _options,
    tags,
    ...extra,
  };
}

/**
 * An issuer endpoint that secures credentials as VC-JOSE-COSE `vc+jwt` (an EnvelopedVerifiableCredential
 * answer) instead of a Data Integrity proof: same URL, `options.envelope` instead of `options.cryptosuite`.
 */
function jwtIssuer({profile, tags, ...extra}) {
  return {
    id: profileDid(profile),
    endpoint: `${baseUrl()}/issuers/${profile}/credentials/issue`,
    headers: headers(),
    options: {envelope: 'application/vc+jwt'},
    tags,
    ...extra,
  };
}

/** POST {base}/credentials/verify. */
function verifier({tags, ...extra}) {
  return {
    id: `${baseUrl()}/credentials/verify`,
    endpoint: `${baseUrl()}/credentials/verify`,
    headers: headers(),
    tags,
    ...extra,
  };
}

/** POST {base}/presentations/verify. */
function vpVerifier({tags, ...extra}) {
  return {
    id: `${baseUrl()}/presentations/verify`,
    endpoint: `${baseUrl()}/presentations/verify`,
    headers: headers(),
    tags,
    ...extra,
  };
}

/** The single implementation entry each suite tests; `settings` are vc-test-suite-implementations'. */
function perseus({settings = {}, issuers = [], verifiers = [], vpVerifiers = []}) {
  return {
    settings: {enableInteropTests: false, testAllImplementations: false, ...settings},
    implementations: [{
      name: 'Perseus',
      implementation: 'Perseus credentials',
      issuers,
      verifiers,
      vpVerifiers,
    }],
  };
}

module.exports = {baseUrl, headers, issuer, jwtIssuer, perseus, profileDid, PROFILES, verifier, vpVerifier};
