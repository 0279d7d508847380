// Hashes files and lists directories off the main thread for file-digest.ts (plain JS: workers do not inherit the
// tsx loader).
import { createHash } from 'node:crypto'
import { closeSync, openSync, readFileSync, readSync, readdirSync, statSync } from 'node:fs'
import { parentPort } from 'node:worker_threads'

const CHUNK = 1 << 20

/** One directory's entries; every non-directory is stat'ed (through symlinks), or carries the stat's error. */
function list(dir) {
  const entries = []
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    if (d.isDirectory()) {
      entries.push({ name: d.name, kind: 'dir' })
      continue
    }
    const link = d.isSymbolicLink()
    try {
      const s = statSync(`${dir}/${d.name}`, { bigint: true })
      const kind = s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other'
      entries.push({ name: d.name, kind, link, dev: s.dev, ino: s.ino, size: s.size, mtimeNs: s.mtimeNs, mode: s.mode })
    } catch (err) {
      entries.push({ name: d.name, kind: 'error', link, error: err.message })
    }
  }
  return entries
}

parentPort.on('message', ({ id, op, file, algorithm, partSize }) => {
  try {
    if (op === 'list') {
      parentPort.postMessage({ id, entries: list(file) })
      return
    }
    if (op === 'read') {
      const bytes = readFileSync(file)
      const digest = createHash(algorithm).update(bytes).digest('hex')
      // A fresh ArrayBuffer of exactly the file, so it can be transferred rather than copied.
      const own =
        bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
          ? bytes.buffer
          : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
      parentPort.postMessage({ id, digest, bytes: own }, [own])
      return
    }
    const whole = createHash(algorithm)
    const parts = []
    let part = partSize ? createHash(algorithm) : null
    let inPart = 0
    const buf = Buffer.allocUnsafe(CHUNK)
    const fd = openSync(file, 'r')
    try {
      for (;;) {
        const want = part ? Math.min(CHUNK, partSize - inPart) : CHUNK
        const n = readSync(fd, buf, 0, want, null)
        if (n === 0) break
        const chunk = buf.subarray(0, n)
        whole.update(chunk)
        if (part) {
          part.update(chunk)
          inPart += n
          if (inPart === partSize) {
            parts.push(part.digest('hex'))
            part = createHash(algorithm)
            inPart = 0
          }
        }
      }
    } finally {
      closeSync(fd)
    }
    if (part && inPart > 0) parts.push(part.digest('hex'))
    parentPort.postMessage({ id, digest: whole.digest('hex'), parts: partSize ? parts : undefined })
  } catch (err) {
    parentPort.postMessage({ id, error: { message: err.message, code: err.code } })
  }
})
