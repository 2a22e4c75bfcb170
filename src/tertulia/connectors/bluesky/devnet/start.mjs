// The Bluesky reference network (PLC, PDS, AppView and the Ozone moderation service that
// TestNetwork always starts) on 127.0.0.1, for Tertulia's end-to-end tests.
//
//   DATABASE_URL=postgresql://user:pass@127.0.0.1:5432/db node start.mjs
//
// Prints one JSON line when ready: {"ready": true, "pds": ..., "appview": ..., "plc": ...,
// "ozone": ..., "control": ...}. The control server (127.0.0.1 only) answers
// `POST /process-all`, which waits until the AppView has indexed everything the PDS wrote
// (a new account or post is invisible to the AppView until then).
//
// Shuts down cleanly on SIGTERM or SIGINT, or when stdin closes (the parent test process
// died), dropping its PostgreSQL schemas and its temporary folder.

import dns from 'node:dns'
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

import pg from 'pg'

const HOST = '127.0.0.1'

// The servers inside @atproto/dev-env call `listen(port)`, which binds every interface, and
// offer no host option: bind every listen without an explicit host to loopback instead.
const originalListen = net.Server.prototype.listen
net.Server.prototype.listen = function listenOnLoopback(...args) {
  if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    if (typeof args[1] !== 'string') args.splice(1, 0, HOST)
  } else if (args[0] && typeof args[0] === 'object' && args[0].port !== undefined && !args[0].host) {
    args[0] = { ...args[0], host: HOST }
  }
  return originalListen.apply(this, args)
}
// The services address each other as http://localhost:PORT: make that resolve to 127.0.0.1.
dns.setDefaultResultOrder('ipv4first')

const databaseUrl = process.env.DATABASE_URL || ''
if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
  console.error('start.mjs: DATABASE_URL must be a postgresql:// URL')
  process.exit(2)
}

// PDS data (SQLite actor stores, blobs) goes under os.tmpdir(): point it at our own folder.
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tertulia-bsky-devnet-'))
process.env.TMPDIR = tmpRoot
// TestNetwork asserts a Redis host is configured, but none of the services it starts uses it.
process.env.REDIS_HOST = process.env.REDIS_HOST || `${HOST}:1`
// Quiet logs: the ready line must be easy to find on stdout.
process.env.LOG_ENABLED = process.env.LOG_ENABLED || 'false'

// Schema names may only hold [A-Za-z_]: a random lowercase suffix keeps parallel runs apart.
const schema = `tertulia_${Array.from({ length: 12 }, () => String.fromCharCode(97 + Math.floor(Math.random() * 26))).join('')}`

const { TestNetwork } = await import('@atproto/dev-env')

let network
let control
let stopping = false

async function dropSchemas() {
  const client = new pg.Client({ connectionString: databaseUrl })
  try {
    await client.connect()
    for (const prefix of ['appview_', 'ozone_']) {
      await client.query(`DROP SCHEMA IF EXISTS "${prefix}${schema}" CASCADE`)
    }
  } finally {
    await client.end().catch(() => {})
  }
}

async function stop(code) {
  if (stopping) return
  stopping = true
  const step = async (what, fn) => {
    try {
      await fn()
    } catch (err) {
      console.error(`start.mjs: ${what} failed: ${err?.stack || err}`)
    }
  }
  if (control) await step('closing the control server', () => new Promise((r) => control.close(r)))
  if (network) await step('closing the network', () => network.close())
  await step('dropping schemas', dropSchemas)
  await step('removing the temporary folder', () => fs.promises.rm(tmpRoot, { recursive: true, force: true }))
  process.exit(code)
}

process.on('SIGTERM', () => stop(0))
process.on('SIGINT', () => stop(0))
process.stdin.on('end', () => stop(0))
process.stdin.on('error', () => stop(0))
process.stdin.resume()

function startControl() {
  let queue = Promise.resolve()
  const server = http.createServer((req, res) => {
    const reply = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    if (req.method === 'POST' && req.url === '/process-all') {
      // One at a time: processAll is not meant to run concurrently with itself.
      queue = queue
        .then(() => network.processAll(20000))
        .then(
          () => reply(200, { ok: true }),
          (err) => reply(500, { ok: false, error: String(err?.message || err) }),
        )
      return
    }
    reply(404, { ok: false, error: 'not found' })
  })
  return new Promise((resolve) => server.listen(0, HOST, () => resolve(server)))
}

try {
  network = await TestNetwork.create({ dbPostgresUrl: databaseUrl, dbPostgresSchema: schema })
  control = await startControl()
  const local = (url) => url.replace('//localhost:', `//${HOST}:`)
  const ready = {
    ready: true,
    plc: local(network.plc.url),
    pds: local(network.pds.url),
    appview: local(network.bsky.url),
    ozone: local(network.ozone.url),
    control: `http://${HOST}:${control.address().port}`,
    schema,
  }
  process.stdout.write(`${JSON.stringify(ready)}\n`)
} catch (err) {
  console.error(`start.mjs: the network did not start: ${err?.stack || err}`)
  await stop(1)
}
