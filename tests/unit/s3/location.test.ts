import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { UnsafePathError } from '../../../runtime/index.ts'
import { parseManifest, parseS3Options, parseS3Url, S3ManifestError, S3OptionsError } from '../../../operators/s3/index.ts'
import { localPathFor } from '../../../operators/s3/location.ts'

const digest = 'a'.repeat(64)
const manifest = (objects: unknown[]) =>
  Buffer.from(JSON.stringify({ format: 'adas-forge/s3-manifest', version: 1, createdAt: 'x', totalBytes: 0, objects }))

describe('s3 locations, keys and options', () => {
  it('parses s3:// URLs, implying the trailing slash', () => {
    expect(parseS3Url('s3://datasets/carla/v1')).toEqual({ bucket: 'datasets', prefix: 'carla/v1/' })
    expect(parseS3Url('s3://datasets/carla/v1/')).toEqual({ bucket: 'datasets', prefix: 'carla/v1/' })
    expect(parseS3Url('s3://datasets')).toEqual({ bucket: 'datasets', prefix: '' })
  })

  it.each(['http://b/x', 's3://', 's3://B_ad/x', 's3://b/../x', 's3://bucket/a//b', 's3://bucket/a/./b'])('refuses %s', (url) => {
    expect(() => parseS3Url(url)).toThrow(UnsafePathError)
  })

  it('maps keys to paths inside the folder and refuses every key that would leave it', () => {
    expect(localPathFor('/data/out', 'frames/0001.png')).toBe(path.resolve('/data/out/frames/0001.png'))
    for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'a//b', 'a\\..\\b', '.', 'a/./b', 'x\0y', '']) {
      expect(() => localPathFor('/data/out', bad), bad).toThrow(UnsafePathError)
    }
  })

  it('refuses manifests that are not ours, list a key twice, or hold an unsafe key', () => {
    expect(parseManifest(manifest([{ key: 'a', size: 1, sha256: digest }]), 'm').objects).toHaveLength(1)
    expect(() => parseManifest(Buffer.from('{'), 's3://b/p/manifest.json')).toThrow(/^s3:\/\/b\/p\/manifest.json is not JSON/)
    expect(() => parseManifest(Buffer.from('{"format":"other"}'), 'm')).toThrow(S3ManifestError)
    expect(() => parseManifest(manifest([{ key: 'a', size: 1, sha256: 'nothex' }]), 'm')).toThrow(/objects\.0\.sha256/)
    expect(() =>
      parseManifest(
        manifest([
          { key: 'a', size: 1, sha256: digest },
          { key: 'a', size: 2, sha256: digest },
        ]),
        'm',
      ),
    ).toThrow(/lists "a" twice/)
    expect(() => parseManifest(manifest([{ key: 'x/../../y', size: 1, sha256: digest }]), 'm')).toThrow(UnsafePathError)
  })

  it('fills option defaults and names a bad field', () => {
    expect(parseS3Options(undefined)).toMatchObject({
      region: 'us-east-1',
      checksums: 'when_required',
      forcePathStyle: false,
      partSize: 8 * 1024 * 1024,
    })
    expect(() => parseS3Options({ partSize: 1024 })).toThrow(S3OptionsError)
    expect(() => parseS3Options({ partSize: 1024 })).toThrow(/^s3 option partSize: /)
    expect(() => parseS3Options({ endpoint: 'not a url' })).toThrow(/^s3 option endpoint: /)
  })
})
