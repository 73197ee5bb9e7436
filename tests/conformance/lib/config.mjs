// Suite options. run.mjs turns its command-line options into these environment variables,
// so every test file (each runs in its own process under node:test) sees the same values.
//
//   PARLEY_SERVER        base URL of the backend, e.g. http://127.0.0.1:8080 (required)
//   PARLEY_APP           app id for every test except the lifecycle file (default "demo")
//   PARLEY_APPS          comma-separated app ids the lifecycle file runs against (default PARLEY_APP)
//   PARLEY_AGENT_TOKEN   agent API bearer token; unlocks the agent/channel tests
//   PARLEY_JWT_SECRET    HS256 secret of the app's identified-user JWTs; unlocks JWT tests
//   PARLEY_JWT_AUDIENCE  the app's JWT audience (`aud`)
//   PARLEY_TIMEOUT_MS    how long any single wait may take (default 5000)

const env = process.env;

export const cfg = Object.freeze({
  server: (env.PARLEY_SERVER || '').replace(/\/+$/, ''),
  app: env.PARLEY_APP || 'demo',
  apps: (env.PARLEY_APPS || env.PARLEY_APP || 'demo').split(',').map((s) => s.trim()).filter(Boolean),
  agentToken: env.PARLEY_AGENT_TOKEN || '',
  jwtSecret: env.PARLEY_JWT_SECRET || '',
  jwtAudience: env.PARLEY_JWT_AUDIENCE || '',
  timeoutMs: Number(env.PARLEY_TIMEOUT_MS || 5000),
});

if (!cfg.server) {
  throw new Error('PARLEY_SERVER is not set: run the suite through tests/conformance/run.mjs --server URL');
}

// Which options unlock which tests; the skip message names the missing option.
export const NEEDS = {
  agent: { ok: () => Boolean(cfg.agentToken), option: '--agent-token' },
  jwt: { ok: () => Boolean(cfg.jwtSecret), option: '--jwt-secret' },
};

export function missingNeeds(needs = []) {
  return needs.filter((n) => !NEEDS[n].ok()).map((n) => NEEDS[n].option);
}
