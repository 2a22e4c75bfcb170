// A real OpenID provider (node `oidc-provider`, OpenID Certified) on 127.0.0.1, for Tertulia's
// single sign-on tests.
//
//   PORT=0 ACCOUNTS='{"ana":{"email":"ana@acme.test","email_verified":true,"name":"Ana"}}' node server.mjs
//
// Clients register themselves (dynamic client registration, POST /reg), as an administrator would
// in a real identity provider. Sign-in uses oidc-provider's development interactions: the login
// form takes any account id from ACCOUNTS (no password), then a consent form.
//
// Prints one JSON line when ready: {"ready": true, "issuer": "http://127.0.0.1:PORT"}.
// Stops on SIGTERM or SIGINT, or when stdin closes (the test process died).

import http from 'node:http'

import Provider from 'oidc-provider'

const HOST = '127.0.0.1'
const accounts = JSON.parse(process.env.ACCOUNTS || '{}')

// Find a free port first: the issuer URL must name the port before the provider exists.
async function freePort () {
  const requested = Number(process.env.PORT || 0)
  if (requested) return requested
  return await new Promise((resolve, reject) => {
    const probe = http.createServer()
    probe.once('error', reject)
    probe.listen(0, HOST, () => {
      const { port } = probe.address()
      probe.close(() => resolve(port))
    })
  })
}

const port = await freePort()
const issuer = `http://${HOST}:${port}`

const provider = new Provider(issuer, {
  clients: [],
  features: {
    devInteractions: { enabled: true },
    registration: { enabled: true },
  },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
  },
  cookies: { keys: ['tertulia-oidc-test-provider-cookie-key'] },
  async findAccount (ctx, id) {
    const account = accounts[id]
    if (!account) return undefined
    return {
      accountId: id,
      async claims () {
        return { sub: id, ...account }
      },
    }
  },
})

const server = provider.listen(port, HOST, () => {
  process.stdout.write(JSON.stringify({ ready: true, issuer }) + '\n')
})

let stopping = false
function stop () {
  if (stopping) return
  stopping = true
  server.close(() => process.exit(0))
  setTimeout(() => process.exit(0), 2000).unref()
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.stdin.on('end', stop)
process.stdin.resume()
