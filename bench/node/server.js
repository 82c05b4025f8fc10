// Reference OpenID provider for bench/run.py: node `oidc-provider`, configured like Passerelle
// (ES256 ID tokens, an RS256 key published too, one client_secret_basic client with the
// authorization_code, refresh_token and client_credentials grants, PKCE S256, pairwise subjects,
// refresh token rotation, opaque access tokens, Passerelle's default lifetimes).
//
//   node server.js --port 5101 --control-port 5102 --workers 2 \
//     --client-id bench --client-secret S --redirect-uri http://127.0.0.1:9/cb
//
// The primary process forks --workers processes with the cluster module; they share --port
// (round-robin) and each runs one Provider with the same ES256 key and client. The primary
// also serves a bench-only control API on --control-port (loopback only, never load-tested):
//
//   GET  /ready                     200 once every worker listens
//   POST /mint?kind=code&count=N    mint N fresh authorization codes (PKCE S256), one Grant
//                                   each; answers the code values, one a line
//   POST /mint?kind=refresh&count=N same for refresh tokens (scope openid offline_access)
//   POST /mint?kind=access&count=N  same for opaque access tokens (UserInfo, introspection):
//                                   a token issued by a code exchange lives only in the memory
//                                   of the worker that issued it
//
// Storage is oidc-provider's own in-memory adapter (lib/adapters/memory_adapter.js), given a
// larger LRU: the stock one keeps only ~1000 entries, so pre-minted codes would be evicted by
// the tokens issued in the first second of a run. Each worker has its own store, and a wrk
// connection may land on any worker, so the primary sends every minted artefact to every
// worker (same jti everywhere). A code is still redeemed once: run.py hands each value out once.

import cluster from 'node:cluster';
import crypto from 'node:crypto';
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: '5101' },
    'control-port': { type: 'string', default: '5102' },
    host: { type: 'string', default: '127.0.0.1' },
    workers: { type: 'string', default: '2' },
    'client-id': { type: 'string', default: 'bench-client' },
    'client-secret': { type: 'string', default: 'bench-secret-0123456789abcdefghijklmnopqrstuvwxyz' },
    'redirect-uri': { type: 'string', default: 'http://127.0.0.1:9/cb' },
    'code-challenge': { type: 'string', default: '' },
    'code-ttl': { type: 'string', default: '60' },
    'lru-size': { type: 'string', default: '500000' },
  },
});

const HOST = opts.host;
if (!['127.0.0.1', 'localhost', '::1'].includes(HOST) && !HOST.startsWith('127.')) {
  throw new Error('bench server binds to loopback only');
}
const PORT = Number(opts.port);
const ISSUER = `http://127.0.0.1:${PORT}`;
const SCOPE = 'openid offline_access';
// Same lifetimes as Passerelle's defaults (idp/config.py).
const TTL = {
  AccessToken: 600,
  AuthorizationCode: Number(opts['code-ttl']), // run.py: 60 s, or longer for long runs
  ClientCredentials: 600,
  IdToken: 300,
  RefreshToken: 14 * 24 * 3600,
  Grant: 14 * 24 * 3600,
  Session: 12 * 3600,
  Interaction: 1800,
};

if (cluster.isPrimary) {
  runPrimary();
} else {
  runWorker();
}

function runPrimary() {
  // Passerelle publishes one ES256 and one RS256 key (RS256 for clients that ask for it) and
  // signs with ES256 by default: the same here, so both JWKS documents carry the same keys.
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const shared = {
    jwks: [
      { ...ec, kid: crypto.randomBytes(8).toString('hex'), alg: 'ES256', use: 'sig' },
      { ...rsa, kid: crypto.randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' },
    ],
    cookieKeys: [crypto.randomBytes(32).toString('base64url')],
    pairwiseSalt: crypto.randomBytes(32).toString('base64url'),
  };
  const n = Math.max(1, Number(opts.workers));
  const workers = [];
  let listening = 0;
  const pending = new Map(); // request id -> { remaining, resolve, reject }
  let nextId = 1;

  for (let i = 0; i < n; i += 1) {
    const w = cluster.fork({ BENCH_SHARED: JSON.stringify(shared) });
    w.on('listening', () => { listening += 1; });
    w.on('message', (msg) => {
      const p = pending.get(msg.id);
      if (!p) return;
      if (msg.error) { pending.delete(msg.id); p.reject(new Error(msg.error)); return; }
      p.remaining -= 1;
      if (p.remaining === 0) { pending.delete(msg.id); p.resolve(); }
    });
    workers.push(w);
  }
  cluster.on('exit', (w, code, signal) => {
    if (!shuttingDown) {
      console.error(`worker ${w.process.pid} died (${signal || code}); stopping`);
      shutdown(1);
    }
  });

  function broadcast(payload) {
    const id = nextId;
    nextId += 1;
    return new Promise((resolve, reject) => {
      pending.set(id, { remaining: workers.length, resolve, reject });
      for (const w of workers) w.send({ ...payload, id });
    });
  }

  async function mint(kind, count) {
    const values = [];
    const CHUNK = 2000;
    for (let done = 0; done < count; done += CHUNK) {
      const items = [];
      for (let i = done; i < Math.min(count, done + CHUNK); i += 1) {
        items.push({
          value: crypto.randomBytes(32).toString('base64url'),
          grantId: crypto.randomBytes(16).toString('base64url'),
          accountId: `user-${i % 1000}`,
        });
      }
      // eslint-disable-next-line no-await-in-loop
      await broadcast({ type: 'mint', kind, items });
      for (const it of items) values.push(it.value);
    }
    return values;
  }

  const control = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://127.0.0.1');
      if (req.method === 'GET' && url.pathname === '/ready') {
        res.writeHead(listening === n ? 200 : 503).end(`${listening}/${n}\n`);
        return;
      }
      if (req.method === 'POST' && url.pathname === '/mint') {
        const kind = url.searchParams.get('kind');
        const count = Number(url.searchParams.get('count') || '0');
        if (!['code', 'refresh', 'access'].includes(kind) || !(count > 0 && count <= 2_000_000)) {
          res.writeHead(400).end('kind=code|refresh|access&count=1..2000000\n');
          return;
        }
        const values = await mint(kind, count);
        res.writeHead(200, { 'content-type': 'text/plain' }).end(`${values.join('\n')}\n`);
        return;
      }
      res.writeHead(404).end();
    } catch (err) {
      res.writeHead(500).end(`${err.stack}\n`);
    }
  });
  control.listen(Number(opts['control-port']), HOST);

  let shuttingDown = false;
  function shutdown(code = 0) {
    if (shuttingDown) return;
    shuttingDown = true;
    control.close();
    for (const w of workers) w.process.kill('SIGTERM');
    setTimeout(() => process.exit(code), 500).unref();
    Promise.all(workers.map((w) => new Promise((r) => {
      if (w.isDead()) r(); else w.once('exit', r);
    }))).then(() => process.exit(code));
  }
  process.on('SIGTERM', () => shutdown(0));
  process.on('SIGINT', () => shutdown(0));
  // run.py holds our stdin: when it goes away (even killed), we go too.
  process.stdin.on('end', () => shutdown(0));
  process.stdin.on('error', () => shutdown(0));
  process.stdin.resume();
}

