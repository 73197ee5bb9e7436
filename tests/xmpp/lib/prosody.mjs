// A throw-away Prosody (Debian's package) for the xmpp tier, on loopback only.
//
//   const p = await startProsody({ dir, accounts: { visitor: 'pw', agent: 'pw' } });
//   p.wsUrl        ws://127.0.0.1:<port>/xmpp-websocket (RFC 7395)
//   p.domain       'localhost'
//   p.register(name, password)   another account (prosodyctl; works while it runs)
//   await p.restart()   stop and start again on the same ports and data: every session,
//                       hibernated stream-management sessions included, is gone; the
//                       archive (MAM) and the accounts stay
//   await p.stop()
//
// The configuration is written into `dir` with the data, the pid file and the log. Only
// 127.0.0.1 is listened on (c2s for nothing but a spare port, HTTP for the WebSocket); no
// s2s, no TLS: plain authentication over ws:// is allowed because nothing leaves the machine.
// Prosody refuses to keep running as root, so as root it runs as the `prosody` user that
// the package creates (the directory is handed to it); otherwise as the current user.

import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort, sleep } from '../../load/lib.mjs';

const PROSODY = '/usr/bin/prosody';
const PROSODYCTL = '/usr/bin/prosodyctl';
const running = new Set();
process.on('exit', () => {
  for (const p of running) {
    try {
      p.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

function asUser() {
  if (process.getuid() !== 0) return null;
  const r = spawnSync('id', ['-u', 'prosody'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error('running as root but there is no "prosody" user (apt-get install prosody)');
  const gid = spawnSync('id', ['-g', 'prosody'], { encoding: 'utf8' });
  return { uid: Number(r.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function chownTree(dir, user) {
  if (!user) return;
  spawnSync('chown', ['-R', `${user.uid}:${user.gid}`, dir]);
}

export function prosodyConfig({ dir, httpPort, c2sPort, domain = 'localhost', hibernationS = 120, runAs = 'prosody' }) {
  return `-- Written by tests/xmpp/lib/prosody.mjs: loopback only, for tests.
prosody_user = "${runAs}"
daemonize = false
pidfile = "${dir}/prosody.pid"
data_path = "${dir}/data"
log = { { levels = { min = "info" }, to = "file", filename = "${dir}/prosody.log" } }
interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_ports = { ${c2sPort} }
c2s_interfaces = { "127.0.0.1" }
s2s_ports = { }
http_ports = { ${httpPort} }
http_interfaces = { "127.0.0.1" }
https_ports = { }
https_interfaces = { }
admin_socket = "${dir}/admin.sock"
modules_enabled = {
  "roster"; "saslauth"; "disco"; "ping"; "time"; "version";
  "carbons"; "mam"; "smacks"; "websocket"; "http";
}
modules_disabled = { "s2s"; "tls"; "offline"; "c2s_tls" }
-- No TLS on loopback: plain authentication over ws:// on 127.0.0.1 only.
c2s_require_encryption = false
s2s_require_encryption = false
allow_unencrypted_plain_auth = true
consider_websocket_secure = true
cross_domain_websocket = true
authentication = "internal_hashed"
storage = "internal"
archive_expires_after = "never"
default_archive_policy = true
max_archive_query_results = 50
smacks_hibernation_time = ${hibernationS}
smacks_max_unacked_stanzas = 0
limits = { c2s = { rate = "10mb/s" } }
VirtualHost "${domain}"
`;
}

export async function startProsody({ dir, accounts = {}, domain = 'localhost', hibernationS = 120 }) {
  if (!existsSync(PROSODY)) throw new Error(`${PROSODY} not found: apt-get install prosody (tests/run.sh does)`);
  const user = asUser();
  mkdirSync(join(dir, 'data'), { recursive: true });
  const httpPort = await freePort(39000, 39499);
  const c2sPort = await freePort(39500, 39999);
  const configPath = join(dir, 'prosody.cfg.lua');
  writeFileSync(configPath, prosodyConfig({ dir, httpPort, c2sPort, domain, hibernationS, runAs: user ? 'prosody' : userInfo().username }));
  chownTree(dir, user);
  if (user) chownSync(dir, user.uid, user.gid);
  const register = (name, password) => {
    const r = spawnSync(PROSODYCTL, ['--config', configPath, 'register', name, domain, password], {
      encoding: 'utf8',
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    if (r.status !== 0) throw new Error(`prosodyctl register ${name}: ${r.stdout}${r.stderr}`);
  };
  for (const [name, password] of Object.entries(accounts)) register(name, password);
  const p = {
    register,
    domain,
    httpPort,
    wsUrl: `ws://127.0.0.1:${httpPort}/xmpp-websocket`,
    logPath: join(dir, 'prosody.log'),
    proc: null,
    log: () => (existsSync(join(dir, 'prosody.log')) ? readFileSync(join(dir, 'prosody.log'), 'utf8') : ''),
  };
  p.start = async () => {
    const out = openSync(join(dir, 'prosody.stdout'), 'a');
    const proc = spawn(PROSODY, ['--config', configPath, '-F'], {
      stdio: ['ignore', out, out],
      cwd: dir,
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
      env: { ...process.env, HOME: dir },
    });
    running.add(proc);
    p.exited = new Promise((ok) => proc.on('exit', (code, signal) => (running.delete(proc), ok({ code, signal }))));
    p.proc = proc;
    const end = Date.now() + 20_000;
    while (Date.now() < end) {
      const code = proc.exitCode;
      if (code !== null) throw new Error(`prosody exited with ${code}:\n${readFileSync(join(dir, 'prosody.stdout'), 'utf8')}\n${p.log()}`);
      const ok = await fetch(`http://127.0.0.1:${httpPort}/xmpp-websocket`).then((r) => r.status > 0, () => false);
      if (ok) return p;
      await sleep(100);
    }
    throw new Error(`prosody did not listen on ${httpPort} within 20 s:\n${p.log()}`);
  };
  p.stop = async (signal = 'SIGTERM') => {
    const proc = p.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode) return;
    proc.kill(signal);
    const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await p.exited;
    clearTimeout(t);
  };
  p.restart = async () => {
    await p.stop();
    await p.start();
  };
  await p.start();
  return p;
}
