// Preloaded (--import) into prebuilt task runners on Node 20, before pg loads. pg's check for a Cloudflare Worker
// constructs a `Response` when no `navigator` global exists (Node < 21), which loads Node's internal undici: about
// 20 ms of CPU per runner start. A `navigator` as Node 21+ defines it answers the check; runner-child.ts removes
// it again before any task code runs, so tasks see Node 20's globals unchanged.
if (!('navigator' in globalThis)) {
  Object.defineProperty(globalThis, 'navigator', {
    value: { userAgent: `Node.js/${process.versions.node.split('.')[0]}`, forgePreload: true },
    configurable: true,
    writable: true,
  })
}
