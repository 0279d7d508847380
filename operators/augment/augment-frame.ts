/**
 * One frame, every sensor: decode, move the pixels (colour images through our resize pass, depth and segmentation
 * through sharp; our warp for rotation), apply the colour ops to colour images only, move the labels with the label camera's geometry and, where a segmentation
 * image exists, tighten them from it; then encode and write. Runs in a worker thread (augment-worker.ts).
 */
import { createHash } from 'node:crypto'
import { readFile, writeFile, copyFile, rename, stat } from 'node:fs/promises'
import sharp, { type JpegOptions, type Sharp } from 'sharp'
import { kittiText, moveObjects, type FrameObject } from './box-labels.ts'
import { axisAligned, type Affine } from './geometry.ts'
import { gaussianBlur } from './gaussian-blur.ts'
import { planFrame, sensorGeometry, type FramePlan, type SensorGeometry } from './frame-plan.ts'
import { tightenBoxes, type MaskImage } from './mask-boxes.ts'
import { addFog, addNoise, addRain, applyTable, warp, type RawImage } from './pixel-ops.ts'
import { resizeWindow, toneOf, toneTable } from './resize-window.ts'
import type { Recipe } from './recipe.ts'

export type SensorKind = 'rgb' | 'depth' | 'semantic' | 'instance' | 'other'

export interface FrameSensor {
  name: string
  kind: SensorKind
  /** Absolute, already checked to lie inside the source shard. */
  input: string
  /** 'png' or 'bgra8' (a .raw file; then width and height are needed). */
  pixelFormat: string
  width?: number
  height?: number
  /** Absolute, already checked to lie inside the output shard. */
  output: string
}

export interface FrameJob {
  shard: string
  frame: number
  recipe: Recipe
  sensors: FrameSensor[]
  /** The camera the labels are for; null when the shard has no labels. */
  labelSensor: string | null
  objects: FrameObject[]
  kittiOutput: string | null
}

export interface WrittenFile {
  path: string
  bytes: number
  sha256: string
}

export interface FrameResult {
  frame: number
  files: WrittenFile[]
  objects: Array<FrameObject & { visibility: number }>
  applied: string[]
  /** The label camera's input → output map, and its output size. */
  matrix: Affine | null
  width: number
  height: number
  tightened: number
  /** Objects the source frame had. */
  sourceObjects: number
}

