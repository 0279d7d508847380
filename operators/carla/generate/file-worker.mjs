// Worker thread that turns BGRA camera buffers into files and checksums them, off the thread that reads streams.
// Plain JS on purpose: worker threads do not inherit tsx's or vitest's TypeScript loader, so a .ts worker would
// fail to load under the test runner. Keep the logic here minimal; the typed side is writer-pool.ts.
import { parentPort } from 'node:worker_threads'
import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import sharp from 'sharp'

// libvips may use several threads per image; the pool already runs one worker per core.
sharp.concurrency(1)

parentPort.on('message', async (job) => {
  try {
    const px = new Uint8Array(job.buffer, job.byteOffset, job.byteLength)
    let data
    if (job.encoding === 'raw') data = px
    else if (job.encoding === 'png-rgb') data = await png(bgraToRgb(px), job.width, job.height, 3, job.compression)
    else if (job.encoding === 'png-gray-r') data = await png(channel(px, 2), job.width, job.height, 1, job.compression)
    else throw new Error(`unknown encoding ${job.encoding}`)
    mkdirSync(dirname(job.path), { recursive: true })
    writeFileSync(job.path, data)
    const sha256 = createHash('sha256').update(data).digest('hex')
    // Hand a transferred buffer back so the main thread can reuse it for the next frame.
    const back = job.giveBack ? job.buffer : undefined
    parentPort.postMessage({ id: job.id, ok: true, bytes: data.length, sha256, buffer: back }, back ? [back] : [])
  } catch (err) {
    parentPort.postMessage({ id: job.id, ok: false, error: String(err && err.message ? err.message : err) })
  }
})

function png(pixels, width, height, channels, compression) {
  const img = sharp(pixels, { raw: { width, height, channels } })
  // Without 'b-w' libvips widens one channel to sRGB and the tag image triples in size.
  return (channels === 1 ? img.toColourspace('b-w') : img).png({ compressionLevel: compression ?? 1, adaptiveFiltering: false }).toBuffer()
}

function bgraToRgb(px) {
  const out = new Uint8Array((px.length >> 2) * 3)
  for (let i = 0, j = 0; i < px.length; i += 4, j += 3) {
    out[j] = px[i + 2]
    out[j + 1] = px[i + 1]
    out[j + 2] = px[i]
  }
  return out
}

function channel(px, c) {
  const out = new Uint8Array(px.length >> 2)
  for (let i = c, j = 0; j < out.length; i += 4, j++) out[j] = px[i]
  return out
}