async function runWorker() {
  const shared = JSON.parse(process.env.BENCH_SHARED);
  const { default: Provider } = await import('oidc-provider');
  const { default: MemoryAdapter } = await import('oidc-provider/lib/adapters/memory_adapter.js');
  const { default: LRU } = await import('oidc-provider/lib/helpers/lru.js');

  const store = new LRU({ maxSize: Number(opts['lru-size']) });
  const clientId = opts['client-id'];
  const redirectUri = opts['redirect-uri'];

  const provider = new Provider(ISSUER, {
    adapter: (model) => new MemoryAdapter(model, store, 0),
    clients: [{
      client_id: clientId,
      client_secret: opts['client-secret'],
      client_name: 'bench',
      redirect_uris: [redirectUri],
      response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'ES256',
      subject_type: 'pairwise', // Passerelle's default
      scope: SCOPE,
    }],
    jwks: { keys: shared.jwks },
    cookies: { keys: shared.cookieKeys },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    subjectTypes: ['public', 'pairwise'],
    pairwiseIdentifier(ctx, accountId, client) {
      return crypto.createHash('sha256')
        .update(`${client.sectorIdentifier}\0${accountId}\0${shared.pairwiseSalt}`)
        .digest('hex');
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name'],
    },
    async findAccount(ctx, sub) {
      return {
        accountId: sub,
        async claims() {
          return {
            sub,
            email: `${sub}@example.test`,
            email_verified: true,
            given_name: 'Bench',
            family_name: sub,
            name: `Bench ${sub}`,
          };
        },
      };
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      userinfo: { enabled: true },
    },
    pkce: { required: () => true },
    rotateRefreshToken: true,
    ttl: { ...TTL },
    issueRefreshToken: async (ctx, client, code) => client.grantTypeAllowed('refresh_token')
      && code.scopes.has('offline_access'),
    renderError(ctx, out) {
      ctx.type = 'json';
      ctx.body = out;
    },
  });
  provider.on('server_error', (ctx, err) => console.error('server_error', err));

  const client = await provider.Client.find(clientId);
  const challenge = opts['code-challenge'];

  async function mintOne(kind, item) {
    const grant = new provider.Grant({ jti: item.grantId, accountId: item.accountId, clientId });
    grant.addOIDCScope(SCOPE);
    await grant.save();
    const now = Math.floor(Date.now() / 1000);
    const common = {
      jti: item.value,
      client,
      accountId: item.accountId,
      grantId: item.grantId,
      scope: SCOPE,
      authTime: now,
      acr: 'urn:passerelle:bench',
      amr: ['pwd'],
      sid: item.grantId,
    };
    if (kind === 'code') {
      await new provider.AuthorizationCode({
        ...common,
        redirectUri,
        codeChallenge: challenge,
        codeChallengeMethod: 'S256',
        nonce: 'bench-nonce',
      }).save();
    } else if (kind === 'access') {
      const token = new provider.AccessToken({ ...common, gty: 'authorization_code' });
      token.format = 'opaque'; // set by the token id generator, skipped when the jti is given
      await token.save();
    } else {
      await new provider.RefreshToken({
        ...common, gty: 'authorization_code', rotations: 0,
      }).save();
    }
  }

  process.on('message', async (msg) => {
    if (msg.type !== 'mint') return;
    try {
      for (const item of msg.items) {
        // eslint-disable-next-line no-await-in-loop
        await mintOne(msg.kind, item);
      }
      process.send({ id: msg.id, ok: true });
    } catch (err) {
      process.send({ id: msg.id, error: String(err && err.stack) });
    }
  });

  const server = http.createServer(provider.callback());
  server.keepAliveTimeout = 65_000;
  server.listen(PORT, HOST);
  process.on('SIGTERM', () => { server.close(); process.exit(0); });
  process.on('disconnect', () => process.exit(0));
}