export async function augmentFrame(job: FrameJob): Promise<FrameResult> {
  const plan = planFrame(job.recipe, job.shard, job.frame)
  const files: WrittenFile[] = []
  const masks = new Map<string, MaskImage>()
  const geometries = new Map<string, SensorGeometry>()
  // Masks first: the labels may be tightened from them.
  const order = [...job.sensors].sort((a, b) => rank(a.kind) - rank(b.kind))
  for (const s of order) {
    if (s.kind === 'other') {
      await copyFile(s.input, s.output + PARTIAL_SUFFIX)
      await rename(s.output + PARTIAL_SUFFIX, s.output)
      files.push(await describe(s.output))
      continue
    }
    const src = await decodeInput(s)
    const geo = sensorGeometry(plan, src.width, src.height, job.recipe.output)
    geometries.set(s.name, geo)
    const body = s.kind === 'rgb' ? await colourImage(src, geo, plan, job.recipe) : await dataImage(src, geo, s, masks)
    await writeAtomic(s.output, body)
    files.push({ path: s.output, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') })
  }
  let objects: FrameResult['objects'] = []
  let tightened = 0
  const geo = job.labelSensor ? geometries.get(job.labelSensor) : undefined
  if (geo) {
    const moved = moveObjects(job.objects, geo.matrix, geo.outW, geo.outH, { minVisibility: job.recipe.labels.minVisibility, flip: plan.flip })
    const mode = job.recipe.labels.tightBoxes
    // An instance image tells objects apart; a semantic one only classes.
    const fits = [...masks.values()].filter((m) => m.width === geo.outW && m.height === geo.outH)
    const mask = fits.find((m) => m.kind === 'instance') ?? fits[0]
    if (mask && (mode === 'always' || (mode === 'rotation' && !axisAligned(geo.matrix)))) tightened = tightenBoxes(moved, mask)
    objects = moved.map(({ region: _region, ...o }) => o)
  }
  if (job.kittiOutput) {
    const text = kittiText(objects)
    await writeAtomic(job.kittiOutput, text)
    files.push({ path: job.kittiOutput, bytes: Buffer.byteLength(text), sha256: createHash('sha256').update(text).digest('hex') })
  }
  return {
    frame: job.frame,
    files,
    objects,
    applied: plan.applied,
    matrix: geo?.matrix ?? null,
    width: geo?.outW ?? 0,
    height: geo?.outH ?? 0,
    tightened,
    sourceObjects: job.objects.length,
  }
}

/** The suffix a frame file is written under before its rename. */
export const PARTIAL_SUFFIX = '.partial'

/** Under a temporary name, then renamed: a file with its final name is whole (a retry trusts it, shard-progress.ts). */
async function writeAtomic(file: string, body: Buffer | string): Promise<void> {
  await writeFile(file + PARTIAL_SUFFIX, body)
  await rename(file + PARTIAL_SUFFIX, file)
}

const rank = (k: SensorKind): number => (k === 'semantic' || k === 'instance' ? 0 : 1)

interface Source {
  img: () => Sharp
  width: number
  height: number
  /** The pixels themselves when they were reordered here (BGRA input): a colour frame starts from them as they are. */
  raw?: RawImage
}

/**
 * Image files are read once and decoded by libvips from memory (a PNG's size comes from its header, without a
 * second pass through libvips); raw BGRA is reordered to RGB (or the tag alone) first.
 */
async function decodeInput(s: FrameSensor): Promise<Source> {
  if (s.pixelFormat !== 'bgra8') {
    const file = await readFile(s.input)
    const size = pngSize(file) ?? (await sharp(file).metadata())
    return { img: () => sharp(file), width: size.width!, height: size.height! }
  }
  if (!s.width || !s.height) throw new Error(`${s.input}: a bgra8 frame needs the sensor's width and height in the manifest`)
  const px = await readFile(s.input)
  if (px.length !== s.width * s.height * 4) throw new Error(`${s.input}: ${px.length} bytes, expected ${s.width}×${s.height}×4`)
  const semantic = s.kind === 'semantic'
  const channels = semantic ? 1 : 3
  const out = Buffer.alloc(s.width * s.height * channels)
  for (let i = 0, j = 0; i < px.length; i += 4, j += channels) {
    if (semantic) out[j] = px[i + 2]!
    else ((out[j] = px[i + 2]!), (out[j + 1] = px[i + 1]!), (out[j + 2] = px[i]!))
  }
  const raw = { data: out, width: s.width, height: s.height, channels }
  return { img: () => sharp(out, { raw: { width: s.width!, height: s.height!, channels } }), width: s.width, height: s.height, raw }
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

/** Width and height from a PNG's IHDR chunk, which the format requires first; null for anything else. */
export function pngSize(file: Buffer): { width: number; height: number } | null {
  if (file.length < 24 || !file.subarray(0, 8).equals(PNG_SIGNATURE) || file.toString('latin1', 12, 16) !== 'IHDR') return null
  return { width: file.readUInt32BE(16), height: file.readUInt32BE(20) }
}

/**
 * Flip, crop and resize in one libvips pipeline (depth and segmentation images). sharp extracts before it flops, whatever the call order, so the
 * window (given in the flipped image) is mirrored back onto the source.
 */
function geometry(img: Sharp, geo: SensorGeometry, kernel: 'nearest'): Sharp {
  const { x, y, w, h } = geo.window
  if (w !== geo.inW || h !== geo.inH) img = img.extract({ left: geo.flip ? geo.inW - x - w : x, top: y, width: w, height: h })
  if (geo.flip) img = img.flop()
  if (w !== geo.outW || h !== geo.outH) img = img.resize(geo.outW, geo.outH, { fit: 'fill', kernel })
  return img
}

async function toRaw(img: Sharp): Promise<RawImage> {
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true })
  return { data, width: info.width, height: info.height, channels: info.channels }
}

const fromRaw = (r: RawImage): Sharp => sharp(r.data, { raw: { width: r.width, height: r.height, channels: r.channels as 1 | 3 | 4 } })

/**
 * Colour: libvips decodes to raw; then crop, flip, resize and tone in one pass of ours, the affine warp, our blur,
 * noise, fog and rain on the raw buffer (the resize and blur in WebAssembly memory when they ran there), and
 * libvips encodes.
 */
async function colourImage(src: Source, geo: SensorGeometry, plan: FramePlan, recipe: Recipe): Promise<Buffer> {
  // A reordered BGRA frame is already raw RGB: passing it through libvips again would only copy it.
  let raw = src.raw ?? (await toRaw(src.img().removeAlpha()))
  const { w, h } = geo.window
  // Borrowed: the pass's output stays in the WebAssembly module's memory until this frame's encode is done.
  if (geo.flip || w !== geo.inW || h !== geo.inH || geo.outW !== geo.inW || geo.outH !== geo.inH)
    raw = resizeWindow(raw, geo.window, geo.flip, geo.outW, geo.outH, toneOf(plan.brightness, plan.contrast, plan.gamma), { borrow: true })
  else {
    const lut = toneTable(plan.brightness, plan.contrast, plan.gamma)
    if (lut) applyTable(raw, lut)
  }
  if (geo.affine) raw = warp(raw, geo.affine, 'bilinear', plan.affine!.fill)
  if (plan.blur !== null) raw = gaussianBlur(raw, plan.blur, { borrow: true })
  if (plan.noise) addNoise(raw, plan.noise.sigma, plan.noise.seed)
  if (plan.fog !== null) addFog(raw, plan.fog)
  if (plan.rain) addRain(raw, plan.rain)
  let img = fromRaw(raw)
  if (recipe.output.format === 'jpeg') return img.jpeg(jpegOptions(plan.jpegQuality ?? recipe.output.quality)).toBuffer()
  if (plan.jpegQuality !== null) img = sharp(await img.jpeg(jpegOptions(plan.jpegQuality)).toBuffer())
  return img.png({ compressionLevel: 1, adaptiveFiltering: false }).toBuffer()
}

/**
 * Baseline JPEG with the standard Huffman tables, as libjpeg and OpenCV write by default: sharp's default of
 * optimised coding adds a second entropy pass for a few percent smaller files.
 */
const jpegOptions = (quality: number): JpegOptions => ({ quality, optimiseCoding: false, chromaSubsampling: '4:2:0' })

/** Depth and segmentation: geometry only, nearest neighbour (values are codes, not intensities), lossless PNG. */
async function dataImage(src: Source, geo: SensorGeometry, s: FrameSensor, masks: Map<string, MaskImage>): Promise<Buffer> {
  const gray = s.kind === 'semantic'
  let img = geometry(src.img(), geo, 'nearest')
  img = gray ? img.extractChannel(0) : img.removeAlpha()
  let raw = await toRaw(img)
  if (geo.affine) raw = warp(raw, geo.affine, 'nearest', 0)
  if (s.kind === 'semantic' || s.kind === 'instance') masks.set(s.name, { ...raw, kind: s.kind })
  const out = fromRaw(raw)
  return (gray ? out.toColourspace('b-w') : out).png({ compressionLevel: 1, adaptiveFiltering: false }).toBuffer()
}

async function describe(file: string): Promise<WrittenFile> {
  const body = await readFile(file)
  return { path: file, bytes: (await stat(file)).size, sha256: createHash('sha256').update(body).digest('hex') }
}
