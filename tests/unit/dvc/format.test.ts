import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { compareCodePoints, dirOid, manifestBytes, pythonJsonString } from '../../../operators/dvc/manifest.ts'
import { dvcFileText, parseDvcFile } from '../../../operators/dvc/dvc-file.ts'
import { yamlScalar } from '../../../operators/dvc/yaml-scalar.ts'
import { escapeGitPattern, gitignoreEntry } from '../../../operators/dvc/gitignore.ts'
import { objectKey } from '../../../operators/dvc/object-path.ts'
import { dvcConfigText } from '../../../operators/dvc/repo-layout.ts'

const md5 = (s: string | Buffer): string => createHash('md5').update(s).digest('hex')

describe('DVC 3 formats: the reference examples, byte for byte', () => {
  it('file md5 is the plain md5 of the raw bytes (no CRLF normalisation)', () => {
    expect(md5('hello\n')).toBe('b1946ac92492d2347c6235b4d2611184')
    expect(md5('')).toBe('d41d8cd98f00b204e9800998ecf8427e')
    expect(md5('x,y\r\n1,2\r\n')).toBe('ef4330228809c42919ada65a11393fd1')
  })

  it('the 3-file manifest: bytes, length and .dir id', () => {
    const bytes = manifestBytes([
      { relpath: 'sub/b.csv', md5: 'ef4330228809c42919ada65a11393fd1' },
      { relpath: 'a.txt', md5: 'b1946ac92492d2347c6235b4d2611184' },
      { relpath: 'empty.bin', md5: 'd41d8cd98f00b204e9800998ecf8427e' },
    ])
    expect(bytes.toString('utf8')).toBe(
      '[{"md5": "b1946ac92492d2347c6235b4d2611184", "relpath": "a.txt"}, {"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "empty.bin"}, {"md5": "ef4330228809c42919ada65a11393fd1", "relpath": "sub/b.csv"}]',
    )
    expect(bytes.length).toBe(203)
    expect(dirOid(bytes)).toBe('f03ca53dff6776871f4047fb9e72f691.dir')
  })

  it('an empty directory is [] with its own id', () => {
    expect(manifestBytes([]).toString()).toBe('[]')
    expect(dirOid(manifestBytes([]))).toBe('d751713988987e9331980363e24189ce.dir')
  })

  it('strings are escaped as json.dumps(ensure_ascii=True) does', () => {
    expect(pythonJsonString('é/日本')).toBe('"\\u00e9/\\u65e5\\u672c"')
    expect(pythonJsonString('😀')).toBe('"\\ud83d\\ude00"')
    expect(pythonJsonString('a"b\\c\n\r\t\b\f\x01\x7f/')).toBe('"a\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u007f/"')
  })

  it('the code-point comparison agrees with comparing code point arrays on mixed BMP, private-use and astral strings', () => {
    const byArrays = (a: string, b: string): number => {
      const x = [...a].map((c) => c.codePointAt(0)!)
      const y = [...b].map((c) => c.codePointAt(0)!)
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1
      return Math.sign(x.length - y.length)
    }
    const alphabet = ['a', 'z', '/', '\u00e9', '\ud7ff', '\ue000', '\uff21', '\uffff', '😀', '\u{10000}', '\u{10ffff}']
    let seed = 7
    const pick = () => alphabet[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % alphabet.length]!
    const word = () => Array.from({ length: 1 + (seed % 4) }, pick).join('')
    for (let i = 0; i < 2000; i++) {
      const a = word()
      const b = word()
      expect([a, b, compareCodePoints(a, b)]).toEqual([a, b, byArrays(a, b)])
    }
  })

  it('entries sort by code point, not UTF-16 unit (astral after U+E000..U+FFFF)', () => {
    const names = ['😀.png', '\uff21.png', 'B', 'a', 'a-b', 'a.b', 'a/b']
    const sorted = [...names].sort(compareCodePoints)
    expect(sorted).toEqual(['B', 'a', 'a-b', 'a.b', 'a/b', '\uff21.png', '😀.png'])
    expect([...names].sort()).not.toEqual(sorted) // the JS default would put the emoji first
    const bytes = manifestBytes(names.map((relpath) => ({ relpath, md5: md5(relpath) }))).toString()
    expect(bytes.indexOf('\\uff21')).toBeLessThan(bytes.indexOf('\\ud83d'))
  })

  it('the .dvc text of a directory', () => {
    expect(dvcFileText({ md5: 'f03ca53dff6776871f4047fb9e72f691.dir', size: 16, nfiles: 3, path: 'data' })).toBe(
      'outs:\n- md5: f03ca53dff6776871f4047fb9e72f691.dir\n  size: 16\n  nfiles: 3\n  hash: md5\n  path: data\n',
    )
  })

  it('the .dvc text of an executable single file, and of a plain one', () => {
    expect(dvcFileText({ md5: 'a87ff679a2f3e71d9181a67b7542122c', size: 1, isexec: true, path: 'model.bin' })).toBe(
      'outs:\n- md5: a87ff679a2f3e71d9181a67b7542122c\n  size: 1\n  isexec: true\n  hash: md5\n  path: model.bin\n',
    )
    expect(dvcFileText({ md5: 'a87ff679a2f3e71d9181a67b7542122c', size: 1, isexec: false, path: 'model.bin' })).toBe(
      'outs:\n- md5: a87ff679a2f3e71d9181a67b7542122c\n  size: 1\n  hash: md5\n  path: model.bin\n',
    )
  })

  it('paths that would read as another YAML type or start with an indicator are single-quoted', () => {
    for (const s of ['123', 'true', '1.5', '2024-01-01', '#x', '- x', 'a: b', 'null', '~', '0x1F', '']) expect(yamlScalar(s)).toBe(`'${s}'`)
    for (const s of ['data', 'my-data.v2', 'carla_2024', 'é', 'a#b', 'x-1', "it's"]) expect(yamlScalar(s)).toBe(s)
    expect(yamlScalar("'quoted")).toBe(`"'quoted"`)
    expect(yamlScalar('tab\x01')).toBe('"tab\\x01"')
    expect(yamlScalar('a\tb\u2028é"\\')).toBe('"a\\tb\\Lé\\"\\\\"')
  })

  it('a .dvc file reads back, quoted paths included', () => {
    const out = { md5: 'f03ca53dff6776871f4047fb9e72f691.dir', size: 16, nfiles: 3, path: '2024-01-01' }
    expect(parseDvcFile(dvcFileText(out))).toEqual({ ...out, isexec: undefined })
  })

  it('.gitignore entries escape glob characters', () => {
    expect(gitignoreEntry('data')).toBe('/data')
    expect(gitignoreEntry('run[1]*?!#')).toBe('/run\\[1\\]\\*\\?\\!\\#')
    expect(escapeGitPattern('plain name')).toBe('plain name')
  })

  it('objects live at files/md5/xx/rest; anything that is not an md5 id is refused', () => {
    expect(objectKey('f03ca53dff6776871f4047fb9e72f691.dir')).toBe('files/md5/f0/3ca53dff6776871f4047fb9e72f691.dir')
    expect(objectKey('b1946ac92492d2347c6235b4d2611184')).toBe('files/md5/b1/946ac92492d2347c6235b4d2611184')
    expect(() => objectKey('../../etc/passwd')).toThrow(/not a DVC md5 object id/)
  })

  it('.dvc/config as configobj writes it', () => {
    expect(dvcConfigText({ name: 'storage', url: 's3://my-bucket/dvcstore' })).toBe(
      '[core]\n    remote = storage\n[\'remote "storage"\']\n    url = s3://my-bucket/dvcstore\n',
    )
  })
})
